"""The sales events and reactions: a completed order wins its opportunity (which leaves the forecast), a
conversion and a stage change are recorded for the other apps, and a converted lead's contact becomes a key
person of the customer (the archive's reaction)."""

from datetime import date

import pytest
from django.utils import timezone

from jiketong.core import events
from jiketong.core.events import EVENTS
from jiketong.core.models import AuditAction, AuditEvent, Event
from jiketong.customers import reactions as customer_reactions
from jiketong.customers.models import Contact
from jiketong.customers.services import contact_create
from jiketong.sales import queries, reactions, services
from jiketong.sales.models import StageChange

pytestmark = pytest.mark.django_db
CLOSES = date(2027, 1, 20)


@pytest.fixture
def react(django_capture_on_commit_callbacks):
    """Record an event as a service would, and run its reactions after the commit."""

    def emit(name, customer, actor=None, **payload):
        with django_capture_on_commit_callbacks(execute=True):
            return events.emit(name, customer_id=customer.pk, actor=actor, **payload)

    return emit


def completed(react, cast, opportunity, **payload):
    values = {"order": 9, "number": "DD000009", "quote": None, "contract": None, "opportunity": opportunity.pk,
              "subscriptions": [], "completed_on": "2026-11-30"} | payload  # fmt: skip
    return react("order.completed", cast.alice_customer, actor=cast.alice.user, **values)


def forecast_total(user) -> int:
    return queries.forecast(user, start=date(2027, 1, 1), months=1).total


def test_a_completed_order_wins_its_opportunity_on_the_completion_date(cast, make_opportunity, stage, react):
    opportunity = make_opportunity(cast.alice, cast.alice_customer, expected_close=CLOSES, amount_monthly=1000)
    services.opportunity_move(cast.alice.user, opportunity, stage["solution"])
    assert forecast_total(cast.alice.user) > 0
    completed(react, cast, opportunity)
    opportunity.refresh_from_db()
    assert opportunity.stage == stage["won"] and opportunity.closed_on == date(2026, 11, 30)
    change = StageChange.objects.filter(opportunity=opportunity).latest("id")
    assert (change.from_stage, change.to_stage, change.changed_by) == (stage["solution"], stage["won"], cast.alice.user)
    assert "DD000009" in change.note
    audit = AuditEvent.objects.filter(action=AuditAction.STAGE, target_id=opportunity.pk).latest("id")
    assert audit.after["stage"] == stage["won"].pk and "DD000009" in audit.note
    # Won is not open pipeline: the forecast no longer counts it.
    assert forecast_total(cast.alice.user) == 0


def test_the_same_completion_handled_twice_wins_once(cast, make_opportunity, stage, react):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    event = completed(react, cast, opportunity)
    reactions.order_completed(event)
    reactions.order_completed(Event.objects.get(pk=event.pk))
    assert StageChange.objects.filter(opportunity=opportunity, to_stage=stage["won"]).count() == 1
    assert Event.objects.filter(name="opportunity.stage_changed", payload__outcome="won").count() == 1


def test_an_opportunity_already_lost_is_left_alone(cast, make_opportunity, stage, react):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    services.opportunity_move(cast.alice.user, opportunity, stage["lost"], lost_reason="预算取消")
    completed(react, cast, opportunity)
    opportunity.refresh_from_db()
    assert opportunity.stage == stage["lost"] and opportunity.closed_on == timezone.localdate()


def test_an_order_without_an_opportunity_changes_no_opportunity(cast, make_opportunity, stage, react):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    react("order.completed", cast.alice_customer, order=9, number="DD000009", quote=None, contract=None,
          opportunity=None, subscriptions=[], completed_on="2026-11-30")  # fmt: skip
    opportunity.refresh_from_db()
    assert opportunity.stage == stage["discovery"]


def test_an_order_completed_by_boss_with_nobody_acting_still_wins(cast, make_opportunity, stage, react):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    react("order.completed", cast.alice_customer, order=9, number="DD000009", quote=None, contract=None,
          opportunity=opportunity.pk, subscriptions=[], completed_on="2026-11-30")  # fmt: skip
    opportunity.refresh_from_db()
    assert opportunity.stage == stage["won"]
    assert StageChange.objects.filter(opportunity=opportunity).latest("id").changed_by is None


def test_a_move_records_the_stage_change_with_its_outcome(cast, make_opportunity, stage):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    services.opportunity_move(cast.alice.user, opportunity, stage["solution"])
    services.opportunity_move(cast.alice.user, opportunity, stage["lost"], lost_reason="预算取消")
    moves = Event.objects.filter(name="opportunity.stage_changed").order_by("id")
    assert [(e.payload["from_stage"], e.payload["to_stage"], e.payload["outcome"]) for e in moves] == [
        ("discovery", "solution", "open"),
        ("solution", "lost", "lost"),
    ]
    assert all(set(e.payload) == set(EVENTS[e.name][1]) - {"customer"} for e in moves)
    assert {e.customer_id for e in moves} == {cast.alice_customer.pk}


# --- lead conversion ---------------------------------------------------------------------------------
@pytest.fixture
def converted(cast, make_lead, django_capture_on_commit_callbacks):
    def convert(customer=None, **fields):
        values = {"contact_name": "林 先生", "contact_title": "信息中心主任", "contact_mobile": "13800138000"}
        lead = make_lead(cast.alice, **(values | fields))
        with django_capture_on_commit_callbacks(execute=True):
            return services.lead_convert(
                actor=cast.alice.user, lead=lead, customer=customer, expected_close=CLOSES, opportunity_name="专线"
            )

    return convert


def test_a_conversion_is_recorded_without_the_contacts_mobile(cast, converted):
    lead = converted(cast.alice_customer)
    event = Event.objects.get(name="lead.converted")
    assert event.payload == {"lead": lead.pk, "opportunity": lead.opportunity_id}
    assert event.customer_id == cast.alice_customer.pk and event.actor == cast.alice.user
    assert "13800138000" not in str(event.payload)


def test_the_leads_contact_becomes_a_key_person_of_the_new_customer(cast, converted):
    lead = converted()
    contact = Contact.objects.get(customer=lead.customer)
    assert (contact.name, contact.title, contact.mobile, contact.is_key_person) == (
        "林 先生", "信息中心主任", "13800138000", True,
    )  # fmt: skip
    assert AuditEvent.objects.filter(target_type="customers.contact", target_id=contact.pk).exists()


@pytest.mark.parametrize("existing", [{"name": "林 先生"}, {"name": "林生", "mobile": "138 0013 8000"}])
def test_a_contact_already_there_by_name_or_mobile_is_not_added_again(cast, converted, existing):
    contact_create(actor=cast.alice.user, customer=cast.alice_customer, **existing)
    converted(cast.alice_customer)
    assert Contact.objects.filter(customer=cast.alice_customer).count() == 1


def test_the_same_conversion_handled_twice_adds_one_key_person(cast, converted):
    lead = converted(cast.alice_customer)
    event = Event.objects.get(name="lead.converted")
    customer_reactions.lead_converted(event)
    customer_reactions.lead_converted(event)
    assert Contact.objects.filter(customer=lead.customer, is_key_person=True).count() == 1


def test_a_lead_without_a_contact_adds_nobody(cast, converted):
    converted(cast.alice_customer, contact_name="", contact_title="", contact_mobile="")
    assert not Contact.objects.filter(customer=cast.alice_customer).exists()
