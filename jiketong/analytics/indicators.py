"""The indicators of DOMAIN §10 and the statistical categories of DOMAIN §4, computed in the database.

Each indicator is a registry entry: code, name, unit, a definition shown next to the figure (and copied into
docs/indicators.md), a function computing it for a `Calculation` (the user's scope, a period or a range of
months, a grouping) and a condition picking the customers behind a figure (the drill-down).

A `Calculation` queries a few shared aggregates once (GROUP BY over the month's customer rows, or the
monthly summary for subtree users, ...) and every indicator of a dashboard is derived from them, so a page
costs a handful of queries whatever the number of indicators or customers. No figure looks into a
customer's bill lines per customer: the categories, "new" and sticky revenue are facts of the customer-month
(`billing.rollup`), counted here (docs/decisions/0604).

Periods are billing months: "in service" means billed that month (a CustomerMonth row exists).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, DecimalField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Substr
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.core.trees import subtree
from jiketong.customers.models import Customer, Industry, LifecycleStatus
from jiketong.org.models import OrgUnit, Role, staff_of
from jiketong.org.scope import customer_scope, record_scope

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
from .periods import ShiftMonth, add_months, month_range, month_start

NATIONAL_MIN_PROVINCES = 2  # 全国性 / 跨省: services used in at least this many provinces
NATIONAL_MIN_REVENUE = Decimal("1000000")  # 全国性: yearly revenue strictly above this
TOP_N = 10
SIGNED = (LifecycleStatus.ACTIVE, LifecycleStatus.AT_RISK, LifecycleStatus.DORMANT)
PROVINCE_PATH = OrgUnit.steplen * 2
GROUP_PATH = Customer.steplen

BY_CHOICES = {
    "": gettext_lazy("Total"),
    "org": gettext_lazy("Org unit"),
    "industry": gettext_lazy("Industry"),
    "grade": gettext_lazy("Grade"),
    "month": gettext_lazy("Month"),
}
BIG = DecimalField(max_digits=30, decimal_places=2)
ZERO = Decimal(0)


def percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _growth(now, before) -> Decimal | None:
    if not before:
        return None
    return ((Decimal(now or 0) - Decimal(before)) * 100 / Decimal(before)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"), ROUND_HALF_UP)


def latest_period() -> date:
    """The newest billed month, or this month when nothing is billed yet."""
    period = CustomerMonth.objects.order_by("-period").values_list("period", flat=True).first()
    return period or month_start(date.today())


def in_use(prefix: str = "") -> Q:
    """A billing fact that shows the product in use: billed revenue or billed members."""
    return Q(**{f"{prefix}revenue__gt": 0}) | Q(**{f"{prefix}billed_members__gt": 0})


CATEGORISED = Q(is_mobile_group=True) | Q(is_integrated=True)  # a customer-month in a category of its own


def month_measures() -> dict:
    """The additive measures of a set of CustomerMonth rows: one definition for the live query and the summary.
    Plain sums and counts of the month's own columns (no subquery per row), so a month of a province is one
    pass over its rows."""
    return {
        "in_service": Count("pk"),
        "revenue_sum": Sum("revenue", output_field=BIG),
        "revenue_sq": Sum(F("revenue") * F("revenue"), output_field=BIG),
        "sticky_sum": Sum("sticky_revenue", output_field=BIG),
        "members_sum": Sum("members"),
        "joined_sum": Sum("joined"),
        "left_sum": Sum("left"),
        "products_sum": Sum("products"),
        "new": Count("pk", filter=Q(is_new=True)),
        "mobile": Count("pk", filter=Q(is_mobile_group=True)),
        "integrated": Count("pk", filter=Q(is_integrated=True)),
        "categorised": Count("pk", filter=CATEGORISED),
    }


def archive_measures() -> dict:
    """Organisations surveyed (every record of the archive) and signed customers, over Customer rows."""
    return {"surveyed": Count("pk"), "signed": Count("pk", filter=Q(status__in=SIGNED))}


def product_measures() -> dict:
    """Customers using the product (billed revenue or members on it), over BillingFact rows of one product."""
    return {"with_product": Count("pk")}


# month_measures() name → IndicatorSummary field
SUMMARY_FIELDS = {
    "in_service": "in_service",
    "revenue_sum": "revenue",
    "revenue_sq": "revenue_sq",
    "sticky_sum": "sticky_revenue",
    "members_sum": "members",
    "joined_sum": "joined",
    "left_sum": "left",
    "products_sum": "products",
    "new": "new",
    "mobile": "mobile",
    "integrated": "integrated",
    "categorised": "categorised",
}
UNIT_GROUPINGS = ("", "org", "month")  # read UnitSummary; industry and grade read the cells (IndicatorSummary)


def group_spread(period: date) -> dict[str, dict]:
    """Multi-province groups over the 12 months to the period: head path → revenue and provinces.
    A group's spread is a fact about the whole group, so it is measured unscoped (and shown as counts only)."""
    # Only a group of two units or more can span provinces: its head has children, its members sit below it.
    in_groups = Customer.objects.filter(Q(depth__gt=1) | Q(numchild__gt=0)).values("pk")
    rows = (
        CustomerMonth.objects.filter(period__gt=add_months(period, -12), period__lte=period, customer_id__in=in_groups)
        .annotate(_group=Substr("customer__path", 1, GROUP_PATH))
        .values("_group")
        .annotate(
            revenue_sum=Sum("revenue", output_field=BIG),
            provinces=Count(Substr("customer__org_unit__path", 1, PROVINCE_PATH), distinct=True),
        )
        .filter(provinces__gte=NATIONAL_MIN_PROVINCES)
        .order_by()
    )
    return {row["_group"]: row for row in rows}


