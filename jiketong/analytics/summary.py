"""The monthly indicator summary: the measures of `indicators.month_measures` per month, org unit, industry
and grade (IndicatorSummary) and per month and org unit (UnitSummary), the customers using each product
(ProductSummary), computed from the billing months, and the multi-province groups of the month (GroupSpread).
Subtree dashboards read the first three, everyone the last (decisions 0601, 0604)."""

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Count, F, Max, Min

from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.customers.models import Customer

from .indicators import SUMMARY_FIELDS, churned_rows, group_spread, in_use, month_measures
from .models import (
    GroupSpread,
    IndicatorSummary,
    ProductDimension,
    ProductSummary,
    SummaryPeriod,
    UnitSummary,
)
from .periods import add_months, month_range

GROUP = {"unit": F("customer__org_unit_id"), "sector": F("customer__industry_id"), "level": F("customer__grade")}
MEASURES = [*SUMMARY_FIELDS.values(), "churned"]
RECENT_MONTHS = 3  # re-imports land in the newest months; older months are refreshed only when missing


def _key(row: dict) -> tuple:
    return row["unit"], row["sector"], row["level"]


@transaction.atomic
def refresh(period: date, units: list[int] | None = None) -> int:
    """Recompute one month of the summary from the billing months (idempotent), for every org unit or only
    `units` (ids; each unit's rows are its own customers', so the others are left as they are). The month's
    group spread is recomputed whole: it is a fact about groups across units. Returns the rows written."""
    summaries: dict[tuple, IndicatorSummary] = {}

    def summary(row: dict) -> IndicatorSummary:
        key = _key(row)
        if key not in summaries:
            summaries[key] = IndicatorSummary(period=period, org_unit_id=key[0], industry_id=key[1], grade=key[2])
        return summaries[key]

    months = CustomerMonth.objects.filter(period=period)
    gone = churned_rows(CustomerMonth.objects.all(), [add_months(period, -1)])
    lines = BillingFact.objects.filter(in_use(), period=period)
    held = [model.objects.filter(period=period) for model in (IndicatorSummary, UnitSummary, ProductSummary)]
    if units is not None:
        months = months.filter(customer__org_unit_id__in=units)
        gone = gone.filter(customer__org_unit_id__in=units)
        lines = lines.filter(customer__org_unit_id__in=units)
        held = [rows.filter(org_unit_id__in=units) for rows in held]
    measured = months.values(**GROUP).annotate(**month_measures()).order_by()
    for row in measured:
        target = summary(row)
        for name, field in SUMMARY_FIELDS.items():
            setattr(target, field, row[name] or 0)
    for row in gone.values(**GROUP).annotate(n=Count("pk")).order_by():
        summary(row).churned = row["n"]
    for rows in held:
        rows.delete()
    IndicatorSummary.objects.bulk_create(summaries.values(), batch_size=2000)
    UnitSummary.objects.bulk_create(_by_unit(period, summaries.values()), batch_size=2000)
    ProductSummary.objects.bulk_create(_products(period, lines), batch_size=5000)
    refresh_spread(period)
    rows = len(summaries) if units is None else IndicatorSummary.objects.filter(period=period).count()
    SummaryPeriod.objects.update_or_create(period=period, defaults={"rows": rows})
    return len(summaries)


def _by_unit(period: date, cells) -> list[UnitSummary]:
    """The cells added up per org unit (every measure is additive)."""
    units: dict[int, UnitSummary] = {}
    for cell in cells:
        unit = units.setdefault(cell.org_unit_id, UnitSummary(period=period, org_unit_id=cell.org_unit_id))
        for field in MEASURES:
            setattr(unit, field, getattr(unit, field) + getattr(cell, field))
    return list(units.values())


def _products(period: date, lines) -> list[ProductSummary]:
    """Customers using each product per org unit, and per org unit and industry or grade: one GROUP BY over
    the month's bill lines in use (a customer's line of a product is one row), added up here."""
    counts: dict[tuple, int] = defaultdict(int)
    cells = lines.values("product_id", **GROUP).annotate(n=Count("pk")).order_by()
    for row in cells:
        unit, product, n = row["unit"], row["product_id"], row["n"]
        counts[(unit, product, ProductDimension.NONE, "")] += n
        counts[(unit, product, ProductDimension.INDUSTRY, row["sector"])] += n
        counts[(unit, product, ProductDimension.GRADE, row["level"])] += n
    return [
        ProductSummary(period=period, org_unit_id=unit, product_id=product, dimension=dim, key=key, customers=n)
        for (unit, product, dim, key), n in counts.items()
    ]


def refresh_spread(period: date) -> None:
    """Recompute the month's multi-province groups (GroupSpread) over the 12 months to it."""
    spread = group_spread(period)
    heads = dict(Customer.objects.filter(depth=1, path__in=list(spread)).values_list("path", "pk"))
    GroupSpread.objects.filter(period=period).delete()
    GroupSpread.objects.bulk_create(
        GroupSpread(period=period, head_id=heads[path], revenue=row["revenue_sum"], provinces=row["provinces"])
        for path, row in spread.items()
        if path in heads
    )


def refresh_replaced(periods: list[date], units: list[int] | None = None) -> list[date]:
    """After billing months were replaced (imported, corrected, back-filled or removed): refresh exactly
    the summary months that read them, for `units` (None: all), and summarise months never summarised.

    A month's rows are read by its own summary and by the next month's (new customers and churn compare
    with the month before); the group spread reads the 12 months to each month. Only months billed or
    already summarised are touched, so loading the newest month refreshes that month alone."""
    billed = CustomerMonth.objects.order_by().aggregate(first=Min("period"), last=Max("period"))
    held = set(SummaryPeriod.objects.values_list("period", flat=True))
    in_range = set(month_range(billed["first"], billed["last"])) if billed["first"] else set()
    known = in_range | held
    rows_read = {month for p in periods for month in (p, add_months(p, 1))} & known
    spread_read = {add_months(p, k) for p in periods for k in range(12)} & known - rows_read
    missing = in_range - held - rows_read
    with transaction.atomic():
        for period in sorted(rows_read):
            refresh(period, units)
        for period in sorted(missing):
            refresh(period)
        for period in sorted(spread_read - missing):
            refresh_spread(period)
    return sorted(rows_read | missing | spread_read)


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
