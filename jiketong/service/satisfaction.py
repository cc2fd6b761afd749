"""Survey answers kept as sums per org unit, quarter and dimension (SatisfactionFact, decision 0606), so the
satisfaction quadrant of a province reads a few rows per unit. `aggregate()` is the definition the rebuild and the
refresh after a survey share; `queries.satisfaction_quadrant` reads the kept rows for the subtree part of a scope
and counts the rest (a supervisor's own portfolio elsewhere) live."""

from django.db import transaction
from django.db.models import Count, F, Sum

from .models import SatisfactionFact, Survey, SurveyAnswer


def refresh(unit_ids=None) -> int:
    """Recompute the kept rows of these org units, or of all (the nightly rebuild). Returns the rows written."""
    answers, surveys, stale = SurveyAnswer.objects.all(), Survey.objects.all(), SatisfactionFact.objects.all()
    if unit_ids is not None:
        unit_ids = sorted({i for i in unit_ids if i})
        answers = answers.filter(survey__customer__org_unit__in=unit_ids)
        surveys = surveys.filter(customer__org_unit__in=unit_ids)
        stale = stale.filter(org_unit__in=unit_ids)
    by_dimension = (
        answers.order_by()
        .values(unit=F("survey__customer__org_unit"), quarter=F("survey__period"), dim=F("dimension"))
        .annotate(n=Count("pk"), importance=Sum("importance"), satisfaction=Sum("satisfaction"))
    )
    per_unit = surveys.order_by().values(unit=F("customer__org_unit"), quarter=F("period")).annotate(n=Count("pk"))
    rows = [
        SatisfactionFact(
            org_unit_id=r["unit"],
            period=r["quarter"],
            dimension=r["dim"],
            answers=r["n"],
            importance_sum=r["importance"],
            satisfaction_sum=r["satisfaction"],
        )  # fmt: skip
        for r in by_dimension.iterator(chunk_size=5000)
    ] + [
        SatisfactionFact(org_unit_id=r["unit"], period=r["quarter"], dimension="", answers=r["n"])
        for r in per_unit.iterator(chunk_size=5000)
    ]
    with transaction.atomic():
        stale.delete()
        SatisfactionFact.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def refresh_later(unit_ids) -> None:
    """After the current transaction commits: the kept rows of these units. Nothing before the first rebuild."""
    unit_ids = sorted({i for i in unit_ids if i})

    def run() -> None:
        if SatisfactionFact.objects.exists():
            refresh(unit_ids)

    if unit_ids:
        transaction.on_commit(run, robust=True)  # a failed recount must not fail the save; the night repairs it


def customer_moved(event) -> None:
    """A customer's surveys now count in its new unit: recount the old and the new one. Idempotent."""
    refresh_later([event.payload.get("from_unit"), event.payload.get("to_unit")])