def churned_rows(months: QuerySet, periods: list[date]) -> QuerySet:
    """The rows of `periods` whose customer was not billed the month after (churned in that next month)."""
    following = CustomerMonth.objects.filter(
        customer_id=OuterRef("customer_id"), period=ShiftMonth(OuterRef("period"), 1)
    )
    return months.filter(period__in=periods).filter(~Exists(following))


class Calculation:
    """Indicators for one user, period (or range of months, when grouped by month) and grouping.

    `unit` narrows the user's scope to an org unit's subtree (targets, a supervisor's child unit).
    """

    def __init__(
        self,
        user,
        *,
        period: date | None = None,
        start: date | None = None,
        by: str = "",
        unit: OrgUnit | None = None,
        product: str = "",
    ):
        if by not in BY_CHOICES:
            raise ValidationError({"by": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(BY_CHOICES)}]})
        self.user = user
        self.period = month_start(period) if period else latest_period()
        self.start = month_start(start) if start and by == "month" else self.period
        if self.start > self.period:
            raise ValidationError({"start": [_("The start month must not be after the end month.")]})
        self.by = by
        self.unit = unit
        self.product = product
        self._values: dict[str, dict] = {}

    # --- scope and grouping ------------------------------------------------------------------------
    @cached_property
    def months(self) -> list[date]:
        return month_range(self.start, self.period)

    @cached_property
    def home(self) -> OrgUnit:
        """The unit whose children `by=org` groups into: the chosen unit, else the user's own."""
        if self.unit is not None:
            return self.unit
        staff = staff_of(self.user)
        return staff.org_unit if staff is not None else OrgUnit.get_first_root_node()

    def scope(self, prefix: str = "") -> Q:
        q = customer_scope(self.user, prefix)
        if self.unit is not None:
            q &= Q(**{f"{prefix}org_unit__in": OrgUnit.objects.filter(subtree(self.unit.path)).values("pk")})
        return q

    def key_expression(self, prefix: str = ""):
        if self.by == "org":
            return Substr(F(f"{prefix}org_unit__path"), 1, (self.home.depth + 1) * OrgUnit.steplen)
        if self.by == "industry":
            return F(f"{prefix}industry_id")
        if self.by == "grade":
            return F(f"{prefix}grade")
        return Value("")

    def key_filter(self, key, prefix: str = "") -> Q:
        """The customers behind one row of a grouped table (`key` as the table gives it)."""
        if self.by == "org":
            return subtree(key, f"{prefix}org_unit__path")
        if self.by == "industry":
            return Q(**{f"{prefix}industry_id": key})
        if self.by == "grade":
            return Q(**{f"{prefix}grade": key})
        return Q()

    def _grouped(self, queryset: QuerySet, prefix: str, period_expression, **aggregates) -> dict[tuple, dict]:
        rows = (
            queryset.annotate(_key=self.key_expression(prefix), _period=period_expression)
            .values("_key", "_period")
            .annotate(**aggregates)
            .order_by()
        )
        return {(row["_key"], row["_period"]): row for row in rows}

    def each(self, function: Callable[[str, date], object], rows: dict[tuple, dict] | None = None) -> dict:
        """{output key: function(group key, period)}: per month when grouped by month, else per group key
        found in `rows` (default: the month's customer rows) for the period."""
        if self.by == "month":
            return {period: function("", period) for period in self.months}
        if self.by == "":
            return {"": function("", self.period)}
        rows = self.base if rows is None else rows
        keys = sorted({key for key, period in rows if period == self.period}, key=str)
        return {key: function(key, self.period) for key in keys}

    # --- shared aggregates (one query each, cached) ---------------------------------------------------
    @cached_property
    def base_periods(self) -> list[date]:
        # The months shown, the month before each (changes, churn) and a year before (YoY).
        return sorted({p for month in self.months for p in (month, add_months(month, -1), add_months(month, -12))})

    @cached_property
    def portfolio(self):
        """The customer manager whose portfolio is the whole scope (portfolio roles only), else None."""
        staff = staff_of(self.user)
        if self.user.is_superuser or staff is None or not staff.role_codes & Role.PORTFOLIO_ROLES:
            return None
        return None if staff.role_codes & (Role.SUBTREE_ROLES | {Role.ADMIN}) else staff

    @cached_property
    def summarised(self) -> bool:
        """Whether to read the monthly summary instead of the customer rows, when it holds the months: for
        users whose scope is an org subtree, and for a manager's portfolio in total and by month (the
        portfolio rows know no unit, industry or grade: grouped, a portfolio is read live). A user with both
        kinds of role sees the union of both scopes: live."""
        staff = staff_of(self.user)
        if staff is None and not self.user.is_superuser:
            return False
        if self.portfolio is not None:
            if self.by not in ("", "month") or self.unit is not None:
                return False
        elif staff is not None and staff.role_codes & Role.PORTFOLIO_ROLES:
            return False
        held = self.held_periods
        # Months before the first summarised one were never billed, so they are empty in both sources.
        return bool(held) and {p for p in self.base_periods if p >= held[0]} <= set(held)

    @cached_property
    def archive_held(self) -> bool:
        """Whether the archive has been counted (the nightly job), for the coverage rate."""
        return ArchiveSummary.objects.exists()

    @cached_property
    def held_periods(self) -> list[date]:
        """The months the summary holds (a few dozen rows)."""
        return list(SummaryPeriod.objects.values_list("period", flat=True))

    @property
    def units_summarised(self) -> bool:
        """Summarised by org unit (subtree users): the product rows are kept by unit, not by portfolio."""
        return self.summarised and self.portfolio is None

    def summary_scope(self) -> Q:
        if self.portfolio is not None:
            return Q(staff=self.portfolio)
        q = record_scope(self.user, org_unit="org_unit", owners=())
        if self.unit is not None:
            q &= Q(org_unit__in=OrgUnit.objects.filter(subtree(self.unit.path)).values("pk"))
        return q

    @property
    def summary_model(self):
        """Totals, tables by org unit and trends read the per-unit rows; by industry or grade, the cells;
        a manager, the portfolio's rows."""
        if self.portfolio is not None:
            return PortfolioSummary
        return UnitSummary if self.by in UNIT_GROUPINGS else IndicatorSummary

    @cached_property
    def base(self) -> dict[tuple, dict]:
        """Per group and month: customers in service, revenue, members, joins, leaves, new customers, ..."""
        if self.summarised:
            # Rows with nobody in service only carry churned customers (read by `churned`).
            rows = self.summary_model.objects.filter(
                self.summary_scope(), period__in=self.base_periods, in_service__gt=0
            )
            sums = {name: Sum(field) for name, field in SUMMARY_FIELDS.items()}
            return self._grouped(rows, "", F("period"), **sums)
        months = CustomerMonth.objects.filter(self.scope("customer__"), period__in=self.base_periods)
        return self._grouped(months, "customer__", F("period"), **month_measures())

    @cached_property
    def churned(self) -> dict[tuple, dict]:
        """Customers billed the month before and not in the month, counted in the month, per group with any.
        The summary keeps them (its months may have been refreshed at different times, a moved customer in
        another unit in each: only a count made with the month itself is safe); live, they are derived from
        the months, no query: every customer billed in a month was billed the month before or is new, so
        churned = in service the month before − in service now + new now."""
        if self.summarised:
            rows = self.summary_model.objects.filter(self.summary_scope(), period__in=self.months, churned__gt=0)
            return self._grouped(rows, "", F("period"), n=Sum("churned"))
        rows = {}
        for group in {group for group, _period in self.base}:
            for period in self.months:
                before = _row(self, group, add_months(period, -1), "in_service")
                n = before - _row(self, group, period, "in_service") + _row(self, group, period, "new")
                if n:
                    rows[(group, period)] = {"n": n}
        return rows

    @cached_property
    def products(self) -> dict[tuple, dict]:
        """Per group and month: customers using the chosen product (the summary's product rows for subtree
        users, the product's bill lines of the portfolio for managers)."""
        if self.units_summarised:
            dimension = {"industry": ProductDimension.INDUSTRY, "grade": ProductDimension.GRADE}
            rows = ProductSummary.objects.filter(
                self.summary_scope(),
                period__in=self.months,
                product__code=self.product,
                dimension=dimension.get(self.by, ProductDimension.NONE),
            )
            key = F("key") if self.by in dimension else self.key_expression("")
            rows = rows.annotate(_key=key, _period=F("period")).values("_key", "_period")
            return {
                (row["_key"], row["_period"]): row for row in rows.annotate(with_product=Sum("customers")).order_by()
            }
        lines = BillingFact.objects.filter(
            in_use(), self.scope("customer__"), period__in=self.months, product__code=self.product
        )
        return self._grouped(lines, "customer__", F("period"), **product_measures())

    def top_groups(self) -> list[tuple]:
        """(group key, month) pairs whose TOP_N customers a figure needs."""
        if self.by == "month":
            return [("", period) for period in self.months]
        if self.by == "":
            return [("", self.period)]
        return sorted({(key, period) for key, period in self.base if period == self.period}, key=str)

    @cached_property
    def top(self) -> dict[tuple, Decimal]:
        """Revenue of the TOP_N biggest customers per group and month. Each group's biggest bills come off the
        (period, revenue) index, TOP_N rows each, so this reads TOP_N × groups rows whatever the scope's size
        (the groups are the months shown or a unit's children, industries, grades)."""
        groups = self.top_groups()
        scoped = CustomerMonth.objects.filter(self.scope("customer__"))

        def biggest(index: int, key, period):
            rows = scoped.filter(self.key_filter(key, "customer__"), period=period).order_by("-revenue")
            return rows.annotate(_group=Value(index, output_field=IntegerField())).values_list("_group", "revenue")[
                :TOP_N
            ]

        parts = [biggest(i, key, period) for i, (key, period) in enumerate(groups)]
        if not parts:
            return {}
        if connection.features.supports_slicing_ordering_in_compound and len(parts) > 1:
            rows = list(parts[0].union(*parts[1:], all=True))
        else:
            rows = [row for part in parts for row in part]
        totals: dict[tuple, Decimal] = {}
        for index, revenue in rows:
            totals[groups[index]] = totals.get(groups[index], ZERO) + revenue
        return totals

    @property
    def spread_held(self) -> bool:
        return self.period in self.held_periods

    def group_heads(self, national: bool) -> QuerySet[Customer]:
        """The visible head units (top of their group) of cross-province (or national) groups: from the
        summary's GroupSpread when it holds the month (the measure scans a year of every group), else live."""
        if self.spread_held:
            spreads = GroupSpread.objects.filter(period=self.period)
            if national:
                spreads = spreads.filter(revenue__gt=NATIONAL_MIN_REVENUE)
            return Customer.objects.filter(self.scope(), pk__in=spreads.values("head_id"))
        rows = group_spread(self.period)
        paths = [path for path, row in rows.items() if not national or row["revenue_sum"] > NATIONAL_MIN_REVENUE]
        return Customer.objects.filter(self.scope(), depth=1, path__in=paths)

    def grouped_customers(self, queryset: QuerySet[Customer], **aggregates) -> dict[tuple, dict]:
        return self._grouped(queryset, "", Value(self.period), **aggregates)

    # --- values ---------------------------------------------------------------------------------------
    def value(self, code: str) -> dict:
        if code not in self._values:
            indicator = get(code)
            if self.by == "month" and not indicator.monthly:
                raise ValidationError({"by": [_("This indicator is not kept by month.")]})
            if indicator.needs_product and not self.product:
                raise ValidationError({"product": [_("Choose a product.")]})
            self._values[code] = indicator.compute(self)
        return self._values[code]

    def total(self, code: str):
        """The indicator for the whole scope and period (no grouping)."""
        if self.by == "":
            return self.value(code).get("")
        return self.whole.value(code).get("")

    @cached_property
    def whole(self) -> "Calculation":
        return Calculation(self.user, period=self.period, unit=self.unit, product=self.product)

    def labels(self, keys) -> dict:
        if self.by == "org":
            names = dict(OrgUnit.objects.filter(path__in=list(keys)).values_list("path", "name"))
            return {key: names.get(key, key) for key in keys}
        if self.by == "industry":
            names = dict(Industry.objects.filter(code__in=list(keys)).values_list("code", "name"))
            return {key: names.get(key, key) for key in keys}
        if self.by == "month":
            return {key: f"{key:%Y-%m}" for key in keys}
        if self.by == "":
            return {key: _("Total") for key in keys}
        return {key: key for key in keys}

    def drill(self, code: str, key=None) -> QuerySet[Customer]:
        """The visible customers behind one figure (a row of the table, or the total)."""
        indicator = get(code)
        period = key if self.by == "month" and key else self.period
        customers = Customer.objects.filter(self.scope()).filter(indicator.drill(self, period))
        if key is not None and self.by not in ("", "month"):
            customers = customers.filter(self.key_filter(key))
        return customers


