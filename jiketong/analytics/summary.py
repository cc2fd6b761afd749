"""The monthly indicator summary: the measures of `indicators.month_measures` per month, org unit, industry
and grade (IndicatorSummary) and per month and org unit (UnitSummary), the customers using each product
(ProductSummary), computed from the billing months, and the multi-province groups of the month (GroupSpread).
Subtree dashboards read the first three, everyone the last (decisions 0601, 0604)."""

from datetime import date

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum, Value
from django.db.models.functions import Substr
from django.utils import timezone

from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.core.models import AuditEvent
from jiketong.customers.models import Customer

from .indicators import (
    BIG,
    GROUP_PATH,
    NATIONAL_MIN_PROVINCES,
    PROVINCE_PATH,
    SUMMARY_FIELDS,
    archive_measures,
    churned_rows,
    in_use,
    month_measures,
)
from .models import (
    ArchiveSummary,
    GroupSpread,
    IndicatorSummary,
    PortfolioSummary,
    ProductDimension,
    ProductSummary,
    SummaryPeriod,
    UnitSummary,
)
from .periods import ShiftMonth, add_months, month_range

GROUP = {"unit": F("customer__org_unit_id"), "sector": F("customer__industry_id"), "level": F("customer__grade")}


@transaction.atomic
def refresh(
    period: date, units: list[int] | None = None, *, owners: list[int] | None = None, spread: bool = True
) -> int:
    """Recompute one month of the summary (`refresh_months` of that month). Returns the rows (cells) it holds."""
    refresh_months([period], units, owners=owners, spread=spread)
    return IndicatorSummary.objects.filter(period=period).count()


@transaction.atomic
def refresh_months(
    periods: list[date], units: list[int] | None = None, *, owners: list[int] | None = None, spread: bool = True
) -> None:
    """Recompute months of the summary from the billing months (idempotent). Everything when `units` is
    None; else only those org units' rows (each unit's rows are its own customers', so the others are left as
    they are) and the portfolio rows of `owners` (staff ids; none when not given). The months' group spread is
    recomputed whole (unless `spread` is False: nobody moved): it is a fact about groups across units.
    Set-based and in one pass however many months: each table is one INSERT … SELECT grouped by month too
    (a full rebuild reads the customer-months and the bill lines once, not once a month; decision 0607)."""
    periods = sorted(set(periods))
    if not periods:
        return
    months = CustomerMonth.objects.filter(period__in=periods)
    gone = churned_rows(CustomerMonth.objects.all(), [add_months(p, -1) for p in periods])
    lines = BillingFact.objects.filter(in_use(), period__in=periods)
    unit_rows = [model.objects.filter(period__in=periods) for model in (IndicatorSummary, UnitSummary, ProductSummary)]
    portfolios = PortfolioSummary.objects.filter(period__in=periods)
    months_of_units, gone_of_units = months, gone
    if units is not None:
        in_units = Q(customer__org_unit_id__in=units)
        months_of_units, gone_of_units, lines = months.filter(in_units), gone.filter(in_units), lines.filter(in_units)
        unit_rows = [rows.filter(org_unit_id__in=units) for rows in unit_rows] if units else []
        portfolios = portfolios.filter(staff_id__in=owners) if owners else None
    for rows in [*unit_rows, portfolios]:
        if rows is not None:
            rows._raw_delete(rows.db)  # nothing refers to summary rows: no need to fetch them first
    if units is None or units:
        _cells(months_of_units, gone_of_units)
        _by_unit(periods, units)
        _products(lines)
    if units is None or owners:
        _portfolios(months, gone, None if units is None else owners)
    if spread:
        refresh_spreads(periods)
    cells = dict(
        IndicatorSummary.objects.filter(period__in=periods)
        .values("period")
        .annotate(n=Count("pk"))
        .values_list("period", "n")
    )
    held = SummaryPeriod.objects.filter(period__in=periods)
    known = set(held.values_list("period", flat=True))
    now = timezone.now()
    SummaryPeriod.objects.bulk_create(
        SummaryPeriod(period=p, rows=cells.get(p, 0), refreshed_at=now) for p in periods if p not in known
    )
    changed = [
        SummaryPeriod(pk=pk, period=p, rows=cells.get(p, 0), refreshed_at=now)
        for pk, p in held.values_list("pk", "period")
    ]
    SummaryPeriod.objects.bulk_update(changed, ["rows", "refreshed_at"])


# The month a row counts in: a billed row in its own month, a churned row (billed, not the month after) in the next.
BILLED_IN, LEFT_IN = F("period"), ShiftMonth(F("period"), 1)


