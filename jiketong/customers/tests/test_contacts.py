"""Key persons: validated mobiles, masking, logged reveals and audited changes."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import Contact
from jiketong.customers.services import (
    contact_create,
    contact_delete,
    contact_mark_left,
    contact_reveal_mobile,
    contact_update,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def contact(cast):
    return contact_create(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        name="张 建国",
        title="信息中心主任",
        decision_role="decider",
        is_key_person=True,
        mobile="+86 139-2000-1234",
        email="zhangjg@example.com",
        birthday=date(1975, 5, 4),
        dates=[("入职纪念日", date(2001, 7, 1))],
    )


def audit(contact, action):
    return AuditEvent.objects.filter(target_type="customers.contact", target_id=contact.pk, action=action)


def test_mobile_is_stored_normalised(contact):
    assert Contact.objects.get(pk=contact.pk).mobile == "13920001234"
    assert contact.name == "张 建国"


def test_bad_mobile_is_reported_on_the_mobile_field(cast):
    with pytest.raises(ValidationError) as info:
        contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="李四", mobile="020-12345678")
    assert info.value.message_dict == {
        "mobile": ["020-12345678 is not a valid mainland China mobile number (11 digits, starting with 1)."]
    }
    assert not Contact.objects.filter(name="李四").exists()


def test_contact_without_mobile_is_allowed(cast):
    assert contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="王五").mobile == ""


def test_create_is_audited_with_the_record(contact, cast):
    event = audit(contact, AuditAction.CREATE).get()
    assert event.actor == cast.alice.user
    assert event.customer_id == cast.alice_customer.pk
    assert event.after["mobile"] == "139****1234"  # the trail keeps personal data masked
    assert contact.dates.get().label == "入职纪念日"


def test_update_is_audited_with_only_what_changed(contact, cast):
    contact_update(actor=cast.alice.user, contact=contact, title="副总经理", mobile="13920001234")
    event = audit(contact, AuditAction.UPDATE).get()
    assert (event.before, event.after) == ({"title": "信息中心主任"}, {"title": "副总经理"})


def test_update_with_bad_mobile_changes_nothing(contact, cast):
    with pytest.raises(ValidationError) as info:
        contact_update(actor=cast.alice.user, contact=contact, title="副总经理", mobile="1392000123")
    assert list(info.value.message_dict) == ["mobile"]
    assert Contact.objects.get(pk=contact.pk).title == "信息中心主任"
    assert not audit(contact, AuditAction.UPDATE).exists()


def test_update_with_a_bad_date_leaves_the_record_unchanged_too(contact, cast):
    with pytest.raises(ValidationError):
        contact_update(actor=cast.alice.user, contact=contact, title="副总经理", dates=[("", date(2020, 5, 1))])
    assert Contact.objects.get(pk=contact.pk).title == "信息中心主任"
    assert not audit(contact, AuditAction.UPDATE).exists()


def test_delete_is_audited_with_the_record_as_it_was(contact, cast):
    pk = contact.pk
    contact_delete(actor=cast.alice.user, contact=contact)
    assert not Contact.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(target_type="customers.contact", target_id=pk, action=AuditAction.DELETE)
    assert event.actor == cast.alice.user
    assert event.before["name"] == "张 建国"
    assert event.before["mobile"] == "139****1234"  # deleted at the person's request: no clear copy is kept
    assert event.before["birthday"] == "****-**-**"


@pytest.mark.parametrize("persona", ["alice", "carol"])
def test_every_reveal_is_logged(contact, cast, persona):
    user = getattr(cast, persona).user
    assert contact_reveal_mobile(actor=user, contact=contact) == "13920001234"
    assert contact_reveal_mobile(actor=user, contact=contact) == "13920001234"
    reveals = audit(contact, AuditAction.REVEAL)
    assert reveals.count() == 2
    assert {e.actor for e in reveals} == {user}
    assert all(e.customer_id == cast.alice_customer.pk for e in reveals)


@pytest.mark.parametrize("persona", ["erin", "grace", "frank"])
def test_analyst_auditor_and_admin_cannot_reveal(contact, cast, persona):
    with pytest.raises(PermissionDenied):
        contact_reveal_mobile(actor=getattr(cast, persona).user, contact=contact)
    assert not audit(contact, AuditAction.REVEAL).exists()


def test_manager_cannot_reveal_outside_their_portfolio(contact, cast):
    with pytest.raises(Http404):
        contact_reveal_mobile(actor=cast.bob.user, contact=contact)
    assert not audit(contact, AuditAction.REVEAL).exists()


def test_manager_cannot_add_contacts_to_another_managers_customer(cast):
    with pytest.raises(Http404):
        contact_create(actor=cast.alice.user, customer=cast.bob_customer, name="间谍")
    assert not Contact.objects.filter(name="间谍").exists()


def test_viewing_roles_cannot_change_contacts(contact, cast):
    with pytest.raises(PermissionDenied):
        contact_update(actor=cast.grace.user, contact=contact, title="x")
    with pytest.raises(PermissionDenied):
        contact_delete(actor=cast.erin.user, contact=contact)


def test_marking_a_contact_left_keeps_the_day_and_audits_it(contact, cast):
    contact_mark_left(actor=cast.alice.user, contact=contact, left_on=date(2026, 3, 31))
    assert Contact.objects.get(pk=contact.pk).left_on == date(2026, 3, 31)
    event = audit(contact, AuditAction.UPDATE).get()
    assert (event.before, event.after) == ({"left_on": None}, {"left_on": "2026-03-31"})


def test_a_contact_cannot_leave_on_a_day_still_to_come(contact, cast):
    with pytest.raises(ValidationError) as info:
        contact_mark_left(actor=cast.alice.user, contact=contact, left_on=date(2999, 1, 1))
    assert list(info.value.message_dict) == ["left_on"]
    assert Contact.objects.get(pk=contact.pk).left_on is None


def test_only_a_manager_who_sees_the_customer_marks_its_contact_left(contact, cast):
    with pytest.raises((PermissionDenied, Http404)):
        contact_mark_left(actor=cast.bob.user, contact=contact, left_on=date(2026, 3, 31))
    with pytest.raises(PermissionDenied):
        contact_mark_left(actor=cast.erin.user, contact=contact, left_on=date(2026, 3, 31))
