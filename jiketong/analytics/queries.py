"""Every read of the analytics app, scoped to the user: indicator tables, targets and their progress,
grade proposals, segments and what the dashboards show."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from jiketong.billing.models import BillingFact
from jiketong.core.paging import LIST_COUNT_CAP, CappedPaginator  # noqa: F401  (the pages import it from here)
from jiketong.core.trees import subtree
from jiketong.customers.models import Customer
from jiketong.org.models import OrgUnit, Role, can, staff_of

from . import indicators, segments
from .indicators import Calculation
from .models import (
    AnalyticsRun,
    CustomerSegment,
    GradeProposal,
    ProductDimension,
    ProductSummary,
    ProposalStatus,
    RunKind,
    RunStatus,
    SegmentPeriod,
    Target,
    TargetPeriod,
)
from .periods import add_months, month_range

# What each dashboard shows; the tables group these by org unit, industry and grade.
KPI_CODES = ["in_service", "new_customers", "churned_customers", "revenue", "revenue_mom", "revenue_yoy"]
TABLE_CODES = [
    "in_service",
    "new_customers",
    "churned_customers",
    "customer_churn_rate",
    "members_end",
    "revenue",
    "revenue_share",
    "mobile_group",
    "integrated",
    "products_per_customer",
]
STRUCTURE_CODES = [
    "coverage_rate",
    "category_total",
    "mobile_group",
    "integrated",
    "cross_province",
    "national",
    "sticky_share",
    "top10_share",
    "hhi",
    "products_per_customer",
]
TREND_MONTHS = 12
TARGET_READERS = Role.SUBTREE_ROLES | {Role.ADMIN}


def is_portfolio_user(user) -> bool:
    """A manager or inside-sales user without a subtree role sees the portfolio dashboard."""
    staff = staff_of(user)
    if user.is_superuser or staff is None:
        return False
    return bool(staff.role_codes & Role.PORTFOLIO_ROLES) and not staff.role_codes & (Role.SUBTREE_ROLES | {Role.ADMIN})


def units_visible(user) -> QuerySet[OrgUnit]:
    """Org units the user may pick (targets, drill-downs): their own subtree; HQ and admins all."""
    staff = staff_of(user)
    if user.is_superuser or (staff and (Role.ADMIN in staff.role_codes or staff.org_unit.is_root())):
        return OrgUnit.objects.all()
    if staff is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(subtree(staff.org_unit.path))


# --- indicator tables ----------------------------------------------------------------------------------
@dataclass
class Table:
    """Indicators (columns) by group (rows), with the total row."""

    calc: Calculation
    codes: list[str]
    rows: list[dict] = field(default_factory=list)  # {"key", "label", "values": [..]}
    totals: list = field(default_factory=list)
    total_cells: list = field(default_factory=list)

    @property
    def by_label(self) -> str:
        return indicators.BY_CHOICES[self.calc.by]

    @property
    def indicators(self) -> list[indicators.Indicator]:
        return [indicators.get(code) for code in self.codes]

    @property
    def additive(self) -> bool:
        """Whether every column's rows add up to its total (no ratio or average among them)."""
        return all(item.additive for item in self.indicators)


def indicator_table(calc: Calculation, codes: list[str]) -> Table:
    values = {code: calc.value(code) for code in codes}
    keys = sorted({key for column in values.values() for key in column}, key=str)
    labels = calc.labels(keys)
    table = Table(calc=calc, codes=codes)
    items = table.indicators
    table.rows = [
        {
            "key": key,
            "param": f"{key:%Y-%m}" if isinstance(key, date) else key,
            "label": labels[key],
            "values": [values[code].get(key) for code in codes],
        }
        for key in keys
    ]
    for row in table.rows:
        row["cells"] = [{"indicator": item, "value": value} for item, value in zip(items, row["values"], strict=True)]
    if calc.by not in ("", "month"):
        table.totals = [calc.total(code) for code in codes]
    table.total_cells = [{"indicator": item, "value": value} for item, value in zip(items, table.totals, strict=False)]
    return table