# --- the registry ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    code: str
    section: str
    name: str
    unit: str  # count, yuan, percent, number, points
    definition: str
    compute: Callable[[Calculation], dict]
    drill: Callable[[Calculation, date], Q]
    monthly: bool = True  # can be shown month by month (and given a target)
    year: str = "last"  # a year's actual: "sum" of the months (flows) or the "last" month (stocks, ratios)
    needs_product: bool = False
    signed: bool = False  # can fall below zero (net adds, growth): only then may a target be negative

    @property
    def targetable(self) -> bool:
        """Whether the indicator can be given a target: kept by month, and not per product."""
        return self.monthly and not self.needs_product

    @property
    def additive(self) -> bool:
        """Whether a grouped table's rows add up to its total: counts of customers or members and money do
        (each customer sits in one row); a ratio's or an average's total is worked out over the whole."""
        return self.unit in ADDITIVE_UNITS


ADDITIVE_UNITS = frozenset({"count", "members", "yuan"})
SECTIONS = {
    "coverage": gettext_lazy("Coverage (圈地)"),
    "development": gettext_lazy("Development (发展)"),
    "revenue": gettext_lazy("Revenue (收入)"),
    "churn": gettext_lazy("Churn (离网)"),
    "national": gettext_lazy("Cross-province and national"),
    "categories": gettext_lazy("Statistical categories"),
    "health": gettext_lazy("Health"),
}
UNITS = {
    "count": gettext_lazy("customers"),
    "members": pgettext_lazy("unit", "members"),  # 人
    "yuan": gettext_lazy("yuan"),
    "percent": "%",
    "number": "",
    "points": gettext_lazy("points"),
}
REGISTRY: dict[str, Indicator] = {}


