"""The monthly indicator summary (IndicatorSummary): the measures of `indicators.month_measures` per month,
org unit, industry and grade, computed from the billing months, and the multi-province groups of the month
(GroupSpread). Subtree dashboards read the first, everyone the second (decision 0601)."""

from datetime import date

from django.db import transaction
from django.db.models import Count, F, Max, Min

from jiketong.billing.models import CustomerMonth
from jiketong.customers.models import Customer

from .indicators import SUMMARY_FIELDS, churned_rows, group_spread, month_measures
from .models import GroupSpread, IndicatorSummary, SummaryPeriod
from .periods import add_months, month_range

GROUP = {"unit": F("customer__org_unit_id"), "sector": F("customer__industry_id"), "level": F("customer__grade")}
RECENT_MONTHS = 3  # re-imports land in the newest months; older months are refreshed only when missing


def _key(row: dict) -> tuple:
    return row["unit"], row["sector"], row["level"]


@transaction.atomic
def refresh(period: date) -> int:
    """Recompute one month of the summary from the billing months (idempotent). Returns the rows written."""
    summaries: dict[tuple, IndicatorSummary] = {}

    def summary(row: dict) -> IndicatorSummary:
        key = _key(row)
        if key not in summaries:
            summaries[key] = IndicatorSummary(period=period, org_unit_id=key[0], industry_id=key[1], grade=key[2])
        return summaries[key]

    measured = CustomerMonth.objects.filter(period=period).values(**GROUP).annotate(**month_measures()).order_by()
    for row in measured:
        target = summary(row)
        for name, field in SUMMARY_FIELDS.items():
            setattr(target, field, row[name] or 0)
    gone = churned_rows(CustomerMonth.objects.all(), [add_months(period, -1)])
    for row in gone.values(**GROUP).annotate(n=Count("pk")).order_by():
        summary(row).churned = row["n"]
    IndicatorSummary.objects.filter(period=period).delete()
    IndicatorSummary.objects.bulk_create(summaries.values(), batch_size=2000)
    spread = group_spread(period)
    heads = dict(Customer.objects.filter(depth=1, path__in=list(spread)).values_list("path", "pk"))
    GroupSpread.objects.filter(period=period).delete()
    GroupSpread.objects.bulk_create(
        GroupSpread(period=period, head_id=heads[path], revenue=row["revenue_sum"], provinces=row["provinces"])
        for path, row in spread.items()
        if path in heads
    )
    SummaryPeriod.objects.update_or_create(period=period, defaults={"rows": len(summaries)})
    return len(summaries)


def refresh_due() -> list[date]:
    """Months never summarised, and the newest few (which re-imports may have changed)."""
    billed = CustomerMonth.objects.order_by().aggregate(first=Min("period"), last=Max("period"))
    if billed["first"] is None:
        return []
    # Every month of the range, billed or not, so the summary knows an empty month from a missing one.
    months = month_range(billed["first"], billed["last"])
    held = set(SummaryPeriod.objects.values_list("period", flat=True))
    done = sorted({p for p in months if p not in held} | set(months[-RECENT_MONTHS:]))
    for period in done:
        refresh(period)
    return done
