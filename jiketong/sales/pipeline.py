"""The open pipeline kept as figures (PipelineFact, decision 0606): what the board's stage totals and the forecast
read for a supervisor, so their cost follows the number of managers in scope, not the number of opportunities.

The kept rows are `aggregate()` of each owner's open opportunities; the board and the forecast read them for the
part of the user's scope that is an org subtree (the rows of the units in it) and count the rest live: the open
opportunities the user sees outside that subtree (their own, or those of customers they own or back up there),
which an owner index finds. Users whose scope is only a portfolio read live, as before: a portfolio is small.
"""

from datetime import date

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from jiketong.core.trees import subtree
from jiketong.org.models import OrgUnit, staff_of
from jiketong.org.scope import EVERYTHING, beyond_subtree, kept_scope

from .models import Opportunity, PipelineFact


def aggregate(opportunities: QuerySet[Opportunity]):
    """The definition: open opportunities by owner, customer's unit, stage and month of expected close."""
    return (
        opportunities.open()
        .order_by()
        .annotate(unit=F("customer__org_unit_id"), close_month=TruncMonth("expected_close"))
        .values("owner_id", "unit", "stage_id", "close_month")
        .annotate(n=Count("pk"), monthly=Sum("amount_monthly"), once=Sum("amount_once"))
    )


def _month(value) -> date:
    value = value.date() if hasattr(value, "date") else value
    return value.replace(day=1)


def refresh(owner_ids=None) -> int:
    """Recompute the kept rows of these owners, or of everyone (the nightly rebuild). Returns the rows written."""
    opportunities = Opportunity.objects.all()
    stale = PipelineFact.objects.all()
    if owner_ids is not None:
        owner_ids = sorted({i for i in owner_ids if i})
        opportunities = opportunities.filter(owner_id__in=owner_ids)
        stale = stale.filter(owner_id__in=owner_ids)
    rows = [
        PipelineFact(
            owner_id=row["owner_id"],
            org_unit_id=row["unit"],
            stage_id=row["stage_id"],
            month=_month(row["close_month"]),
            count=row["n"],
            amount_monthly=row["monthly"] or 0,
            amount_once=row["once"] or 0,
        )  # fmt: skip
        for row in aggregate(opportunities).iterator(chunk_size=5000)
    ]
    with transaction.atomic():
        stale.delete()
        PipelineFact.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def refresh_later(owner_ids) -> None:
    """After the current transaction commits: the kept rows of these owners (one manager's pipeline each).
    Nothing to do before the first rebuild: until then the pages count live."""
    owner_ids = sorted({i for i in owner_ids if i})

    def run() -> None:
        if PipelineFact.objects.exists():
            refresh(owner_ids)

    if owner_ids:
        transaction.on_commit(run, robust=True)  # a failed recount must not fail the save; the night repairs it


class Split:
    """A user's opportunity scope as kept rows plus a live remainder; `None` from `split()` means read live."""

    def __init__(self, facts: QuerySet[PipelineFact], rest: QuerySet[Opportunity]):
        self.facts, self.rest = facts, rest


def split(user, *, region: OrgUnit | None = None) -> Split | None:
    subtree_part = kept_scope(user)
    if subtree_part is None or not PipelineFact.objects.exists():
        return None
    facts = PipelineFact.objects.filter(subtree_part)
    rest = Opportunity.objects.none()
    staff = staff_of(user)
    if subtree_part != EVERYTHING and staff is not None:
        # Beyond the subtree: the user's own opportunities, and those of customers they own or back up there.
        mine = Q(owner=staff) & ~kept_scope(user, "customer__org_unit")
        rest = Opportunity.objects.filter(mine | beyond_subtree(user, "customer__"))
    if region is not None:
        in_region = OrgUnit.objects.filter(subtree(region.path)).values("pk")
        facts = facts.filter(org_unit__in=in_region)
        rest = rest.filter(customer__org_unit__in=in_region)
    return Split(facts, rest.open())
