"""The monthly indicator summary: the measures of `indicators.month_measures` per month, org unit, industry
and grade (IndicatorSummary) and per month and org unit (UnitSummary), the customers using each product
(ProductSummary), computed from the billing months, and the multi-province groups of the month (GroupSpread).
Subtree dashboards read the first three, everyone the last (decisions 0601, 0604)."""

from datetime import date

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Sum, Value
from django.utils import timezone

from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.core.models import AuditEvent
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


@transaction.atomic
def refresh(period: date, units: list[int] | None = None, *, spread: bool = True) -> int:
    """Recompute one month of the summary from the billing months (idempotent), for every org unit or only
    `units` (ids; each unit's rows are its own customers', so the others are left as they are). The month's
    group spread is recomputed whole (unless `spread` is False: nobody moved): it is a fact about groups
    across units. Set-based: the database writes the rows itself (INSERT … SELECT), a few statements a month
    however many customers. Returns the rows (cells) the month holds."""
    months = CustomerMonth.objects.filter(period=period)
    gone = churned_rows(CustomerMonth.objects.all(), [add_months(period, -1)])
    lines = BillingFact.objects.filter(in_use(), period=period)
    held = [model.objects.filter(period=period) for model in (IndicatorSummary, UnitSummary, ProductSummary)]
    if units is not None:
        months = months.filter(customer__org_unit_id__in=units)
        gone = gone.filter(customer__org_unit_id__in=units)
        lines = lines.filter(customer__org_unit_id__in=units)
        held = [rows.filter(org_unit_id__in=units) for rows in held]
    for rows in held:
        rows._raw_delete(rows.db)  # nothing refers to summary rows: no need to fetch them first
    _cells(period, months, gone)
    _by_unit(period, units)
    _products(period, lines)
    if spread:
        refresh_spread(period)
    cells = IndicatorSummary.objects.filter(period=period).count()
    SummaryPeriod.objects.update_or_create(period=period, defaults={"rows": cells})
    return cells


