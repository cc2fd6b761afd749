"""Billing reads. Import runs belong to the people who may import; points are read through the customer's scope."""

from pathlib import Path

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from jiketong.org.models import can

from .models import (
    BenefitUse,
    ClubBenefit,
    CreditGrade,
    CustomerMonth,
    ImportRun,
    PointsLedger,
    Redemption,
)
from .services import IMPORT_ROLES, require_import

STATEMENT_MONTHS = 24


def import_runs(user) -> QuerySet[ImportRun]:
    require_import(user)
    return ImportRun.objects.select_related("created_by")


def import_run_get(user, pk: int) -> ImportRun:
    """A run, or 404 for anyone who may not import (the same answer as a run that does not exist)."""
    if not can(user, IMPORT_ROLES):
        raise Http404(_("No such import."))
    return get_object_or_404(ImportRun.objects.select_related("created_by"), pk=pk)


def error_report(user, pk: int) -> tuple[ImportRun, Path]:
    run = import_run_get(user, pk)
    path = Path(run.error_path) if run.error_path else None
    if path is None or not path.is_file():
        raise Http404(_("This import has no error report."))
    return run, path


def points_of(user, customer_id: int) -> QuerySet[PointsLedger]:
    """The customer's points statement, newest month first (empty for a customer out of scope)."""
    return PointsLedger.objects.visible_to(user).filter(customer_id=customer_id).order_by("-period")


def points_summary(user, customer_id: int) -> PointsLedger | None:
    """The latest month: balance, cumulative spend and tier. One query."""
    return points_of(user, customer_id).first()


def recent_months(user, customer_id: int, months: int = 12) -> list[CustomerMonth]:
    """The customer's latest billed months, newest first: one query."""
    return list(CustomerMonth.objects.visible_to(user).filter(customer_id=customer_id).order_by("-period")[:months])


# --- credit grade ----------------------------------------------------------------------------------
def credit_grades(customer_ids) -> dict[int, CreditGrade]:
    """For other apps (group roll-ups, churn features): customer id → its CreditGrade (grade, as_of, figures),
    for the ids that have one. One query. Not scoped: pass the ids the caller already read in scope (a roll-up
    may count units it must not name; a grade is a figure, not a name)."""
    return {grade.customer_id: grade for grade in CreditGrade.objects.filter(customer_id__in=list(customer_ids))}


def credit_grade_of(user, customer_id: int) -> CreditGrade | None:
    return CreditGrade.objects.visible_to(user).filter(customer_id=customer_id).first()


# --- redemptions and benefits ---------------------------------------------------------------------
def redemptions_of(user, customer_id: int) -> QuerySet[Redemption]:
    """A customer's redemptions, newest first."""
    return (
        Redemption.objects.visible_to(user)
        .filter(customer_id=customer_id)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def redemptions_to_apply(user, period) -> QuerySet[Redemption]:
    """The month's redemptions BOSS takes off the bills of `period`, in the caller's scope (the export)."""
    return (
        Redemption.objects.visible_to(user)
        .filter(applied_period=period)
        .select_related("customer", "created_by")
        .order_by("customer__number", "id")
    )


def benefits(*, offered_only: bool = False) -> QuerySet[ClubBenefit]:
    """The club's benefit catalogue (not customer data: everyone may read it)."""
    from django.db.models import Case, IntegerField, Value, When

    from .models import TIER_RANK

    rank = Case(*(When(min_tier=tier, then=Value(r)) for tier, r in TIER_RANK.items()), output_field=IntegerField())
    queryset = ClubBenefit.objects.order_by(rank, "name", "pk")
    return queryset.filter(active=True) if offered_only else queryset


def benefits_open_to(tier: str) -> list[ClubBenefit]:
    """The offered benefits a customer of `tier` may use, from the lowest tier up (a catalogue of a few rows)."""
    return [benefit for benefit in benefits(offered_only=True) if benefit.open_to(tier)]


def benefit_get(pk: int) -> ClubBenefit:
    return get_object_or_404(ClubBenefit, pk=pk)


def benefit_uses_of(user, customer_id: int) -> QuerySet[BenefitUse]:
    return (
        BenefitUse.objects.visible_to(user)
        .filter(customer_id=customer_id)
        .select_related("benefit", "recorded_by")
        .order_by("-used_on", "-id")
    )
