"""The loop closes, end to end through the services and their reactions after commit: a converted lead's
quote is approved, contracted and ordered; when the order completes the opportunity is won (赢单) on that day
and leaves the forecast, the new customer goes from 潜在 to 在网, its contact is a key person, and the manager
who submitted the quote was told of the approval."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from jiketong import testing
from jiketong.core.models import Notification
from jiketong.customers.models import Contact, Customer, Industry, LifecycleStatus
from jiketong.deals import services
from jiketong.deals.models import OrderStatus
from jiketong.deals.tests.conftest import make_quote
from jiketong.sales import queries as sales_queries
from jiketong.sales import services as sales_services
from jiketong.sales.models import Opportunity, Stage

pytestmark = pytest.mark.django_db


def forecast_total(user, month: date) -> Decimal:
    return sales_queries.forecast(user, start=month, months=1).total


def test_an_approved_quote_contracted_and_completed_wins_the_opportunity_and_the_customer(
    deals, django_capture_on_commit_callbacks
):
    alice, carol = deals.alice, deals.carol
    closes = timezone.localdate() + timedelta(days=40)
    with django_capture_on_commit_callbacks(execute=True):
        lead = sales_services.lead_create(
            actor=alice.user, source="visit", name="广州珠江智慧物流有限公司", uscc=testing.make_uscc("440106"),
            industry=Industry.objects.get(code="it"), contact_name="林先生", contact_title="信息中心主任",
            contact_mobile="13800138000",
        )  # fmt: skip
        lead = sales_services.lead_convert(
            actor=alice.user, lead=lead, expected_close=closes, amount_monthly=Decimal("3680"), opportunity_name="专线"
        )
    customer = Customer.objects.get(pk=lead.customer_id)
    opportunity = Opportunity.objects.get(pk=lead.opportunity_id)
    assert customer.status == LifecycleStatus.PROSPECT
    assert forecast_total(alice.user, closes) > 0

    with django_capture_on_commit_callbacks(execute=True):
        quote = make_quote(alice, customer, (deals.line, 2, "8"))
        services.quote_update(actor=alice.user, quote=quote, opportunity=opportunity)
        quote = services.quote_submit(actor=alice.user, quote=quote)
        services.quote_approve(actor=carol.user, quote=quote, comment="同意，专线价格在城市授权内")
        contract = services.contract_create(
            actor=alice.user, customer=customer, quote=quote, start_on=timezone.localdate(),
            end_on=timezone.localdate() + timedelta(days=364),
        )  # fmt: skip
        contract = services.contract_activate(actor=alice.user, contract=contract)
        order = services.order_create_from_contract(actor=alice.user, contract=contract)
        services.order_set_state(actor=alice.user, order=order, state=OrderStatus.SUBMITTED)
    assert Opportunity.objects.get(pk=opportunity.pk).stage.is_won is False  # not before the order completes

    with django_capture_on_commit_callbacks(execute=True):
        services.order_set_state(actor=alice.user, order=order, state=OrderStatus.COMPLETED)

    opportunity.refresh_from_db()
    assert opportunity.stage == Stage.objects.get(code="won") and opportunity.stage.name == "赢单"
    assert opportunity.closed_on == timezone.localdate()
    assert forecast_total(alice.user, closes) == 0
    assert forecast_total(carol.user, closes) == 0
    customer.refresh_from_db()
    assert customer.status == LifecycleStatus.ACTIVE
    key = Contact.objects.get(customer=customer)
    assert (key.name, key.title, key.is_key_person) == ("林先生", "信息中心主任", True)
    (notice,) = Notification.objects.filter(recipient=alice.user, kind="quote_decision")
    assert "同意，专线价格在城市授权内" in notice.body
    assert notice.url == reverse("deals:quote_detail", args=[quote.pk])