def _measures(model, keys: dict[str, str], parts: list[tuple]) -> None:
    """Write the months' rows of a summary model: the measures of its billed rows and the customers who left
    it, per month and key (`keys`: model column → expression over CustomerMonth), from several (billed, left)
    pairs of querysets, all GROUP BYs added up in one INSERT … SELECT."""
    names = list(SUMMARY_FIELDS)
    aliases = [f"_k{i}" for i in range(len(keys) + 1)]
    selects, params = [], []
    for months, gone, grouping in parts:
        billed = dict(zip(aliases, [BILLED_IN, *(F(e) for e in grouping)], strict=True))
        left_in = dict(zip(aliases, [LEFT_IN, *(F(e) for e in grouping)], strict=True))
        measured = (
            months.values(**billed)
            .annotate(**month_measures())
            .annotate(_churned=Value(0))
            .values(*aliases, *names, "_churned")
            .order_by()
        )
        zeros = {f"_{name}": Value(0) for name in names}
        left = gone.values(**left_in).annotate(_n=Count("pk")).annotate(**zeros).values(*aliases, *zeros, "_n")
        for queryset in (measured, left.order_by()):
            sql, sql_params = queryset.query.sql_with_params()
            selects.append(f"SELECT * FROM ({sql}) p{len(selects)}")
            params += sql_params
    columns = ["period", *keys, *SUMMARY_FIELDS.values(), "churned"]
    quote = connection.ops.quote_name
    # A UNION takes its column names from its first part: the month, the keys, the measures' names, then _churned.
    # Written in the order of the table's unique key (month first), so its index grows at its end, page by page.
    sums = ", ".join(f"SUM(x.{quote(name)})" for name in [*names, "_churned"])
    group = ", ".join(f"x.{alias}" for alias in aliases)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {quote(model._meta.db_table)} ({", ".join(quote(c) for c in columns)})
                SELECT {group}, {sums} FROM ({" UNION ALL ".join(selects)}) x GROUP BY {group} ORDER BY {group}""",
            params,
        )


def _cells(months, gone) -> None:
    """The months' cells (unit × industry × grade)."""
    grouping = ("customer__org_unit_id", "customer__industry_id", "customer__grade")
    keys = {"org_unit_id": None, "industry_id": None, "grade": None}
    _measures(IndicatorSummary, keys, [(months, gone, grouping)])


def _portfolios(months, gone, owners: list[int] | None) -> None:
    """The months' portfolio rows: each manager's owned customers plus those they back up (never both)."""
    parts = []
    for role in ("owner", "backup_owner"):
        mine = Q(**{f"customer__{role}__isnull": False})
        if owners is not None:
            mine &= Q(**{f"customer__{role}_id__in": owners})
        parts.append((months.filter(mine), gone.filter(mine), (f"customer__{role}_id",)))
    _measures(PortfolioSummary, {"staff_id": None}, parts)


def _by_unit(periods: list[date], units: list[int] | None) -> None:
    """The months' cells added up per org unit (every measure is additive)."""
    fields = [*SUMMARY_FIELDS.values(), "churned"]
    cells = IndicatorSummary.objects.filter(period__in=periods)
    if units is not None:
        cells = cells.filter(org_unit_id__in=units)
    rows = (
        cells.values("period", "org_unit_id")
        .annotate(**{f"_{field}": Sum(field) for field in fields})
        .values("period", "org_unit_id", *(f"_{field}" for field in fields))
        .order_by("period", "org_unit_id")  # the unique key's order
    )
    insert_select(UnitSummary, ["period", "org_unit_id", *fields], rows)


def _products(lines) -> None:
    """Customers using each product per org unit, and per org unit and industry or grade: one GROUP BY over
    the months' bill lines in use (a customer's line of a product is one row) to cells, added up three ways."""
    cells = (
        lines.values("period", "product_id", unit=F("customer__org_unit_id"), sector=F("customer__industry_id"))
        .annotate(level=F("customer__grade"), n=Count("pk"))
        .values("period", "product_id", "unit", "sector", "level", "n")
        .order_by()
    )
    cells_sql, params = cells.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("period", "org_unit_id", "product_id", "dimension", "key", "customers"))
    splits = [(ProductDimension.NONE, "''"), (ProductDimension.INDUSTRY, "sector"), (ProductDimension.GRADE, "level")]
    selects = " UNION ALL ".join(
        f"SELECT period, unit, product_id, %s AS dimension, {key} AS key, SUM(n) AS n FROM cells"
        f" GROUP BY period, unit, product_id" + (f", {key}" if key != "''" else "")
        for _dimension, key in splits
    )
    # In the order of the table's unique key (period, dimension, org unit, product, key): its index grows at its end.
    rows = f"SELECT * FROM ({selects}) s ORDER BY period, dimension, unit, product_id, key"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH cells AS ({cells_sql}) INSERT INTO {quote(ProductSummary._meta.db_table)} ({columns}) {rows}",
            [*params, *(dimension for dimension, _key in splits)],
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
    refresh_spreads([period])