def penetration_by_product(calc: Calculation) -> list[dict]:
    """Each product's penetration in the period: customers using it ÷ customers in service (one GROUP BY over
    the summary's product rows of the scope's units, or over the portfolio's bill lines for a manager)."""
    in_service = calc.value("in_service").get("") if calc.by == "" else calc.total("in_service")
    if calc.units_summarised:
        lines = ProductSummary.objects.filter(calc.summary_scope(), period=calc.period, dimension=ProductDimension.NONE)
        measure = Sum("customers")
    else:
        lines = BillingFact.objects.filter(indicators.in_use(), calc.scope("customer__"), period=calc.period)
        measure = indicators.product_measures()["with_product"]
    rows = (
        lines.values("product__code", "product__name")
        .annotate(customers=measure)
        .order_by("-customers", "product__code")
    )
    return [
        {
            "code": row["product__code"],
            "name": row["product__name"],
            "customers": row["customers"],
            "rate": indicators.percent(row["customers"], in_service),
        }
        for row in rows
    ]


def trend(user, period: date, codes: list[str], *, months: int = TREND_MONTHS, unit=None) -> dict:
    """{"months": ["2025-06", ...], code: [values...]} for a chart."""
    calc = Calculation(user, period=period, start=add_months(period, -(months - 1)), by="month", unit=unit)
    series = {"months": [f"{p:%Y-%m}" for p in calc.months]}
    for code in codes:
        values = calc.value(code)
        series[code] = [json_number(values.get(p)) for p in calc.months]
    return series


def json_number(value):
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


# --- drill-down ---------------------------------------------------------------------------------------------
class CountedPaginator(Paginator):
    """A paginator told how many rows there are instead of counting them."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


# Figures that count exactly the customers their drill-down lists (net adds, a difference, does not).
COUNTED_DRILLS = frozenset(
    {"in_service", "new_customers", "churned_customers", "cross_province", "national", "mobile_group",
     "integrated", "category_total"}
)  # fmt: skip


def drill_pages(calc: Calculation, indicator, key, customers, per_page: int) -> Paginator:
    """Pages of the customers behind a figure. When the figure counts those customers it is the number of
    rows (from the summary for subtree users: as of its last refresh), so a province's list does not count a
    million rows again; other figures (ratios, members, money) count their customers."""
    if indicator.code in COUNTED_DRILLS:
        values = calc.value(indicator.code)
        if key is not None:
            figure = values.get(key)
        elif calc.by == "":
            figure = values.get("")
        elif calc.by == "month":
            figure = values.get(calc.period)
        else:
            figure = calc.total(indicator.code)
        return CountedPaginator(customers, per_page, figure or 0)
    return Paginator(customers, per_page)


# --- targets -------------------------------------------------------------------------------------------
def targets_visible(user) -> QuerySet[Target]:
    """Targets of the user's subtree. Managers work to their own portfolio, not to org targets: 403."""
    if not can(user, TARGET_READERS):
        raise PermissionDenied(_("Targets are for supervisors, analysts and administrators."))
    return Target.objects.visible_to(user).select_related("org_unit")


def target_get(user, pk: int) -> Target:
    return get_object_or_404(targets_visible(user), pk=pk)


def target_actual(user, target: Target):
    """The indicator's actual for the target's unit (within the user's scope) and period: a month's value,
    or for a year the sum of its months (flows) or its latest month (stocks and ratios)."""
    indicator = indicators.get(target.indicator)
    if target.period_type == TargetPeriod.MONTH:
        return Calculation(user, period=target.period, unit=target.org_unit).value(target.indicator)[""]
    end = min(date(target.period.year, 12, 1), indicators.latest_period())
    if end < target.period:
        return None
    values = Calculation(user, period=end, start=target.period, by="month", unit=target.org_unit).value(
        target.indicator
    )
    if indicator.year == "sum":
        return sum(
            (values[p] or 0 for p in month_range(target.period, end)), Decimal(0) if indicator.unit == "yuan" else 0
        )
    return values[end]


