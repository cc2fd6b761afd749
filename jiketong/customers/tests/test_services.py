"""Customer services: creating and changing the archive, grades, ownership and the audit they leave."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers import services
from jiketong.customers.models import Customer, CustomerType, Grade, GradeChange
from jiketong.customers.services import customer_create, customer_update
from jiketong.org.services import staff_deactivate

DUPLICATE_USCC = "A customer with this unified social credit code already exists."


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def new_fields(org_unit, **extra):
    return {
        "name": "广州白云机场股份有限公司",
        "type": CustomerType.ENTERPRISE,
        "industry_id": "transport",
        "org_unit": org_unit,
        "uscc": testing.make_uscc(),
        **extra,
    }


def errors_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value.message_dict


def events(customer, action=None):
    rows = AuditEvent.objects.filter(customer_id=customer.pk)
    return rows.filter(action=action) if action else rows


# --- create -------------------------------------------------------------------------------------
def test_manager_creating_a_customer_owns_it(cast):
    customer = customer_create(actor=cast.alice.user, **new_fields(cast.org["440106"]))
    assert customer.owner == cast.alice
    assert customer in Customer.objects.visible_to(cast.alice.user)


def test_customer_number_is_region_prefix_and_padded_id(cast):
    customer = customer_create(actor=cast.alice.user, **new_fields(cast.org["440106"]))
    assert customer.number == f"4401{customer.pk:08d}"
    assert Customer.objects.get(pk=customer.pk).number == customer.number
    assert customer.number in Customer.objects.get(pk=customer.pk).search_text


def test_given_customer_number_is_kept(cast):
    customer = customer_create(actor=cast.alice.user, number="BOSS0001", **new_fields(cast.org["440106"]))
    assert customer.number == "BOSS0001"


def test_uscc_is_normalised_before_saving(cast):
    uscc = testing.make_uscc()
    fields = new_fields(cast.org["440106"]) | {"uscc": " " + uscc.lower() + " "}
    assert customer_create(actor=cast.alice.user, **fields).uscc == uscc


def test_bad_uscc_is_reported_on_the_uscc_field(cast):
    uscc = testing.make_uscc()
    wrong = uscc[:17] + ("0" if uscc[17] != "0" else "1")
    errors = errors_of(customer_create, actor=cast.alice.user, **new_fields(cast.org["440106"], uscc=wrong))
    assert errors["uscc"] == [f"The check digit is wrong: the last character should be {uscc[17]}, not {wrong[17]}."]
    assert not Customer.objects.filter(uscc__in=[uscc, wrong]).exists()


def test_duplicate_uscc_is_refused_with_the_field_message(cast):
    fields = new_fields(cast.org["440106"], uscc=cast.alice_customer.uscc)
    errors = errors_of(customer_create, actor=cast.alice.user, **fields)
    assert errors["uscc"] == [DUPLICATE_USCC]
    assert Customer.objects.filter(uscc=cast.alice_customer.uscc).count() == 1


def test_duplicate_uscc_lost_race_gives_the_same_message(cast, monkeypatch):
    # Two users save the same code at once: both pass the pre-check, the database refuses the second.
    monkeypatch.setattr(services, "_full_clean", lambda instance, exclude=None, errors=None: None)
    count = Customer.objects.count()
    fields = new_fields(cast.org["440106"], uscc=cast.alice_customer.uscc)
    errors = errors_of(customer_create, actor=cast.alice.user, **fields)
    assert errors == {"uscc": [DUPLICATE_USCC]}
    assert Customer.objects.count() == count


def test_duplicate_uscc_on_update_is_refused(cast):
    errors = errors_of(
        customer_update, actor=cast.frank.user, customer=cast.bob_customer, uscc=cast.alice_customer.uscc
    )
    assert errors["uscc"] == [DUPLICATE_USCC]


def test_empty_uscc_is_stored_as_null_so_many_customers_may_lack_one(cast):
    first = customer_create(actor=cast.alice.user, **new_fields(cast.org["440106"], uscc=""))
    second = customer_create(actor=cast.alice.user, **new_fields(cast.org["440106"], uscc=""))
    assert first.uscc is None and second.uscc is None


def test_manager_cannot_create_a_customer_for_someone_elses_portfolio(cast):
    count, audit_count = Customer.objects.count(), AuditEvent.objects.count()
    errors = errors_of(customer_create, actor=cast.alice.user, **new_fields(cast.org["440106"], owner=cast.bob))
    assert errors == {"owner": ["Only a supervisor can give a customer to another manager."]}
    assert Customer.objects.count() == count
    assert AuditEvent.objects.count() == audit_count
    assert GradeChange.objects.count() == count  # one initial grade per existing customer, none for the refused one


def test_supervisor_cannot_create_a_customer_outside_their_subtree(cast):
    count = Customer.objects.count()
    errors = errors_of(customer_create, actor=cast.carol.user, **new_fields(cast.org["330106"]))
    assert "org_unit" in errors
    assert Customer.objects.count() == count


def test_viewing_roles_cannot_create_customers(cast):
    for persona in (cast.erin, cast.grace):
        with pytest.raises(PermissionDenied):
            customer_create(actor=persona.user, **new_fields(cast.org["440106"]))


def test_create_records_initial_grade_and_audit(cast):
    customer = customer_create(actor=cast.carol.user, **new_fields(cast.org["440106"], grade=Grade.B1))
    change = customer.grade_changes.get()
    assert (change.old_grade, change.new_grade, change.changed_by) == ("", "B1", cast.carol.user)
    event = events(customer).get()
    assert (event.action, event.actor, event.before) == (AuditAction.CREATE, cast.carol.user, None)
    assert event.after["name"] == "广州白云机场股份有限公司"
    assert event.after["grade"] == "B1"


# --- people -------------------------------------------------------------------------------------
def test_backup_manager_must_differ_from_owner(cast):
    fields = new_fields(cast.org["440106"], owner=cast.alice, backup_owner=cast.alice)
    errors = errors_of(customer_create, actor=cast.carol.user, **fields)
    assert errors["backup_owner"] == ["The backup manager must be someone other than the customer manager."]


def test_manager_cannot_create_a_customer_for_a_colleague(cast):
    fields = new_fields(cast.org["440106"], owner=cast.bob, backup_owner=cast.alice)
    errors = errors_of(customer_create, actor=cast.alice.user, **fields)
    assert errors["owner"] == ["Only a supervisor can give a customer to another manager."]
    assert not Customer.objects.filter(name=fields["name"]).exists()


def test_staff_who_left_cannot_be_given_customers(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    errors = errors_of(customer_create, actor=cast.carol.user, **new_fields(cast.org["440106"], owner=cast.bob))
    assert errors["owner"] == ["王强 has left and cannot be given customers."]


def test_a_leavers_customer_can_still_be_edited_until_it_is_reassigned(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    customer = customer_update(actor=cast.carol.user, customer=cast.bob_customer, address="广州市天河区天河路 1 号")
    assert customer.address == "广州市天河区天河路 1 号"
    assert customer.owner == cast.bob


def test_a_leavers_backed_up_customer_can_still_be_edited(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.alice)
    customer = customer_update(actor=cast.carol.user, customer=cast.backed_up, note="交接中")
    assert customer.note == "交接中" and customer.backup_owner == cast.alice


def test_a_customer_cannot_be_moved_to_a_leaver(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    errors = errors_of(customer_update, actor=cast.carol.user, customer=cast.alice_customer, backup_owner=cast.bob)
    assert errors == {"backup_owner": ["王强 has left and cannot be given customers."]}


def test_manager_cannot_change_owner(cast):
    errors = errors_of(customer_update, actor=cast.alice.user, customer=cast.alice_customer, owner=cast.bob)
    assert errors["owner"] == ["Only a supervisor can change the customer's managers."]
    assert Customer.objects.get(pk=cast.alice_customer.pk).owner == cast.alice


def test_manager_cannot_change_backup(cast):
    errors = errors_of(customer_update, actor=cast.alice.user, customer=cast.alice_customer, backup_owner=cast.bob)
    assert errors["backup_owner"] == ["Only a supervisor can change the customer's managers."]


def test_supervisor_changing_owner_is_audited_as_ownership(cast):
    customer_update(actor=cast.carol.user, customer=cast.alice_customer, owner=cast.bob)
    assert Customer.objects.get(pk=cast.alice_customer.pk).owner == cast.bob
    event = events(cast.alice_customer, AuditAction.OWNER).get()
    assert event.actor == cast.carol.user
    assert (event.before, event.after) == ({"owner": cast.alice.pk}, {"owner": cast.bob.pk})


# --- grade --------------------------------------------------------------------------------------
def test_manager_cannot_regrade(cast):
    errors = errors_of(
        customer_update, actor=cast.alice.user, customer=cast.alice_customer, grade=Grade.B1, grade_reason="大客户"
    )
    assert errors == {"grade": ["Only a supervisor can re-grade a customer."]}
    assert Customer.objects.get(pk=cast.alice_customer.pk).grade == Grade.C


def test_regrade_needs_a_reason(cast):
    errors = errors_of(customer_update, actor=cast.carol.user, customer=cast.alice_customer, grade=Grade.B1)
    assert errors == {"grade_reason": ["Give the reason for the new grade."]}
    errors = errors_of(
        customer_update, actor=cast.carol.user, customer=cast.alice_customer, grade=Grade.B1, grade_reason="  "
    )
    assert "grade_reason" in errors


def test_regrade_keeps_history_and_audit(cast):
    customer_update(actor=cast.carol.user, customer=cast.alice_customer, grade=Grade.B1, grade_reason="年收入过千万")
    change = GradeChange.objects.filter(customer=cast.alice_customer).first()  # newest first
    assert (change.old_grade, change.new_grade, change.reason) == ("C", "B1", "年收入过千万")
    assert change.changed_by == cast.carol.user and change.changed_at is not None
    event = events(cast.alice_customer, AuditAction.GRADE).get()
    assert (event.actor, event.before, event.after, event.note) == (
        cast.carol.user,
        {"grade": "C"},
        {"grade": "B1"},
        "年收入过千万",
    )


def test_unchanged_grade_needs_no_reason_or_supervisor(cast):
    customer_update(actor=cast.alice.user, customer=cast.alice_customer, grade=Grade.C, note="回访")
    assert not events(cast.alice_customer, AuditAction.GRADE).exists()


# --- update, scope and audit --------------------------------------------------------------------
def test_update_audits_only_changed_fields(cast):
    customer_update(actor=cast.alice.user, customer=cast.alice_customer, short_name="广州地铁", address=" 天河路 1 号 ")
    event = events(cast.alice_customer, AuditAction.UPDATE).get()
    assert event.actor == cast.alice.user and event.at is not None
    assert (event.before, event.after) == ({"address": ""}, {"address": "天河路 1 号"})


def test_update_without_changes_writes_no_audit(cast):
    before = events(cast.alice_customer).count()
    customer_update(actor=cast.alice.user, customer=cast.alice_customer, name=cast.alice_customer.name)
    assert events(cast.alice_customer).count() == before


def test_update_refreshes_search_text(cast):
    customer_update(actor=cast.alice.user, customer=cast.alice_customer, short_name="白云")
    assert "by" in Customer.objects.get(pk=cast.alice_customer.pk).search_text


def test_failed_update_leaves_record_and_audit_untouched(cast):
    before = events(cast.alice_customer).count()
    errors_of(customer_update, actor=cast.alice.user, customer=cast.alice_customer, name="新名字", uscc="123")
    assert Customer.objects.get(pk=cast.alice_customer.pk).name == "广州地铁集团有限公司"
    assert events(cast.alice_customer).count() == before


def test_fields_outside_the_record_cannot_be_set(cast):
    errors = errors_of(customer_update, actor=cast.frank.user, customer=cast.alice_customer, search_text="x")
    assert errors == {"search_text": ["This field cannot be changed here."]}


def test_manager_cannot_update_another_managers_customer(cast):
    with pytest.raises((Http404, ValidationError)):
        customer_update(actor=cast.alice.user, customer=cast.bob_customer, note="偷看")
    assert Customer.objects.get(pk=cast.bob_customer.pk).note == ""
    assert not events(cast.bob_customer, AuditAction.UPDATE).exists()


def test_supervisor_cannot_pull_a_customer_into_their_own_province(cast):
    with pytest.raises((Http404, ValidationError)):
        customer_update(actor=cast.dave.user, customer=cast.alice_customer, org_unit=cast.org["330106"])
    assert Customer.objects.get(pk=cast.alice_customer.pk).org_unit == cast.org["440106"]


def test_supervisor_cannot_move_a_customer_out_of_their_subtree(cast):
    errors = errors_of(customer_update, actor=cast.carol.user, customer=cast.bob_customer, org_unit=cast.org["440304"])
    assert "org_unit" in errors
    assert Customer.objects.get(pk=cast.bob_customer.pk).org_unit == cast.org["440106"]


def test_viewing_roles_cannot_update(cast):
    for persona in (cast.erin, cast.grace):
        with pytest.raises(PermissionDenied):
            customer_update(actor=persona.user, customer=cast.alice_customer, note="x")