def refresh_spreads(periods: list[date]) -> None:
    """Recompute the months' multi-province groups (GroupSpread), each over the 12 months to it: what
    `indicators.group_spread` measures, for every month in one pass (the grouped customers' months summed per
    group, province and month once, then added up over each month's window), written by the database."""
    periods = sorted(set(periods))
    if not periods:
        return
    GroupSpread.objects.filter(period__in=periods)._raw_delete(GroupSpread.objects.db)
    window = [(p, add_months(p, -k)) for p in periods for k in range(12)]
    in_groups = Customer.objects.filter(Q(depth__gt=1) | Q(numchild__gt=0)).values("pk")
    base = (
        CustomerMonth.objects.filter(period__in=sorted({month for _p, month in window}), customer_id__in=in_groups)
        .annotate(
            _group=Substr("customer__path", 1, GROUP_PATH),
            _province=Substr("customer__org_unit__path", 1, PROVINCE_PATH),
        )
        .values("_group", "_province", "period")
        .annotate(_revenue=Sum("revenue", output_field=BIG))
        .values("_group", "_province", "period", "_revenue")
        .order_by()
    )
    base_sql, base_params = base.query.sql_with_params()
    quote = connection.ops.quote_name
    pairs = ", ".join(["(%s, %s)"] * len(window))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH w (target, month) AS (VALUES {pairs}), base AS ({base_sql})
                INSERT INTO {quote(GroupSpread._meta.db_table)} (period, head_id, revenue, provinces)
                SELECT w.target, h.id, SUM(b._revenue), COUNT(DISTINCT b._province)
                FROM base b JOIN w ON w.month = b.period
                JOIN {quote(Customer._meta.db_table)} h ON h.path = b._group AND h.depth = 1
                GROUP BY w.target, h.id HAVING COUNT(DISTINCT b._province) >= %s""",
            [*(value for pair in window for value in pair), *base_params, NATIONAL_MIN_PROVINCES],
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
        refresh_months(sorted(rows_read), units)
        refresh_months(sorted(missing))
        refresh_spreads(sorted(spread_read - missing))
    return sorted(rows_read | missing | spread_read)


def changed_since(since) -> tuple[set[int], set[int], bool]:
    """What the summary keys on that changed since `since`: the org units and the managers (owners and backups)
    of every customer saved since then, with the unit it left and the managers it had (from its audit trail,
    which keeps the values before), and whether anyone moved (the group spread counts provinces)."""
    changed = Customer.objects.filter(updated_at__gt=since).values_list("org_unit_id", "owner_id", "backup_owner_id")
    units, owners = set(), set()
    for unit, owner, backup in changed:
        units.add(unit)
        owners |= {owner, backup}
    befores = AuditEvent.objects.filter(target_type=Customer._meta.label_lower, at__gt=since).values_list(
        "before", flat=True
    )
    moved = False
    for before in befores:
        if not isinstance(before, dict):
            continue
        if before.get("org_unit"):
            units.add(int(before["org_unit"]))
            moved = True
        owners |= {before.get("owner"), before.get("backup_owner")}
    return units, {int(owner) for owner in owners if owner}, moved


def refresh_due() -> list[date]:
    """The nightly refresh, of what changed only: months of the billed range never summarised, and in every
    summarised month the org units and portfolios whose customers changed unit, industry, grade, owner or
    backup since the month was last refreshed (the summary keys on today's). New, corrected and removed months are
    refreshed by the import that replaced them (`refresh_replaced`). Returns the months refreshed."""
    started = timezone.now()
    billed = CustomerMonth.objects.order_by().aggregate(first=Min("period"), last=Max("period"))
    if billed["first"] is None:
        return []
    # Every month of the range, billed or not, so the summary knows an empty month from a missing one.
    months = month_range(billed["first"], billed["last"])
    held = dict(SummaryPeriod.objects.filter(period__in=months).values_list("period", "refreshed_at"))
    missing = [p for p in months if p not in held]
    refresh_months(missing)  # a full rebuild: every month in one pass
    units, owners, moved = changed_since(min(held.values())) if held else (set(), set(), False)
    touched = sorted(held) if units or owners else []
    refresh_months(touched, sorted(units), owners=sorted(owners), spread=moved)
    # Every month is now in step with the customers as they were when this run started.
    SummaryPeriod.objects.filter(period__in=list(held)).update(refreshed_at=started)
    refresh_archive()
    return sorted(set(missing) | set(touched))


@transaction.atomic
def refresh_archive() -> int:
    """Recount the archive per org unit, industry and grade (the coverage rate's counts): one GROUP BY over the
    customers, written by the database itself. Returns the rows written."""
    ArchiveSummary.objects.all()._raw_delete(ArchiveSummary.objects.db)
    rows = (
        Customer.objects.values("org_unit_id", "industry_id", "grade")
        .annotate(**{f"_{name}": measure for name, measure in archive_measures().items()})
        .values("org_unit_id", "industry_id", "grade", "_surveyed", "_signed")
        .order_by()
    )
    insert_select(ArchiveSummary, ["org_unit_id", "industry_id", "grade", "surveyed", "signed"], rows)
    return ArchiveSummary.objects.count()


def refresh_all() -> list[date]:
    """A full rebuild: every month of the billed range summarised again (the demo, a changed definition).
    The month tables are emptied first (TRUNCATE on PostgreSQL: no dead rows for the new ones' unique keys to
    step over), so the rebuild writes into empty tables; until it commits, pages read the live figures."""
    tables = [IndicatorSummary, UnitSummary, ProductSummary, PortfolioSummary, GroupSpread, SummaryPeriod]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables))
        else:
            for model in tables:
                model.objects.all()._raw_delete(model.objects.db)
    return refresh_due()