def _cells(period: date, months, gone) -> None:
    """The month's cells (unit × industry × grade): the measures of its billed rows and the customers who
    left it, two GROUP BYs added up in one INSERT … SELECT."""
    names = list(SUMMARY_FIELDS)
    measured = (
        months.values(**GROUP)
        .annotate(**month_measures())
        .annotate(_churned=Value(0))
        .values("unit", "sector", "level", *names, "_churned")
        .order_by()
    )
    zeros = {f"_{name}": Value(0) for name in names}
    left = (
        gone.values(**GROUP)
        .annotate(_n=Count("pk"))
        .annotate(**zeros)
        .values("unit", "sector", "level", *zeros, "_n")
        .order_by()
    )
    measured_sql, measured_params = measured.query.sql_with_params()
    left_sql, left_params = left.query.sql_with_params()
    columns = ["period", "org_unit_id", "industry_id", "grade", *SUMMARY_FIELDS.values(), "churned"]
    quote = connection.ops.quote_name
    # A UNION takes its column names from its first part: the measures' names, then _churned.
    sums = ", ".join(f"SUM(x.{quote(name)})" for name in [*names, "_churned"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {quote(IndicatorSummary._meta.db_table)} ({", ".join(quote(c) for c in columns)})
                SELECT %s, x.unit, x.sector, x.level, {sums}
                FROM (SELECT * FROM ({measured_sql}) a UNION ALL SELECT * FROM ({left_sql}) b) x
                GROUP BY x.unit, x.sector, x.level""",
            [period, *measured_params, *left_params],
        )


def _by_unit(period: date, units: list[int] | None) -> None:
    """The month's cells added up per org unit (every measure is additive)."""
    fields = [*SUMMARY_FIELDS.values(), "churned"]
    cells = IndicatorSummary.objects.filter(period=period)
    if units is not None:
        cells = cells.filter(org_unit_id__in=units)
    rows = (
        cells.values("org_unit_id")
        .annotate(**{f"_{field}": Sum(field) for field in fields})
        .annotate(_period=Value(period))
        .values("_period", "org_unit_id", *(f"_{field}" for field in fields))
        .order_by()
    )
    insert_select(UnitSummary, ["period", "org_unit_id", *fields], rows)


def _products(period: date, lines) -> None:
    """Customers using each product per org unit, and per org unit and industry or grade: one GROUP BY over
    the month's bill lines in use (a customer's line of a product is one row) to cells, added up three ways."""
    cells = (
        lines.values("product_id", unit=F("customer__org_unit_id"), sector=F("customer__industry_id"))
        .annotate(level=F("customer__grade"), n=Count("pk"))
        .values("product_id", "unit", "sector", "level", "n")
        .order_by()
    )
    cells_sql, params = cells.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("period", "org_unit_id", "product_id", "dimension", "key", "customers"))
    splits = [(ProductDimension.NONE, "''"), (ProductDimension.INDUSTRY, "sector"), (ProductDimension.GRADE, "level")]
    selects = " UNION ALL ".join(
        f"SELECT %s, unit, product_id, %s, {key}, SUM(n) FROM cells GROUP BY unit, product_id"
        + (f", {key}" if key != "''" else "")
        for _dimension, key in splits
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH cells AS ({cells_sql}) INSERT INTO {quote(ProductSummary._meta.db_table)} ({columns}) {selects}",
            [*params, *(value for dimension, _key in splits for value in (period, dimension))],
        )


def insert_select(model, columns: list[str], rows) -> None:
    """INSERT INTO the model's table (columns) the rows of a values() queryset, in the same order."""
    sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(c.removesuffix("_id")).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({names}) {sql}", params)


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


def changed_units(since) -> tuple[set[int], bool]:
    """Org units whose customers changed unit, industry or grade since `since`: the unit of every customer
    saved since then, and the unit a moved customer left (from its audit trail, which keeps the value before);
    and whether anyone moved (the group spread counts provinces)."""
    changed = Customer.objects.filter(updated_at__gt=since)
    units = set(changed.values_list("org_unit_id", flat=True))
    moves = AuditEvent.objects.filter(
        target_type=Customer._meta.label_lower, at__gt=since, before__has_key="org_unit"
    ).values_list("before", flat=True)
    left = {int(before["org_unit"]) for before in moves if before.get("org_unit")}
    return units | left, bool(left)


def refresh_due() -> list[date]:
    """The nightly refresh, of what changed only: months of the billed range never summarised, and in every
    summarised month the org units whose customers changed unit, industry or grade since the month was last
    refreshed (the summary keys on today's unit, industry and grade). New, corrected and removed months are
    refreshed by the import that replaced them (`refresh_replaced`). Returns the months refreshed."""
    started = timezone.now()
    billed = CustomerMonth.objects.order_by().aggregate(first=Min("period"), last=Max("period"))
    if billed["first"] is None:
        return []
    # Every month of the range, billed or not, so the summary knows an empty month from a missing one.
    months = month_range(billed["first"], billed["last"])
    held = dict(SummaryPeriod.objects.filter(period__in=months).values_list("period", "refreshed_at"))
    missing = [p for p in months if p not in held]
    for period in missing:
        refresh(period)
    units, moved = changed_units(min(held.values())) if held else (set(), False)
    touched = sorted(held) if units else []
    for period in touched:
        refresh(period, sorted(units), spread=moved)
    # Every month is now in step with the customers as they were when this run started.
    SummaryPeriod.objects.filter(period__in=list(held)).update(refreshed_at=started)
    return sorted(set(missing) | set(touched))


def refresh_all() -> list[date]:
    """A full rebuild: every month of the billed range summarised again (the demo, a changed definition)."""
    SummaryPeriod.objects.all().delete()
    return refresh_due()
