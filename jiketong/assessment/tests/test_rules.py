"""The rank (职级) limits which customer grades a manager may own; the matrix is configurable."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiketong.assessment import rules, services
from jiketong.core.models import AuditEvent

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
