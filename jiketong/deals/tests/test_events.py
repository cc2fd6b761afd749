"""What the deals services tell the other apps (core.events): recorded with the change, carrying the payload
core.events.EVENTS promises, and nothing when the change rolls back."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jiketong.core.events import EVENTS
from jiketong.core.models import Event
from jiketong.deals import services
from jiketong.deals.models import ContractStatus, OrderStatus
from jiketong.deals.tests.conftest import make_quote
from jiketong.sales import services as sales_services

pytestmark = pytest.mark.django_db


def only(name: str) -> Event:
    event = Event.objects.get(name=name)
    # The customer travels as the event's customer_id; the payload holds the rest of what EVENTS lists.
    assert set(event.payload) == set(EVENTS[name][1]) - {"customer"}, event.payload
    return event


@pytest.fixture
def opportunity(deals):
    return sales_services.opportunity_create(
        actor=deals.alice.user, customer=deals.alice_customer, name="地铁专线", expected_close=date(2026, 12, 15)
    )


def contract_for(deals, quote, **fields):
    return services.contract_create(
        actor=deals.alice.user,
        customer=deals.alice_customer,
        quote=quote,
        start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31),
        **fields,
    )


def test_completing_an_order_records_its_opportunity_subscriptions_and_date(deals, opportunity):
    quote = make_quote(deals.carol, deals.alice_customer, (deals.vnet, 10, "5"))
    services.quote_update(actor=deals.carol.user, quote=quote, opportunity=opportunity)
    quote = services.quote_submit(actor=deals.carol.user, quote=quote)
    contract = services.contract_activate(actor=deals.alice.user, contract=contract_for(deals, quote))
    order = services.order_create_from_contract(actor=deals.alice.user, contract=contract)
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.SUBMITTED)
    order, _changed = services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED)
    completed = only("order.completed")
    assert completed.customer_id == deals.alice_customer.pk and completed.actor == deals.alice.user
    subscriptions = list(order.lines.values_list("subscription_id", flat=True))
    assert completed.payload == {
        "order": order.pk,
        "number": order.number,
        "quote": quote.pk,
        "contract": contract.pk,
        "opportunity": opportunity.pk,
        "subscriptions": subscriptions,
        "completed_on": timezone.localdate().isoformat(),
    }
    changes = Event.objects.filter(name="order.state_changed").order_by("id")
    assert [(e.payload["from_status"], e.payload["to_status"]) for e in changes] == [
        ("draft", "submitted"),
        ("submitted", "completed"),
    ]
    assert all(set(e.payload) == {"order", "from_status", "to_status"} for e in changes)


def test_an_order_straight_from_a_quote_finds_its_opportunity_through_the_quote(deals, opportunity):
    quote = make_quote(deals.carol, deals.alice_customer, (deals.vnet, 1, "0"))
    services.quote_update(actor=deals.carol.user, quote=quote, opportunity=opportunity)
    quote = services.quote_submit(actor=deals.carol.user, quote=quote)
    order = services.order_create_from_quote(actor=deals.alice.user, quote=quote)
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.SUBMITTED)
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED)
    payload = only("order.completed").payload
    assert (payload["opportunity"], payload["quote"], payload["contract"]) == (opportunity.pk, quote.pk, None)


def test_asking_for_the_state_an_order_is_in_records_nothing(deals):
    quote = services.quote_submit(actor=deals.carol.user, quote=make_quote(deals.carol, deals.alice_customer,
                                                                            (deals.vnet, 1, "0")))  # fmt: skip
    order = services.order_create_from_quote(actor=deals.alice.user, quote=quote)
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.SUBMITTED)
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.SUBMITTED)
    assert Event.objects.filter(name="order.state_changed").count() == 1


def test_a_completion_that_rolls_back_leaves_no_event(deals):
    quote = services.quote_submit(actor=deals.carol.user, quote=make_quote(deals.carol, deals.alice_customer,
                                                                            (deals.vnet, 1, "0")))  # fmt: skip
    order = services.order_create_from_quote(actor=deals.alice.user, quote=quote)
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.SUBMITTED)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED)
        raise RuntimeError("the caller's transaction fails after the service")
    assert not Event.objects.filter(name="order.completed").exists()
    assert Event.objects.filter(name="order.state_changed").count() == 1  # draft → submitted only


def test_submitting_for_approval_names_the_level_and_its_approvers(deals, quote_at):
    quote = quote_at("5")
    event = only("quote.submitted")
    assert event.payload == {"quote": quote.pk, "level": "city", "approvers": [deals.carol.user.pk]}
    assert not Event.objects.filter(name="quote.decided").exists()


def test_an_automatic_approval_is_decided_by_nobody(deals, quote_at):
    quote = quote_at("0")
    assert only("quote.submitted").payload["approvers"] == []
    decided = only("quote.decided").payload
    assert decided["quote"] == quote.pk and decided["decision"] == "approved"
    assert decided["submitted_by"] == deals.alice.user.pk and decided["decided_by"] is None


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_a_decision_records_who_decided_with_the_comment(deals, quote_at, decide):
    quote = quote_at("5")
    service = services.quote_approve if decide == "approve" else services.quote_reject
    service(actor=deals.carol.user, quote=quote, comment="价格合理")
    event = only("quote.decided")
    assert event.actor == deals.carol.user
    assert event.payload == {
        "quote": quote.pk,
        "decision": "approved" if decide == "approve" else "rejected",
        "comment": "价格合理",
        "submitted_by": deals.alice.user.pk,
        "decided_by": deals.carol.user.pk,
    }


def test_contract_status_changes_are_recorded_by_people_and_by_the_daily_clock(deals, quote_at):
    quote = quote_at("0")
    signed = contract_for(deals, quote, number="HT-A")
    services.contract_activate(actor=deals.alice.user, contract=signed)
    ending = contract_for(deals, quote, number="HT-B")
    services.contract_activate(actor=deals.alice.user, contract=ending)
    services.contract_terminate(actor=deals.alice.user, contract=ending, reason="客户搬迁")
    renewing = contract_for(deals, quote, number="HT-C", auto_renew=True)
    services.contract_activate(actor=deals.alice.user, contract=renewing)
    before = Event.objects.order_by("-id").values_list("id", flat=True).first()
    clock = Event.objects.filter(name="contract.status_changed", pk__gt=before)

    today = date(2026, 10, 15)  # HT-A is within the 90-day window; move HT-C past its end
    type(renewing).objects.filter(pk=renewing.pk).update(end_on=today - timedelta(days=1))
    services.contracts_daily(today)
    changes = {(e.payload["contract"], e.payload["from_status"], e.payload["to_status"]) for e in clock}
    renewal = renewing.__class__.objects.get(previous=renewing)
    assert changes == {
        (signed.pk, ContractStatus.ACTIVE, ContractStatus.EXPIRING),
        (renewing.pk, ContractStatus.ACTIVE, ContractStatus.RENEWED),
        (renewal.pk, "", ContractStatus.ACTIVE),
    }
    assert all(e.actor is None for e in clock)
    services.contracts_daily(today)  # the clock is idempotent, and so are its events
    assert clock.count() == 3


def test_people_changing_a_contract_record_each_change(deals, quote_at):
    contract = contract_for(deals, quote_at("0"))
    services.contract_activate(actor=deals.alice.user, contract=contract)
    services.contract_terminate(actor=deals.alice.user, contract=contract, reason="客户搬迁")
    changes = [
        (e.payload["from_status"], e.payload["to_status"], e.actor_id)
        for e in Event.objects.filter(name="contract.status_changed").order_by("id")
    ]
    assert changes == [("draft", "active", deals.alice.user.pk), ("active", "terminated", deals.alice.user.pk)]