def get(code: str) -> Indicator:
    try:
        return REGISTRY[code]
    except KeyError:
        raise ValidationError({"code": [_("Unknown indicator.")]}) from None


def indicator(code, section, name, unit, definition, drill, **options):
    def register(compute):
        REGISTRY[code] = Indicator(code, section, name, unit, definition, compute, drill, **options)
        return compute

    return register


def _billed(calc: Calculation, period: date) -> Q:
    return Q(Exists(CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period=period)))


def _billed_before(calc: Calculation, period: date) -> Q:
    return Q(Exists(CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period=add_months(period, -1))))


def _row(calc: Calculation, group, period, name: str, rows=None):
    row = (calc.base if rows is None else rows).get((group, period))
    return row[name] if row else 0


# Coverage -----------------------------------------------------------------------------------------------
@indicator(
    "coverage_rate",
    "coverage",
    gettext_lazy("Coverage rate (圈地率)"),
    "percent",
    gettext_lazy(
        "Signed customers (lifecycle active, at risk or dormant) ÷ organisations surveyed (every record "
        "in the archive: prospects, signed and churned), now."
    ),
    lambda calc, period: Q(status__in=SIGNED),
    monthly=False,
)
def coverage_rate(calc):
    if calc.units_summarised and calc.archive_held:
        counted = ArchiveSummary.objects.filter(calc.summary_scope())
        rows = calc.grouped_customers(counted, surveyed=Sum("surveyed"), signed=Sum("signed"))
    else:
        rows = calc.grouped_customers(Customer.objects.filter(calc.scope()), **archive_measures())
    return calc.each(lambda g, p: percent(_row(calc, g, p, "signed", rows), _row(calc, g, p, "surveyed", rows)), rows)


