"""The rank (职级) limits which customer grades a manager may own; the matrix is configurable."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiketong.assessment import rules, services
from jiketong.core.models import AuditEvent
from jiketong.org.models import Rank

pytestmark = pytest.mark.django_db


def test_a_customer_manager_may_not_own_an_a_customer_by_default(cast):
    errors = rules.owner_errors(cast.alice, ["A1", "C"])
    assert list(errors) == ["owner"]
    assert "A1" in errors["owner"][0] and "C" not in errors["owner"][0].split("may not own")[1].split(";")[0]
    assert rules.owner_errors(cast.alice, ["B1", "C", "D"]) == {}


def test_staff_without_a_rank_are_not_limited(cast):
    assert cast.ivan.rank == ""
    assert rules.owner_errors(cast.ivan, ["A1"]) == {}


def test_the_administrator_changes_the_matrix_and_it_is_audited(cast):
    services.rank_grades_save(actor=cast.frank.user, rank="manager", grades=["A2", "B1", "C"])
    assert rules.owner_errors(cast.alice, ["A2"]) == {}
    with pytest.raises(ValidationError):
        rules.check_owner(cast.alice, ["D"], field="new_owner")
    event = AuditEvent.objects.get(target_type="assessment.rankgrades")
    assert event.before == {"grades": "B1,B2,C,D"} and event.after == {"grades": "A2,B1,C"}


def test_only_an_administrator_changes_the_matrix_and_unknown_grades_are_refused(cast):
    with pytest.raises(PermissionDenied):
        services.rank_grades_save(actor=cast.carol.user, rank="manager", grades=["A1"])
    with pytest.raises(ValidationError) as error:
        services.rank_grades_save(actor=cast.frank.user, rank="boss", grades=["Z"])
    assert {"rank", "grades"} <= set(error.value.message_dict)


def test_the_refusal_reads_in_chinese_for_a_chinese_user(cast):
    from django.utils import translation

    with translation.override("zh-hans"):
        errors = rules.owner_errors(cast.alice, ["A1"])
    assert errors == {"owner": ["李晓红（客户经理）不能负责 A1 类客户；该职级可负责 B1、B2、C、D。"]}


# --- where an owner is set (core.registry.owner_checks) --------------------------------------------------------
def test_giving_an_a_customer_to_a_customer_manager_is_refused_on_the_owner(cast):
    from jiketong.customers.models import Customer
    from jiketong.customers.services import customer_update

    Customer.objects.filter(pk=cast.bob_customer.pk).update(grade="A1")  # as an import or BOSS would leave it
    with pytest.raises(ValidationError) as refused:
        customer_update(actor=cast.carol.user, customer=cast.bob_customer, owner=cast.alice)
    assert list(refused.value.message_dict) == ["owner"]
    assert "A1" in refused.value.message_dict["owner"][0]
    cast.alice.rank = Rank.KEY_ACCOUNT_MANAGER
    cast.alice.save(update_fields=["rank"])
    customer_update(actor=cast.carol.user, customer=cast.bob_customer, owner=cast.alice)


def test_regrading_above_the_owners_rank_is_refused_on_the_grade(cast):
    from jiketong.customers.models import Grade
    from jiketong.customers.services import customer_update

    with pytest.raises(ValidationError) as refused:
        customer_update(actor=cast.carol.user, customer=cast.alice_customer, grade=Grade.A2, grade_reason="扩容")
    assert list(refused.value.message_dict) == ["grade"]
    customer_update(actor=cast.carol.user, customer=cast.alice_customer, grade=Grade.B1, grade_reason="扩容")


def test_a_handover_of_a_customers_to_a_junior_is_refused_on_the_new_owner(cast):
    from jiketong.customers.models import Customer
    from jiketong.work.services import handover

    Customer.objects.filter(pk=cast.bob_customer.pk).update(grade="A1")  # as an import or BOSS would leave it
    with pytest.raises(ValidationError) as refused:
        handover(cast.carol.user, old_owner=cast.bob, new_owner=cast.alice, disable_account=False)
    assert "new_owner" in refused.value.message_dict
    handover(
        cast.carol.user,
        old_owner=cast.bob,
        new_owner=cast.alice,
        customer_ids=[cast.backed_up.pk],
        disable_account=False,
    )
    assert Customer.objects.get(pk=cast.backed_up.pk).owner_id == cast.alice.pk
