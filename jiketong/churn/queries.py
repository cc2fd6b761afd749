"""Every read of churn scores, scoped to the user."""

from django.db.models import Exists, F, OuterRef, QuerySet
from django.shortcuts import get_object_or_404

from jiketong.work.models import Task, TaskKind, TaskStatus

from .filters import AlertFilter, WarningFilter
from .models import ChurnScore, RiskAlert


def warnings(user, params=None) -> tuple[WarningFilter, QuerySet[ChurnScore]]:
    """The user's customers by churn score, highest first: a manager's portfolio, a supervisor's subtree."""
    queryset = (
        ChurnScore.objects.visible_to(user)
        .select_related("customer", "customer__org_unit", "customer__owner")
        .annotate(has_task=Exists(open_retention_tasks().filter(customer=OuterRef("customer_id"))))
        .order_by(*_order(user))
    )
    warning_filter = WarningFilter(params or None, queryset=queryset, user=user)
    return warning_filter, warning_filter.qs


def _order(user) -> tuple:
    """Highest score first. A customer manager's few thousand scores are sorted (score + 0: no index has that
    order), so PostgreSQL starts from the portfolio instead of walking the whole table's score index and
    dropping everything outside it, which it prefers when it underestimates a big portfolio (decision 0605)."""
    if ChurnScore.objects.portfolio_only(user):
        return ((F("score") + 0).desc(), "id")
    return ("-score", "id")


def score_of(user, customer_id: int) -> ChurnScore | None:
    """The customer's latest score if the user may see the customer (None: not scored yet)."""
    return ChurnScore.objects.visible_to(user).filter(customer_id=customer_id).first()


def open_retention_tasks() -> QuerySet[Task]:
    return Task.objects.filter(kind=TaskKind.RETENTION, status=TaskStatus.OPEN)


def alerts(user, params=None) -> tuple[AlertFilter, QuerySet[RiskAlert]]:
    """The risk inbox (风险提醒): a manager's portfolio's alerts, a supervisor's subtree's, newest first (one page
    off the (raised on) index, its customer, unit, manager and task joined)."""
    queryset = (
        RiskAlert.objects.visible_to(user)
        .select_related("customer", "customer__org_unit", "owner", "supervisor", "task")
        .order_by("-raised_on", "-id")
    )
    alert_filter = AlertFilter(params or None, queryset=queryset, user=user)
    return alert_filter, alert_filter.qs


def alert_get(user, pk: int) -> RiskAlert:
    """One alert the user may see, or 404 (the same answer as one that does not exist)."""
    return get_object_or_404(
        RiskAlert.objects.visible_to(user).select_related(
            "customer", "customer__org_unit", "owner", "supervisor", "task"
        ),
        pk=pk,
    )