def target_progress(user, targets) -> list[dict]:
    rows = []
    for target in targets:
        actual = target_actual(user, target)
        rows.append(
            {
                "target": target,
                "indicator": indicators.get(target.indicator),
                "actual": actual,
                "progress": indicators.percent(actual, target.value) if actual is not None else None,
            }
        )
    return rows


# --- grade proposals and segments ------------------------------------------------------------------------
def proposals_visible(user, status: str = ProposalStatus.PENDING) -> QuerySet[GradeProposal]:
    proposals = GradeProposal.objects.visible_to(user).select_related("customer", "customer__owner", "decided_by")
    return proposals.filter(status=status) if status else proposals


def segments_held(period: date) -> SegmentPeriod | None:
    """The month's materialised segments (when they were computed), or None: not computed yet."""
    return SegmentPeriod.objects.filter(period=period).first()


def _segment_rows(user, period: date, level: int | None) -> QuerySet[CustomerSegment]:
    rows = CustomerSegment.objects.visible_to(user)
    if level is None:
        # A portfolio is ranked on request over its own rows: name them (a few thousand ids, each found on
        # the (period, customer) key) rather than let the ranking walk the whole month to find them.
        rows = CustomerSegment.objects.filter(
            customer_id__in=list(Customer.objects.visible_to(user).values_list("pk", flat=True))
        )
    return (
        rows.filter(period=period)
        .select_related("customer", "customer__owner")
        .defer(*(f"{name}{level}" for name in ("r", "f", "m", "tier", "value") for level in segments.LEVELS))
    )


def rfm_list(user, period: date) -> QuerySet[CustomerSegment]:
    """The user's customers billed in the 12 months to the month with their RFM scores, biggest spend first
    (the month's materialised segments; empty when they are not computed yet)."""
    level = segments.level_of(user)
    rows = segments.rfm(_segment_rows(user, period, level), level)
    return rows.order_by("-monetary", "customer_id")


def value_list(user, period: date, *, face: str = "", tier: str = "", value_class: str = "") -> QuerySet:
    """The user's signed customers with face, tier and value class, biggest net value first."""
    level = segments.level_of(user)
    rows = segments.value(_segment_rows(user, period, level), level).order_by("-net_value", "customer_id")
    conditions = Q()
    if face:
        conditions &= Q(face=face)
    if tier:
        conditions &= Q(tier=tier)
    if value_class:
        conditions &= Q(value_class=value_class)
    if value_class == segments.ValueClass.BZ or tier == segments.Tier.BELOW_ZERO:
        # Below zero is net value < 0 whatever the scope: the end of the (period, net value) index, found at once
        # instead of walking past every customer worth more.
        conditions &= Q(net_value__lt=0)
    return rows.filter(conditions) if conditions else rows


# --- background runs ----------------------------------------------------------------------------------------
def runs_visible(user) -> QuerySet[AnalyticsRun]:
    """Runs the user may follow: their own, every segments run (a month's segments are everyone's), and every
    run for admins."""
    runs = AnalyticsRun.objects.select_related("created_by")
    if user.is_superuser or can(user, {Role.ADMIN}):
        return runs
    return runs.filter(Q(created_by=user) | Q(kind=RunKind.SEGMENTS))


def run_get(user, pk: int) -> AnalyticsRun:
    return get_object_or_404(runs_visible(user), pk=pk)


def latest_regrade(user) -> AnalyticsRun | None:
    return AnalyticsRun.objects.filter(kind=RunKind.REGRADE, created_by=user).first()


def segments_run(period: date) -> AnalyticsRun | None:
    """The month's segments run still queued or running, if any."""
    return AnalyticsRun.objects.filter(
        kind=RunKind.SEGMENTS, period=period, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).first()
