"""People by name (with their unit) where pages showed logins: quote submitter and approver, ticket events,
lead history, billing imports. The `person` tag looks each person up once per page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.customers.models import Industry
from jiketong.deals import services as deal_services
from jiketong.org.templatetags.people import person_text
from jiketong.sales import services as sales_services
from jiketong.service.tests.factories import receive

pytestmark = pytest.mark.django_db


def between(html: str, start: str, end: str) -> str:
    part = html[html.index(start) :]
    return part[: part.index(end)]


def test_person_is_the_staff_name_with_unit_and_the_login_only_for_users_without_staff(cast):
    assert person_text(cast.alice.user) == "李晓红 (天河区分公司)"
    assert person_text(cast.alice.user, unit=False) == "李晓红"
    from jiketong.testing import system_user

    assert person_text(system_user()) == "system"
    assert person_text(None) == ""


def test_quote_shows_submitter_and_approver_by_name(cast, client_as):
    product = Product.objects.create(
        code="VNET", name="集团V网", category=ProductCategory.VOICE, billing_unit=BillingUnit.PER_MEMBER,
        standard_price=Decimal("100.00"),
    )  # fmt: skip
    quote = deal_services.quote_create(actor=cast.alice.user, customer=cast.alice_customer, title="测试报价")
    deal_services.quote_line_save(actor=cast.alice.user, quote=quote, product=product, quantity=10, discount_pct=10)
    quote = deal_services.quote_submit(actor=cast.alice.user, quote=quote)
    deal_services.quote_approve(actor=cast.carol.user, quote=quote, comment="同意")
    html = client_as(cast.carol).get(reverse("deals:quote_detail", args=[quote.pk])).content.decode()
    assert "李晓红" in html and "陈静" in html
    assert ">alice<" not in html and "carol" not in html


def test_ticket_events_show_who_by_name(cast, client_as):
    ticket = receive(cast.alice, cast.alice_customer)
    html = client_as(cast.alice).get(reverse("service:ticket_detail", args=[ticket.pk])).content.decode()
    assert "李晓红" in html
    assert "<td>alice</td>" not in html


def test_lead_page_shows_creator_and_history_by_name(cast, client_as):
    lead = sales_services.lead_create(
        actor=cast.alice.user, source="visit", name="示例科技有限公司", industry=Industry.objects.get(code="it"),
        confirm_duplicates=True,
    )  # fmt: skip
    html = client_as(cast.alice).get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    history = between(html, 'data-testid="lead-history"', "</ul>")
    assert "李晓红" in history and "alice" not in history