@indicator(
    "penetration",
    "coverage",
    gettext_lazy("Product penetration (到达率)"),
    "percent",
    gettext_lazy(
        "Customers using the product in the month (billed revenue or members on it) ÷ customers in "
        "service in the month."
    ),
    lambda calc, period: Q(
        Exists(
            BillingFact.objects.filter(in_use(), customer_id=OuterRef("pk"), period=period, product__code=calc.product)
        )
    ),
    needs_product=True,
)
def penetration(calc):
    return calc.each(
        lambda g, p: percent(_row(calc, g, p, "with_product", calc.products), _row(calc, g, p, "in_service"))
    )


# Development --------------------------------------------------------------------------------------------
@indicator(
    "in_service",
    "development",
    gettext_lazy("Customers in service at period end (期末到达)"),
    "count",
    gettext_lazy("Customers billed in the month."),
    _billed,
)
def in_service(calc):
    return calc.each(lambda g, p: _row(calc, g, p, "in_service"))


@indicator(
    "new_customers",
    "development",
    gettext_lazy("New customers (新增客户)"),
    "count",
    gettext_lazy("Customers billed in the month and not in the month before (first bills and win-backs)."),
    lambda calc, period: _billed(calc, period) & ~_billed_before(calc, period),
    year="sum",
)
def new_customers(calc):
    return calc.each(lambda g, p: _row(calc, g, p, "new"))


