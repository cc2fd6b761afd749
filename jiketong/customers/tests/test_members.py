"""Members: validated numbers, join/leave dates, bulk add and remove, re-joining, reveals."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import Member, PaidBy
from jiketong.customers.services import (
    member_add,
    member_reveal_phone,
    member_update,
    members_bulk_add,
    members_bulk_remove,
)

JAN = date(2024, 1, 1)
LEAVE_BEFORE_JOIN = "The leave date cannot be before the join date."
ALREADY_MEMBER = "This number is already a current member of the group."


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def add(cast, **fields):
    return member_add(actor=cast.alice.user, customer=cast.alice_customer, **({"joined_on": JAN} | fields))


def phones(customer, current=True):
    rows = Member.objects.filter(customer=customer)
    return sorted(rows.current().values_list("phone", flat=True) if current else rows.values_list("phone", flat=True))


def test_member_phone_is_stored_normalised(cast):
    member = add(cast, phone="+86 138-0013-8000", paid_by=PaidBy.GROUP, department="运营部")
    assert (member.phone, member.paid_by, member.department) == ("13800138000", "group", "运营部")


def test_bad_phone_is_reported_on_the_phone_field(cast):
    with pytest.raises(ValidationError) as info:
        add(cast, phone="0201234567")
    assert info.value.message_dict == {
        "phone": ["0201234567 is not a valid mainland China mobile number (11 digits, starting with 1)."]
    }


def test_member_cannot_leave_before_joining(cast):
    with pytest.raises(ValidationError) as info:
        add(cast, phone="13800138000", left_on=date(2023, 12, 31))
    assert info.value.message_dict == {"left_on": [LEAVE_BEFORE_JOIN]}
    assert phones(cast.alice_customer, current=False) == []


def test_current_member_cannot_be_added_twice(cast):
    add(cast, phone="13800138000")
    with pytest.raises(ValidationError) as info:
        add(cast, phone="138 0013 8000")
    assert info.value.message_dict == {"phone": [ALREADY_MEMBER]}


def test_same_number_may_belong_to_two_groups(cast):
    add(cast, phone="13800138000")
    member_add(actor=cast.bob.user, customer=cast.bob_customer, phone="13800138000", joined_on=JAN)
    assert phones(cast.bob_customer) == ["13800138000"]


def test_number_that_left_can_rejoin(cast):
    add(cast, phone="13800138000")
    members_bulk_remove(
        actor=cast.alice.user, customer=cast.alice_customer, phones=["13800138000"], left_on=date(2024, 6, 1)
    )
    add(cast, phone="13800138000", joined_on=date(2024, 9, 1))
    assert phones(cast.alice_customer) == ["13800138000"]
    assert phones(cast.alice_customer, current=False) == ["13800138000", "13800138000"]


ROWS = [
    {"phone": "13800000001", "joined_on": JAN},
    {"phone": "138-0000-0002", "joined_on": JAN, "paid_by": "group"},
    {"phone": "12345", "joined_on": JAN},  # row 3: not a mobile
    {"phone": "13800000001", "joined_on": JAN},  # row 4: twice in the batch
    {"phone": "13800000005", "joined_on": JAN, "left_on": date(2023, 1, 1)},  # row 5: leaves before joining
    {"phone": "13900000000", "joined_on": JAN},  # row 6: already a member
]


def bulk_add(cast, all_or_nothing):
    add(cast, phone="13900000000")
    return members_bulk_add(
        actor=cast.alice.user, customer=cast.alice_customer, rows=ROWS, all_or_nothing=all_or_nothing
    )


def test_bulk_add_reports_every_bad_row_with_its_reason(cast):
    result = bulk_add(cast, all_or_nothing=True)
    assert [(e["row"], list(e["errors"])) for e in result.errors] == [
        (3, ["phone"]),
        (4, ["phone"]),
        (5, ["left_on"]),
        (6, ["phone"]),
    ]
    assert result.errors[1]["errors"] == {"phone": ["This number appears twice in the batch."]}
    assert result.errors[2]["errors"] == {"left_on": [LEAVE_BEFORE_JOIN]}
    assert result.errors[3]["errors"] == {"phone": [ALREADY_MEMBER]}


def test_bulk_add_all_or_nothing_writes_nothing_when_a_row_is_bad(cast):
    result = bulk_add(cast, all_or_nothing=True)
    assert (result.ok, result.done) == (False, 0)
    assert phones(cast.alice_customer) == ["13900000000"]


def test_bulk_add_good_rows_mode_lands_the_good_rows(cast):
    result = bulk_add(cast, all_or_nothing=False)
    assert result.done == 2
    assert len(result.errors) == 4
    assert phones(cast.alice_customer) == ["13800000001", "13800000002", "13900000000"]
    event = AuditEvent.objects.filter(customer_id=cast.alice_customer.pk, after__has_key="members_added").first()
    assert event.after == {"members_added": ["138****0001", "138****0002"]}
    assert event.actor == cast.alice.user


def test_bulk_add_of_clean_batch_lands_whole(cast):
    rows = [{"phone": f"1380000{i:04d}", "joined_on": JAN} for i in range(50)]
    result = members_bulk_add(actor=cast.alice.user, customer=cast.alice_customer, rows=rows, all_or_nothing=True)
    assert (result.ok, result.done) == (True, 50)
    assert len(phones(cast.alice_customer)) == 50


@pytest.fixture
def three(cast):
    for phone in ["13800000001", "13800000002", "13800000003"]:
        add(cast, phone=phone, joined_on=date(2024, 3, 1) if phone.endswith("3") else JAN)
    return cast


def test_bulk_remove_sets_the_leave_date_and_keeps_history(three):
    result = members_bulk_remove(
        actor=three.alice.user,
        customer=three.alice_customer,
        phones=["13800000001", "138 0000 0002"],
        left_on=date(2024, 2, 1),
    )
    assert (result.ok, result.done) == (True, 2)
    assert phones(three.alice_customer) == ["13800000003"]
    assert set(Member.objects.filter(left_on=date(2024, 2, 1)).values_list("phone", flat=True)) == {
        "13800000001",
        "13800000002",
    }


def test_bulk_remove_reports_unknown_numbers_and_leaving_before_joining(three):
    result = members_bulk_remove(
        actor=three.alice.user,
        customer=three.alice_customer,
        phones=["13800000001", "13700000000", "13800000003", "12345"],
        left_on=date(2024, 2, 1),
    )
    assert [(e["row"], e["errors"]) for e in result.errors] == [
        (2, {"phone": ["This number is not a current member of the group."]}),
        (3, {"left_on": [LEAVE_BEFORE_JOIN]}),
        (4, {"phone": ["12345 is not a valid mainland China mobile number (11 digits, starting with 1)."]}),
    ]
    assert result.done == 0
    assert len(phones(three.alice_customer)) == 3  # all or nothing by default


def test_bulk_remove_good_rows_mode_removes_the_good_ones(three):
    result = members_bulk_remove(
        actor=three.alice.user,
        customer=three.alice_customer,
        phones=["13800000001", "13700000000", "13800000003"],
        left_on=date(2024, 2, 1),
        all_or_nothing=False,
    )
    assert result.done == 1
    assert phones(three.alice_customer) == ["13800000002", "13800000003"]


def test_member_update_refuses_leave_before_join_and_duplicate_number(three):
    member = Member.objects.get(phone="13800000001")
    with pytest.raises(ValidationError) as info:
        member_update(actor=three.alice.user, member=member, left_on=date(2023, 1, 1))
    assert info.value.message_dict == {"left_on": [LEAVE_BEFORE_JOIN]}
    with pytest.raises(ValidationError) as info:
        member_update(actor=three.alice.user, member=member, phone="13800000002")
    assert info.value.message_dict == {"phone": [ALREADY_MEMBER]}


def test_member_update_is_audited(three):
    member = Member.objects.get(phone="13800000001")
    member_update(actor=three.alice.user, member=member, department="财务部")
    event = AuditEvent.objects.get(target_type="customers.member", target_id=member.pk, action=AuditAction.UPDATE)
    assert (event.before, event.after) == ({"department": ""}, {"department": "财务部"})


def test_member_reveal_is_logged_and_refused_to_viewing_roles(three):
    member = Member.objects.get(phone="13800000001")
    assert member_reveal_phone(actor=three.alice.user, member=member) == "13800000001"
    for persona in (three.erin, three.grace, three.frank):
        with pytest.raises(PermissionDenied):
            member_reveal_phone(actor=persona.user, member=member)
    with pytest.raises(Http404):
        member_reveal_phone(actor=three.bob.user, member=member)
    reveals = AuditEvent.objects.filter(target_id=member.pk, action=AuditAction.REVEAL)
    assert [e.actor for e in reveals] == [three.alice.user]
    assert str(member) == "138****0001"


def test_manager_cannot_add_members_to_another_managers_customer(cast):
    with pytest.raises(Http404):
        members_bulk_add(actor=cast.alice.user, customer=cast.bob_customer, rows=ROWS[:1], all_or_nothing=True)
    assert phones(cast.bob_customer) == []
