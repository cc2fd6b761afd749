"""Members who leave come off the group's member-level subscriptions (集团彩铃, V网), and BOSS gets one change
order for them, whichever way the leave was recorded."""

from datetime import date
from decimal import Decimal

import pytest

from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Subscription
from jiketong.catalog.reactions import member_left
from jiketong.catalog.services import subscription_create
from jiketong.core.models import AuditEvent, Event
from jiketong.customers.models import LifecycleStatus, Member
from jiketong.customers.services import member_update, members_bulk_add, members_bulk_remove
from jiketong.deals.models import LineAction, Order, OrderStatus
from jiketong.deals.services import order_set_state

PHONES = ["13800000001", "13800000002", "13800000003"]
LEFT = date(2026, 6, 1)


def product(code, unit):
    return Product.objects.create(code=code, name=code, category=ProductCategory.VOICE, billing_unit=unit,
                                  standard_price=Decimal("5"))  # fmt: skip


@pytest.fixture
def group(cast):
    """Alice's customer with three members on its 集团彩铃 and V网 (per member) and on a per-group line."""
    customer = cast.alice_customer
    members_bulk_add(actor=cast.alice.user, customer=customer, all_or_nothing=True,
                     rows=[{"phone": phone, "joined_on": date(2025, 1, 1)} for phone in PHONES])  # fmt: skip
    members = list(Member.objects.filter(customer=customer).order_by("phone"))
    subs = {
        code: subscription_create(
            actor=cast.alice.user,
            customer=customer,
            product=product(code, unit),
            start_on=date(2025, 1, 1),
            quantity=3,
            members=members,
        )  # fmt: skip
        for code, unit in (
            ("CRBT", BillingUnit.PER_MEMBER),
            ("VNET", BillingUnit.PER_MEMBER),
            ("DIA", BillingUnit.PER_GROUP),
        )  # fmt: skip
    }
    return customer, members, subs


def on(subscription) -> list[str]:
    return sorted(Subscription.objects.get(pk=subscription.pk).members.values_list("phone", flat=True))


def test_leavers_come_off_member_level_subscriptions_with_one_change_order(
    cast, group, django_capture_on_commit_callbacks
):
    customer, members, subs = group
    with django_capture_on_commit_callbacks(execute=True):
        members_bulk_remove(actor=cast.alice.user, customer=customer, phones=PHONES[:2], left_on=LEFT)
    assert on(subs["CRBT"]) == on(subs["VNET"]) == [PHONES[2]]
    assert on(subs["DIA"]) == PHONES  # billed per group: its list is not a membership
    assert Subscription.objects.get(pk=subs["VNET"].pk).quantity == 1
    [order] = Order.objects.filter(customer=customer)
    assert order.status == OrderStatus.SUBMITTED and order.created_by == cast.alice.user
    lines = list(order.lines.order_by("subscription_id"))
    assert [(line.action, line.subscription_id, line.quantity) for line in lines] == [
        (LineAction.REMOVE_MEMBERS, subs["CRBT"].pk, 2), (LineAction.REMOVE_MEMBERS, subs["VNET"].pk, 2),
    ]  # fmt: skip
    assert sorted(lines[0].members.values_list("phone", flat=True)) == PHONES[:2]
    audit = AuditEvent.objects.get(
        target_type="catalog.subscription", target_id=str(subs["CRBT"].pk), note__contains="left"
    )
    assert audit.before == {"members": 3, "quantity": 3} and audit.after == {"members": 1, "quantity": 1}


def test_the_event_names_member_ids_and_date_never_numbers(cast, group):
    customer, members, _subs = group
    members_bulk_remove(actor=cast.alice.user, customer=customer, phones=PHONES[:1], left_on=LEFT)
    event = Event.objects.get(name="member.left")
    assert event.customer_id == customer.pk
    assert event.payload == {"members": [members[0].pk], "left_on": "2026-06-01"}
    assert "1380000" not in str(event.payload)


def test_the_same_event_twice_still_makes_one_order(cast, group):
    customer, _members, subs = group
    members_bulk_remove(actor=cast.alice.user, customer=customer, phones=PHONES[:1], left_on=LEFT)
    event = Event.objects.get(name="member.left")
    member_left(event)
    member_left(event)
    assert Order.objects.filter(customer=customer).count() == 1
    assert on(subs["CRBT"]) == PHONES[1:]


def test_an_edit_that_sets_the_leave_date_counts_as_leaving(cast, group, django_capture_on_commit_callbacks):
    customer, members, subs = group
    with django_capture_on_commit_callbacks(execute=True):
        member_update(actor=cast.alice.user, member=members[1], left_on=LEFT)
        member_update(actor=cast.alice.user, member=members[0], department="销售部")  # not a leave
    assert Event.objects.get(name="member.left").payload["members"] == [members[1].pk]
    assert on(subs["CRBT"]) == [PHONES[0], PHONES[2]]
    assert Order.objects.filter(customer=customer).count() == 1


def test_completing_the_removal_order_changes_no_subscription_and_no_status(
    cast, group, django_capture_on_commit_callbacks
):
    customer, _members, subs = group
    type(customer).objects.filter(pk=customer.pk).update(status=LifecycleStatus.DORMANT)
    with django_capture_on_commit_callbacks(execute=True):
        members_bulk_remove(actor=cast.alice.user, customer=customer, phones=PHONES[:1], left_on=LEFT)
    order = Order.objects.get(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        order_set_state(actor=cast.alice.user, order=order, state=OrderStatus.COMPLETED, external_ref="BOSS-1")
    assert Subscription.objects.filter(customer=customer).count() == 3
    assert on(subs["VNET"]) == PHONES[1:]
    customer.refresh_from_db()
    assert customer.status == LifecycleStatus.DORMANT
