"""Finding your way: the sidebar lights exactly one entry, the one whose address best matches the page."""

import re

import pytest
from django.urls import reverse

from jiketong.org.models import Role
from jiketong.testing import make_staff

pytestmark = pytest.mark.django_db
ACTIVE = re.compile(r'<a class="nav-link active"[^>]*href="([^"]+)"')


def sidebar(html: str) -> str:
    return html[html.index('id="sidebar"') : html.index("</nav>", html.index('id="sidebar"'))]


def active_links(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return ACTIVE.findall(sidebar(response.content.decode()))


@pytest.fixture
def seller(cast):
    """A manager who sees the whole sales loop (leads, my pipeline, quotes, contracts, orders)."""
    return cast.alice


@pytest.mark.parametrize(
    ("page", "entry"),
    [
        ("home", "home"),
        ("customers:list", "customers:list"),
        ("sales:lead_list", "sales:lead_list"),
        ("sales:board", "sales:board"),
        ("sales:mine", "sales:mine"),
        ("sales:forecast", "sales:forecast"),
        ("deals:quote_list", "deals:quote_list"),
        ("deals:contract_list", "deals:contract_list"),
        ("deals:order_list", "deals:order_list"),
        ("work:agenda", "work:agenda"),
        ("work:task_list", "work:task_list"),
        ("work:activity_list", "work:activity_list"),
        ("service:ticket_list", "service:ticket_list"),
    ],
)
def test_one_entry_is_active_on_each_menu_page(cast, client_as, seller, page, entry):
    assert active_links(client_as(seller), reverse(page)) == [reverse(entry)]


@pytest.mark.parametrize(
    ("page", "entry"),
    [
        ("work:coverage", "work:coverage"),
        ("work:follow_ups", "work:coverage"),  # another compliance report: the compliance entry
        ("work:absent_users", "work:coverage"),
        ("work:handovers", "work:handovers"),
        ("deals:approval_queue", "deals:approval_queue"),
        ("service:breach_board", "service:breach_board"),
        ("analytics:dashboard", "analytics:dashboard"),
        ("analytics:indicators", "analytics:dashboard"),
    ],
)
def test_supervisor_pages_light_their_own_entry(cast, client_as, page, entry):
    assert active_links(client_as(cast.carol), reverse(page)) == [reverse(entry)]


def test_a_record_lights_the_list_it_belongs_to(cast, client_as):
    from datetime import date

    from jiketong.sales import services as sales_services

    opportunity = sales_services.opportunity_create(
        actor=cast.alice.user, customer=cast.alice_customer, name="专线升级", expected_close=date(2026, 12, 15)
    )
    client = client_as(cast.alice)
    assert active_links(client, reverse("customers:detail", args=[cast.alice_customer.pk])) == [
        reverse("customers:list")
    ]
    assert active_links(client, reverse("sales:opportunity_detail", args=[opportunity.pk])) == [reverse("sales:board")]
    assert active_links(client, reverse("deals:quote_create", args=[cast.alice_customer.pk])) == [
        reverse("deals:quote_list")
    ]
    assert active_links(client, reverse("deals:contract_create", args=[cast.alice_customer.pk])) == [
        reverse("deals:contract_list")
    ]


def test_audit_log_lights_its_entry(cast, client_as):
    assert active_links(client_as(cast.grace), reverse("audit:list")) == [reverse("audit:list")]


def test_inside_sales_my_pipeline(cast, client_as):
    staff = make_staff("ines", cast.org["440106"], [Role.INSIDE_SALES], name="林静")
    assert active_links(client_as(staff), reverse("sales:mine")) == [reverse("sales:mine")]
