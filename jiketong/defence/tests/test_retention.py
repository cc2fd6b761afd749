"""Retention cases: the one-click retention task of a churn warning opens a case that carries actions and an
outcome; plans' outcome rules."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from jiketong.churn.models import ChurnScore
from jiketong.churn.services import retention_task_create
from jiketong.defence import services
from jiketong.defence.models import Countermeasure, Plan, PlanKind, PlanStatus
from jiketong.work.models import TaskStatus

from .conftest import bill


@pytest.fixture
def warned(cast):
    ChurnScore.objects.create(
        customer=cast.alice_customer, scored_on=date(2026, 11, 1), score=85, risk="high",
        reasons=[{"code": "arrears", "months": 2}], flags=64, model_version="rules",
    )  # fmt: skip
    return cast


def test_the_one_click_retention_task_opens_one_retention_case(warned, client_as, django_capture_on_commit_callbacks):
    bill(warned.alice_customer, "8000")
    url = reverse("churn:retention_task", args=[warned.alice_customer.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client_as(warned.carol).post(url)
        client_as(warned.carol).post(url)  # the open task is kept: no second case
    case = Plan.objects.get()
    assert (case.kind, case.status, case.owner, case.customer) == (
        PlanKind.RETENTION, PlanStatus.OPEN, warned.alice, warned.alice_customer,
    )  # fmt: skip
    assert case.task.kind == "retention" and case.revenue_at_stake == Decimal("8000.00")


def test_the_case_reaction_is_idempotent(warned, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        task, _created = retention_task_create(actor=warned.carol.user, customer=warned.alice_customer)
    services.retention_case_for_task(actor=None, task=task)
    assert Plan.objects.count() == 1


def test_closing_a_retention_case_records_the_outcome_and_completes_its_task(
    warned, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        task, _created = retention_task_create(actor=warned.carol.user, customer=warned.alice_customer)
    case = Plan.objects.get(task=task)
    services.countermeasure_add(
        actor=warned.alice.user, plan=case, kind="price", description="续约九折", due_on=timezone.localdate()
    )
    services.plan_close(
        actor=warned.alice.user, plan=case, outcome="partly", revenue_kept=Decimal("6000"), revenue_lost=Decimal("2000")
    )
    case.refresh_from_db()
    task.refresh_from_db()
    assert (case.status, case.outcome, case.revenue_kept, case.revenue_lost) == ("closed", "partly", 6000, 2000)
    assert case.closed_on == timezone.localdate() and task.status == TaskStatus.DONE
    assert Countermeasure.objects.get().owner == warned.alice  # defaults to the plan's owner


def open_defence(cast, stake="5000"):
    bill(cast.alice_customer, stake)
    return services.plan_open(
        actor=cast.alice.user, customer=cast.alice_customer, competitor="china_telecom",
        due_on=timezone.localdate() + timedelta(days=30),
    )  # fmt: skip


def test_a_kept_plan_keeps_the_revenue_at_stake_by_default(cast):
    plan = services.plan_close(actor=cast.alice.user, plan=open_defence(cast), outcome="kept")
    assert (plan.revenue_kept, plan.revenue_lost, plan.lost_to) == (Decimal("5000.00"), 0, "")


def test_a_lost_defence_plan_says_to_whom_and_loses_the_revenue_at_stake(cast):
    plan = open_defence(cast)
    with pytest.raises(ValidationError) as error:
        services.plan_close(actor=cast.alice.user, plan=plan, outcome="lost")
    assert set(error.value.message_dict) == {"lost_to"}
    plan = services.plan_close(actor=cast.alice.user, plan=plan, outcome="lost", lost_to="china_telecom")
    assert (plan.revenue_kept, plan.revenue_lost) == (0, Decimal("5000.00"))


def test_a_partly_lost_plan_needs_both_figures_in_one_round(cast):
    with pytest.raises(ValidationError) as error:
        services.plan_close(actor=cast.alice.user, plan=open_defence(cast), outcome="partly")
    assert set(error.value.message_dict) == {"revenue_kept", "revenue_lost", "lost_to"}


def test_a_closed_plan_cannot_be_closed_again_nor_given_steps(cast):
    plan = services.plan_close(actor=cast.alice.user, plan=open_defence(cast), outcome="kept")
    with pytest.raises(ValidationError):
        services.plan_close(actor=cast.alice.user, plan=plan, outcome="lost", lost_to="china_unicom")
    with pytest.raises(ValidationError):
        services.countermeasure_add(
            actor=cast.alice.user, plan=plan, kind="price", description="x", due_on=date.today()
        )


def test_one_open_defence_plan_per_customer(cast):
    open_defence(cast)
    with pytest.raises(ValidationError) as error:
        services.plan_open(
            actor=cast.alice.user, customer=cast.alice_customer, competitor="china_unicom", due_on=date.today()
        )
    assert "kind" in error.value.message_dict


def test_a_defence_plan_names_the_competitor(cast):
    with pytest.raises(ValidationError) as error:
        services.plan_open(actor=cast.alice.user, customer=cast.alice_customer, due_on=date.today())
    assert "competitor" in error.value.message_dict


def test_a_plan_and_its_steps_are_owned_by_someone_who_sees_the_customer(cast):
    # dave supervises 浙江: he cannot see a 广州 customer, so he cannot own its plan or one of its steps.
    with pytest.raises(ValidationError) as error:
        services.plan_open(
            actor=cast.alice.user, customer=cast.alice_customer, competitor="china_unicom", due_on=date.today(),
            owner=cast.dave,
        )  # fmt: skip
    assert list(error.value.message_dict) == ["owner"]
    plan = open_defence(cast)
    with pytest.raises(ValidationError) as error:
        services.countermeasure_add(
            actor=cast.alice.user, plan=plan, kind="price", description="降价", due_on=date.today(), owner=cast.dave
        )
    assert list(error.value.message_dict) == ["owner"]
    assert not Countermeasure.objects.filter(plan=plan).exists()


def test_an_analyst_cannot_open_a_plan(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.plan_open(actor=cast.erin.user, customer=cast.alice_customer, competitor="china_unicom",
                           due_on=date.today())  # fmt: skip


def test_plans_and_outcomes_are_audited(cast):
    from jiketong.core.models import AuditEvent

    plan = services.plan_close(actor=cast.alice.user, plan=open_defence(cast), outcome="kept")
    actions = list(
        AuditEvent.objects.filter(target_type="defence.plan", target_id=plan.pk).values_list("action", flat=True)
    )
    assert actions == ["create", "status"] or sorted(actions) == ["create", "status"]