@indicator(
    "net_adds",
    "development",
    gettext_lazy("Net customer adds (净增客户)"),
    "count",
    gettext_lazy(
        "Customers in service at the end of the month minus at the end of the month before "
        "(new customers − churned customers)."
    ),
    _billed,
    year="sum",
    signed=True,
)
def net_adds(calc):
    # A group billed the month before and not now (only churn) has a row too: without it the rows would not
    # add up to the total.
    before = add_months(calc.period, -1)
    keys = {(g, calc.period): {} for g, p in calc.base if p in (calc.period, before)}
    return calc.each(lambda g, p: _row(calc, g, p, "in_service") - _row(calc, g, add_months(p, -1), "in_service"), keys)


@indicator(
    "members_end",
    "development",
    gettext_lazy("Members at period end"),
    "members",
    gettext_lazy("Members of the customers billed in the month, as of the month's end."),
    _billed,
)
def members_end(calc):
    return calc.each(lambda g, p: _row(calc, g, p, "members_sum"))


@indicator(
    "new_members",
    "development",
    gettext_lazy("New members (新增成员)"),
    "members",
    gettext_lazy("Member numbers that joined in the month."),
    lambda calc, period: Q(
        Exists(CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period=period, joined__gt=0))
    ),
    year="sum",
)
def new_members(calc):
    return calc.each(lambda g, p: _row(calc, g, p, "joined_sum"))


@indicator(
    "net_member_adds",
    "development",
    gettext_lazy("Net member adds (成员净增)"),
    "members",
    gettext_lazy("Members joined minus members left in the month."),
    _billed,
    year="sum",
    signed=True,
)
def net_member_adds(calc):
    return calc.each(lambda g, p: _row(calc, g, p, "joined_sum") - _row(calc, g, p, "left_sum"))


# Revenue ------------------------------------------------------------------------------------------------
@indicator(
    "revenue",
    "revenue",
    gettext_lazy("Revenue (收入)"),
    "yuan",
    gettext_lazy("Revenue billed to the customers in the month."),
    _billed,
    year="sum",
)
def revenue(calc):
    return calc.each(lambda g, p: _money(_row(calc, g, p, "revenue_sum")))


@indicator(
    "revenue_mom",
    "revenue",
    gettext_lazy("Revenue growth month on month (环比)"),
    "percent",
    gettext_lazy("(Revenue of the month − revenue of the month before) ÷ revenue of the month before."),
    _billed,
    signed=True,
)
def revenue_mom(calc):
    return calc.each(
        lambda g, p: _growth(_row(calc, g, p, "revenue_sum"), _row(calc, g, add_months(p, -1), "revenue_sum"))
    )


