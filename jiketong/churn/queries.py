"""Every read of churn scores, scoped to the user."""

from django.db.models import Exists, F, OuterRef, QuerySet

from jiketong.work.models import Task, TaskKind, TaskStatus

from .filters import WarningFilter
from .models import ChurnScore


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
