"""The pages: my scorecard, a unit's scorecard with its ranking, a manager's, settings, months; scope and query
counts (a fixed number whatever the number of managers or customers)."""

import pytest
from django.urls import reverse

from jiketong import testing
from jiketong.assessment import services
from jiketong.core.models import AuditEvent
from jiketong.org.models import Role

from .conftest import MONTH

pytestmark = pytest.mark.django_db
MONTH_Q = "?month=2026-11"


@pytest.fixture
def computed(november):
    services.month_compute(actor=november.frank.user, period=MONTH)
    return november


def test_a_manager_sees_her_scorecard_with_the_worked_total(computed, client_as):
    response = client_as(computed.alice).get(reverse("assessment:mine") + MONTH_Q)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="total">67.5<' in html
    assert "85.7%" in html  # login 18 ÷ 21


def test_a_manager_cannot_read_a_colleagues_scorecard(computed, client_as):
    url = reverse("assessment:manager", args=[computed.bob.pk]) + MONTH_Q
    assert client_as(computed.alice).get(url).status_code == 404
    assert client_as(computed.carol).get(url).status_code == 200
    assert client_as(computed.dave).get(url).status_code == 404


def test_the_supervisor_sees_the_ranking_of_her_city(computed, client_as):
    response = client_as(computed.carol).get(reverse("assessment:unit") + MONTH_Q)
    html = response.content.decode()
    assert response.status_code == 200
    assert computed.alice.name in html and computed.bob.name in html
    assert computed.ivan.name not in html  # 深圳 is not 广州
    assert "天河区分公司" in html and "越秀区分公司" not in html  # the county below with managers


def test_a_manager_is_sent_to_her_own_card_and_a_supervisor_to_the_unit(computed, client_as):
    assert client_as(computed.carol).get(reverse("assessment:mine")).url == reverse("assessment:unit")


def test_pages_cost_the_same_queries_with_more_managers(computed, client_as, django_assert_max_num_queries):
    urls = [
        (computed.alice, reverse("assessment:mine") + MONTH_Q),
        (computed.carol, reverse("assessment:unit") + MONTH_Q),
        (computed.carol, reverse("assessment:manager", args=[computed.alice.pk]) + MONTH_Q),
        (computed.carol, reverse("assessment:settings")),
        (computed.carol, reverse("assessment:months")),
    ]
    counts = []
    for person, url in urls:
        client = client_as(person)
        with django_assert_max_num_queries(30) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured.captured_queries))
    for n in range(30):
        manager = testing.make_staff(f"m{n}", computed.org["440106"], [Role.CUSTOMER_MANAGER], name=f"经理{n}")
        testing.make_customer(org_unit=computed.org["440106"], owner=manager)
    services.month_compute(actor=computed.frank.user, period=MONTH)
    for (person, url), count in zip(urls, counts, strict=True):
        client = client_as(person)
        with django_assert_max_num_queries(count):
            assert client.get(url).status_code == 200


def test_the_ranking_exports_to_excel_and_the_export_is_audited(computed, client_as):
    response = client_as(computed.carol).get(reverse("assessment:unit_export") + MONTH_Q)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action="export", target_type="assessment.scorecards")
    assert event.after["count"] == 2


def test_the_settings_page_saves_a_version_and_shows_every_error(computed, client_as):
    client = client_as(computed.carol)
    url = reverse("assessment:settings")
    data = {"unit": computed.org["440106"].pk, "valid_from": "2026-12", "cap": "1.20", "base_version": "0"}
    from jiketong.assessment.components import COMPONENTS

    for component in COMPONENTS:
        data[f"{component.code}_weight"] = component.weight
        data[f"{component.code}_target"] = str(component.target)
    data["visits_weight"] = "150"
    data["cap"] = "5"
    response = client.post(url, data)
    assert response.status_code == 200
    assert len(response.context["form"].errors) == 2
    data["visits_weight"], data["cap"] = "20", "1.20"
    assert client.post(url, data).status_code == 302


@pytest.mark.parametrize("param", ["staff", "unit"])
def test_an_id_past_the_largest_key_is_not_found_not_a_server_error(computed, client_as, param):
    huge = "9" * 30
    assert client_as(computed.frank).get(reverse("assessment:settings") + f"?{param}={huge}").status_code == 404
    assert client_as(computed.carol).get(reverse("assessment:unit") + f"?unit={huge}").status_code == 404


def test_a_manager_cannot_open_the_settings_or_close_a_month(computed, client_as):
    client = client_as(computed.alice)
    assert client.get(reverse("assessment:settings")).status_code == 403
    client.post(reverse("assessment:close"), {"period": "2026-11"})
    from jiketong.assessment.queries import is_closed

    assert not is_closed(MONTH)


def test_the_administrator_closes_the_month_from_the_months_page(computed, client_as):
    client = client_as(computed.frank)
    assert client.post(reverse("assessment:close"), {"period": "2026-11"}).status_code == 302
    page = client_as(computed.carol).get(reverse("assessment:unit") + MONTH_Q)
    html = page.content.decode()
    assert page.context["closed"] is True and page.context["score"].closed is True
    assert 'data-testid="month-status">已关账：数据已冻结</span>' in html and "未关账" not in html


def test_the_ranking_pages_as_an_htmx_fragment(computed, client_as):
    response = client_as(computed.carol).get(reverse("assessment:unit") + MONTH_Q, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div class="card" id="ranking">')
    assert computed.alice.name in html