@indicator(
    "revenue_yoy",
    "revenue",
    gettext_lazy("Revenue growth year on year (同比)"),
    "percent",
    gettext_lazy("(Revenue of the month − revenue of the same month a year before) ÷ that revenue."),
    _billed,
    signed=True,
)
def revenue_yoy(calc):
    return calc.each(
        lambda g, p: _growth(_row(calc, g, p, "revenue_sum"), _row(calc, g, add_months(p, -12), "revenue_sum"))
    )


@indicator(
    "revenue_share",
    "revenue",
    gettext_lazy("Share of revenue (收入占比)"),
    "percent",
    gettext_lazy("A row's revenue ÷ the revenue of everything in view (the month's total; 100% without grouping)."),
    _billed,
)
def revenue_share(calc):
    totals = {
        p: sum((row["revenue_sum"] or ZERO for (g, q), row in calc.base.items() if q == p), ZERO) for p in calc.months
    }
    return calc.each(lambda g, p: percent(_row(calc, g, p, "revenue_sum"), totals[p]))


# Churn --------------------------------------------------------------------------------------------------
@indicator(
    "churned_customers",
    "churn",
    gettext_lazy("Churned customers (离网客户)"),
    "count",
    gettext_lazy("Customers billed the month before and not in the month."),
    lambda calc, period: _billed_before(calc, period) & ~_billed(calc, period),
    year="sum",
)
def churned_customers(calc):
    keys = calc.churned | {key: {} for key in calc.base}
    return calc.each(lambda g, p: _row(calc, g, p, "n", calc.churned), keys)


@indicator(
    "customer_churn_rate",
    "churn",
    gettext_lazy("Customer churn rate (客户离网率)"),
    "percent",
    gettext_lazy("Churned customers ÷ customers in service at the end of the month before."),
    lambda calc, period: _billed_before(calc, period) & ~_billed(calc, period),
)
def customer_churn_rate(calc):
    keys = calc.churned | {key: {} for key in calc.base}
    return calc.each(
        lambda g, p: percent(_row(calc, g, p, "n", calc.churned), _row(calc, g, add_months(p, -1), "in_service")), keys
    )


@indicator(
    "churned_members",
    "churn",
    gettext_lazy("Members left (离网成员)"),
    "members",
    gettext_lazy("Member numbers that left in the month."),
    lambda calc, period: Q(Exists(CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period=period, left__gt=0))),
    year="sum",
)
def churned_members(calc):
    return calc.each(lambda g, p: _row(calc, g, p, "left_sum"))


@indicator(
    "member_churn_rate",
    "churn",
    gettext_lazy("Member churn rate (成员离网率)"),
    "percent",
    gettext_lazy("Members left in the month ÷ members at the end of the month before."),
    lambda calc, period: Q(Exists(CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period=period, left__gt=0))),
)
def member_churn_rate(calc):
    return calc.each(
        lambda g, p: percent(_row(calc, g, p, "left_sum"), _row(calc, g, add_months(p, -1), "members_sum"))
    )


# Cross-province and national ------------------------------------------------------------------------------
def _heads(national: bool):
    return lambda calc, period: Q(pk__in=calc.group_heads(national).values("pk"))


@indicator(
    "cross_province",
    "national",
    gettext_lazy("Cross-province groups (跨省集团)"),
    "count",
    gettext_lazy(
        "Groups whose units were billed in ≥ 2 provinces in the 12 months to the period, counted at the "
        "group's head unit."
    ),
    _heads(False),
    monthly=False,
)
def cross_province(calc):
    rows = calc.grouped_customers(calc.group_heads(False), n=Count("pk"))
    return calc.each(lambda g, p: _row(calc, g, p, "n", rows), rows)


@indicator(
    "national",
    "national",
    gettext_lazy("National group customers (全国性集团客户)"),
    "count",
    gettext_lazy(
        "Cross-province groups whose units together brought more than ¥1,000,000 in the 12 months to "
        "the period (exactly ¥1,000,000 is not enough), counted at the group's head unit."
    ),
    _heads(True),
    monthly=False,
)
def national(calc):
    rows = calc.grouped_customers(calc.group_heads(True), n=Count("pk"))
    return calc.each(lambda g, p: _row(calc, g, p, "n", rows), rows)


# Statistical categories -------------------------------------------------------------------------------------
def _month_with(condition: Q):
    def drill(calc, period) -> Q:
        return Q(Exists(CustomerMonth.objects.filter(condition, customer_id=OuterRef("pk"), period=period)))

    return drill


_mobile = _month_with(Q(is_mobile_group=True))
_integrated = _month_with(Q(is_integrated=True))
_categorised = _month_with(CATEGORISED)


def _any_category(calc, period) -> Q:
    return _categorised(calc, period) | Q(pk__in=calc.group_heads(True).values("pk"))


@indicator(
    "mobile_group",
    "categories",
    gettext_lazy("Mobile group customers (移动集团客户)"),
    "count",
    gettext_lazy("Customers with at least 10 members on our mobile network at the month's end."),
    _mobile,
)
def mobile_group(calc):
    return calc.each(lambda g, p: _row(calc, g, p, "mobile"))


@indicator(
    "integrated",
    "categories",
    gettext_lazy("Integrated-service group customers (综合业务集团客户)"),
    "count",
    gettext_lazy(
        "Customers using at least 2 basic services in the month, at least one of them billed to the "
        "group's account (revenue on the group's bill)."
    ),
    _integrated,
)
def integrated(calc):
    return calc.each(lambda g, p: _row(calc, g, p, "integrated"))


@indicator(
    "category_total",
    "categories",
    gettext_lazy("Group customers in any category"),
    "count",
    gettext_lazy(
        "Customers that are mobile, integrated-service or national group customers; a customer in "
        "several categories is counted once."
    ),
    _any_category,
    monthly=False,
)
def category_total(calc):
    # The customers in service that are mobile or integrated (counted with the month), and the national heads
    # that are neither (a handful: the visible heads of the month's national groups).
    others = calc.group_heads(True).exclude(_categorised(calc, calc.period))
    rows = calc.grouped_customers(others, n=Count("pk"))
    keys = rows | {key: {} for key, row in calc.base.items() if row["categorised"]}
    return calc.each(lambda g, p: _row(calc, g, p, "categorised") + _row(calc, g, p, "n", rows), keys)


# Health -------------------------------------------------------------------------------------------------
@indicator(
    "sticky_share",
    "health",
    gettext_lazy("Revenue from sticky products"),
    "percent",
    gettext_lazy(
        "Revenue of products with a stickiness class (embedded, identity resource, market-linked) ÷ "
        "all revenue of the month."
    ),
    _month_with(Q(sticky_revenue__gt=0)),
)
def sticky_share(calc):
    return calc.each(lambda g, p: percent(_row(calc, g, p, "sticky_sum"), _row(calc, g, p, "revenue_sum")))


def _top_customers(calc, period) -> Q:
    top = CustomerMonth.objects.filter(calc.scope("customer__"), period=period).order_by("-revenue", "pk")
    return Q(pk__in=list(top.values_list("customer_id", flat=True)[:TOP_N]))


@indicator(
    "top10_share",
    "health",
    gettext_lazy("Top-10 concentration"),
    "percent",
    gettext_lazy("Revenue of the 10 biggest customers ÷ all revenue of the month (lower is healthier)."),
    _top_customers,
)
def top10_share(calc):
    return calc.each(lambda g, p: percent(calc.top.get((g, p), ZERO), _row(calc, g, p, "revenue_sum")))


@indicator(
    "hhi",
    "health",
    gettext_lazy("Revenue concentration (HHI)"),
    "points",
    gettext_lazy(
        "Herfindahl–Hirschman index of the customers' revenue shares in the month: Σ (share in %)², "
        "from near 0 (spread) to 10,000 (one customer)."
    ),
    _billed,
)
def hhi(calc):
    def index(g, p):
        total = _row(calc, g, p, "revenue_sum")
        if not total:
            return None
        return (Decimal(_row(calc, g, p, "revenue_sq")) * 10000 / Decimal(total) ** 2).quantize(Decimal("1"))

    return calc.each(index)


@indicator(
    "products_per_customer",
    "health",
    gettext_lazy("Products per customer"),
    "number",
    gettext_lazy("Average number of products in use per customer in service in the month."),
    _billed,
)
def products_per_customer(calc):
    def average(g, p):
        customers = _row(calc, g, p, "in_service")
        return (Decimal(_row(calc, g, p, "products_sum")) / customers).quantize(Decimal("0.01")) if customers else None

    return calc.each(average)
