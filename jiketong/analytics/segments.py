"""Customer segmentation (DOMAIN §4, §10): grade scores, RFM, key-account faces and the value pyramid.

Materialised (docs/decisions/0604): `refresh(period)` writes every customer's segment row for the 12 months to
the period (CustomerSegment) from the billing months and lines, set-based: one INSERT … SELECT of the figures
(RFM, revenue halves, estimated profit) and one UPDATE of what ranks a customer among others (quintiles, value
tiers, MVC / MGC / BZ) for the scope of every org level. It runs after each import and every night in the
background (`services.segments_refresh_run`), never in a request. Pages read the rows (queries.rfm_list,
queries.value_list): a subtree user the ranks kept for their level, a manager their portfolio ranked on request
with the same window expressions (`rfm_windows`, `value_windows`). The rules and thresholds are explained to
users in docs/segmentation.md.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Ntile, PercentRank, Substr
from django.db.models.lookups import LessThan
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.catalog.models import Product, cost_rate_expression
from jiketong.customers.models import Customer, CustomerType, Grade, LifecycleStatus
from jiketong.org.models import OrgUnit, Role, staff_of

from .models import CustomerSegment, GradeScheme, SegmentPeriod
from .periods import add_months

BIG = DecimalField(max_digits=30, decimal_places=2)
# Social influence by organisation type (0–100): authorities and the army weigh most (黑脸 accounts).
INFLUENCE_BY_TYPE = {
    CustomerType.GOVERNMENT: 100,
    CustomerType.MILITARY: 100,
    CustomerType.INSTITUTION: 70,
    CustomerType.SOCIAL: 50,
    CustomerType.ENTERPRISE: 30,
}
# Yearly cost to serve by grade letter (visits and care at the grade's service standard), in yuan.
COST_TO_SERVE = {"A": Decimal(20000), "B": Decimal(8000), "C": Decimal(3000), "D": Decimal(1000)}
KEY_ACCOUNT_GRADES = (Grade.A1, Grade.A2)
GROWTH_FOR_MGC = Decimal("0.2")  # most growable: revenue of the last 6 months ≥ 120% of the 6 before
SIGNED = (LifecycleStatus.ACTIVE, LifecycleStatus.AT_RISK, LifecycleStatus.DORMANT)
# Org levels whose scopes keep their own ranks: 1 = everyone (HQ, admins), 2 = a province, … 5 = a grid.
LEVELS = (1, 2, 3, 4, 5)


def _year_start(period: date) -> date:
    return add_months(period, -11)


# --- grade scores -------------------------------------------------------------------------------------
@dataclass
class GradeScore:
    customer: Customer
    size: int
    revenue: int
    influence: int
    prospects: int
    score: Decimal
    grade: str
    reasons: str


def _capped(value: Decimal, full: Decimal) -> int:
    return int(min(Decimal(100), Decimal(value) * 100 / Decimal(full)).quantize(Decimal("1"), ROUND_HALF_UP))


def _prospects(recent: Decimal, before: Decimal) -> int:
    """50 when revenue is flat; ±1 point per 2% of growth over the last 3 months against the 3 before."""
    if not before:
        return 100 if recent else 50
    growth = (recent - before) * 100 / before
    return int(max(Decimal(0), min(Decimal(100), 50 + growth / 2)).quantize(Decimal("1"), ROUND_HALF_UP))


def grade_score(customer: Customer, segment: CustomerSegment | None, scheme: GradeScheme) -> GradeScore:
    """The weighted score of a customer from its segment row of the month (None: nothing billed in the 12
    months), its grade and the reasons in words."""
    members = segment.members_now if segment is not None and segment.members_now is not None else customer.size
    revenue_year = segment.monetary if segment is not None else Decimal(0)
    recent, before = (segment.revenue_last3, segment.revenue_prior3) if segment is not None else (0, 0)
    members = members or 0
    parts = {
        "size": _capped(members, scheme.size_full),
        "revenue": _capped(revenue_year, scheme.revenue_full),
        "influence": INFLUENCE_BY_TYPE.get(customer.type, 30),
        "prospects": _prospects(Decimal(recent), Decimal(before)),
    }
    weights = {
        "size": scheme.size_weight,
        "revenue": scheme.revenue_weight,
        "influence": scheme.influence_weight,
        "prospects": scheme.prospects_weight,
    }
    score = (Decimal(sum(parts[k] * weights[k] for k in parts)) / sum(weights.values())).quantize(
        Decimal("0.1"), ROUND_HALF_UP
    )
    grade = scheme.grade_for(score)
    reasons = _(
        "Score %(score)s → %(grade)s: size %(size)s (%(members)s members), revenue %(revenue)s (¥%(yearly)s in 12 "
        "months), influence %(influence)s (%(type)s), prospects %(prospects)s."
    ) % {
        "score": score,
        "grade": grade,
        "members": members,
        "yearly": f"{revenue_year:,.0f}",
        "type": customer.get_type_display(),
        **parts,
    }
    return GradeScore(customer=customer, score=score, grade=grade, reasons=reasons[:200], **parts)


# --- labels -------------------------------------------------------------------------------------------
class Face:
    RED = "red"
    WHITE = "white"
    BLACK = "black"
    LABELS = {
        RED: gettext_lazy("Red face (high profit per deal)"),
        WHITE: gettext_lazy("White face (large volume, thin margin)"),
        BLACK: gettext_lazy("Black face (little profit, strategic influence)"),
    }


class Tier:
    TOP = "top"
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    BELOW_ZERO = "below_zero"
    LABELS = {
        TOP: gettext_lazy("Top (top 5%)"),
        LARGE: gettext_lazy("Large (next 15%)"),
        MEDIUM: gettext_lazy("Medium (next 30%)"),
        SMALL: gettext_lazy("Small (the rest)"),
        BELOW_ZERO: gettext_lazy("Below zero"),
    }


class ValueClass:
    MVC = "mvc"
    MGC = "mgc"
    BZ = "bz"
    LABELS = {
        MVC: gettext_lazy("MVC: most valuable"),
        MGC: gettext_lazy("MGC: most growable"),
        BZ: gettext_lazy("BZ: below zero"),
    }


# --- the rules, as expressions over CustomerSegment rows ------------------------------------------------
def cost_to_serve():
    """The yearly cost to serve of the row's grade."""
    return Case(
        *(When(grade__startswith=letter, then=Value(cost)) for letter, cost in COST_TO_SERVE.items()),
        default=Value(Decimal(0)),
        output_field=BIG,
    )


def net_value_expression():
    """Net value = estimated profit − the yearly cost to serve at the grade's service standard."""
    return F("profit") - cost_to_serve()


def face_expression(scheme: GradeScheme):
    """Key accounts (A1, A2): red when the margin reaches the scheme's, else white from its yearly revenue,
    else black. Others have no face."""
    red = Q(profit__gte=F("monetary") * scheme.red_margin) & Q(monetary__gt=0)
    return Case(
        When(~Q(grade__in=KEY_ACCOUNT_GRADES), then=Value("")),
        When(red, then=Value(Face.RED)),
        When(monetary__gte=scheme.white_revenue, then=Value(Face.WHITE)),
        default=Value(Face.BLACK),
        output_field=CharField(),
    )


def rfm_windows(partition: list) -> dict[str, Window]:
    """Quintile scores 1–5 within the partition (5 = most recent, most frequent, highest spend; ties split
    by customer id), over rows billed in the 12 months."""

    def quintile(field: str) -> Window:
        return Window(Ntile(5), partition_by=partition or None, order_by=[F(field).asc(), F("customer_id").asc()])

    return {"r": quintile("last_billed"), "f": quintile("frequency"), "m": quintile("monetary")}


def value_windows(partition: list, net, rank_name: str) -> tuple[dict, dict]:
    """The pyramid tier and MVC / MGC / BZ within the partition, by net value (`net`): two steps of
    annotations, the percent rank (named `rank_name`) and then what it decides."""
    rank = {rank_name: Window(PercentRank(), partition_by=partition or None, order_by=[net.desc()])}
    ranked = F(rank_name)
    below = LessThan(net, Value(Decimal(0)))
    growing = Q(revenue_recent__gte=F("revenue_earlier") * (1 + GROWTH_FOR_MGC)) & Q(revenue_recent__gt=0)
    classes = {
        "tier": Case(
            When(below, then=Value(Tier.BELOW_ZERO)),
            When(LessThan(ranked, Value(Decimal("0.05"))), then=Value(Tier.TOP)),
            When(LessThan(ranked, Value(Decimal("0.20"))), then=Value(Tier.LARGE)),
            When(LessThan(ranked, Value(Decimal("0.50"))), then=Value(Tier.MEDIUM)),
            default=Value(Tier.SMALL),
            output_field=CharField(),
        ),
        "value_class": Case(
            When(below, then=Value(ValueClass.BZ)),
            When(LessThan(ranked, Value(Decimal("0.20"))), then=Value(ValueClass.MVC)),
            When(growing, then=Value(ValueClass.MGC)),
            default=Value(""),
            output_field=CharField(),
        ),
    }
    return rank, classes


def level_key(level: int):
    """The scope a rank is kept for at an org level: everyone at level 1, else the customer's unit's ancestor
    at that depth (a customer on a unit above that depth forms a scope nobody at that level holds)."""
    if level == 1:
        return None
    return Substr(F("customer__org_unit__path"), 1, level * OrgUnit.steplen)


def level_of(user) -> int | None:
    """The org level whose kept ranks match the user's scope (data scope: org.scope.record_scope): 1 for HQ,
    admins and superusers, the unit's depth for a subtree user; None when the scope is a portfolio (ranked
    on request)."""
    if user.is_superuser:
        return 1
    staff = staff_of(user)
    if staff is None:
        return None
    roles = staff.role_codes
    if Role.ADMIN in roles or (roles & Role.SUBTREE_ROLES and staff.org_unit.is_root()):
        return 1
    if roles & Role.SUBTREE_ROLES and not roles & Role.PORTFOLIO_ROLES and staff.org_unit.depth in LEVELS:
        return staff.org_unit.depth
    return None


# --- materialising a month ------------------------------------------------------------------------------
def due(period: date) -> bool:
    """Whether the month's segments are missing or older than what they read beyond the bills (imports queue
    their own refresh): a customer saved since (grade, unit, status), a new grading scheme or product cost rate."""
    kept = SegmentPeriod.objects.filter(period=period).values_list("refreshed_at", flat=True).first()
    if kept is None:
        return CustomerMonth.objects.filter(period=period).exists()
    return (
        Customer.objects.filter(updated_at__gt=kept).exists()
        or GradeScheme.objects.filter(created_at__gt=kept).exists()
        or Product.objects.filter(updated_at__gt=kept).exists()
    )


def _sql(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


@transaction.atomic
def refresh(period: date) -> int:
    """Recompute the month's segment rows (idempotent): every customer billed in the 12 months to the period,
    and every signed customer (valued even with nothing billed). Returns the rows written."""
    scheme = GradeScheme.current()
    start, half = _year_start(period), add_months(period, -5)
    last3, prior3 = add_months(period, -2), add_months(period, -5)
    revenue = Sum("revenue", output_field=BIG)
    months = (
        CustomerMonth.objects.filter(period__gte=start, period__lte=period)
        .values("customer_id")
        .annotate(
            last_billed=Max("period"),
            frequency=Count("pk"),
            monetary=revenue,
            revenue_recent=Sum("revenue", filter=Q(period__gte=half), output_field=BIG),
            revenue_earlier=Sum("revenue", filter=Q(period__lt=half), output_field=BIG),
            revenue_last3=Sum("revenue", filter=Q(period__gte=last3), output_field=BIG),
            revenue_prior3=Sum("revenue", filter=Q(period__gte=prior3, period__lt=last3), output_field=BIG),
            members_now=Max("members", filter=Q(period=period)),
        )
        .values(
            "customer_id",
            "last_billed",
            "frequency",
            "monetary",
            "revenue_recent",
            "revenue_earlier",
            "revenue_last3",
            "revenue_prior3",
            "members_now",
        )
        .order_by()
    )
    # Estimated profit of a bill line = revenue × (1 − the product's cost rate; docs/decisions/0603).
    profit = (
        BillingFact.objects.filter(period__gte=start, period__lte=period)
        .values("customer_id")
        .annotate(profit=Sum(F("revenue") * (1 - cost_rate_expression("product__")), output_field=BIG))
        .values("customer_id", "profit")
        .order_by()
    )
    months_sql, months_params = _sql(months)
    profit_sql, profit_params = _sql(profit)
    quote = connection.ops.quote_name
    table = quote(CustomerSegment._meta.db_table)
    signed = ", ".join(["%s"] * len(SIGNED))
    money = ("monetary", "revenue_recent", "revenue_earlier", "revenue_last3", "revenue_prior3")
    columns = ["period", "customer_id", "grade", "in_rfm", "in_value", "last_billed", "frequency", *money]
    columns += ["members_now", "profit", "net_value", "face"]
    for level in LEVELS:
        columns += [f"tier{level}", f"value{level}"]
    select = [
        "%s",
        "c.id",
        "c.grade",
        "m.customer_id IS NOT NULL",
        f"c.status IN ({signed})",
        "m.last_billed",
        "COALESCE(m.frequency, 0)",
        *(f"COALESCE(m.{name}, 0)" for name in money),
        "m.members_now",
        "COALESCE(p.profit, 0)",
        "0",
        "''",
        *(["''"] * (2 * len(LEVELS))),
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE period = %s", [period])
        cursor.execute(
            f"""INSERT INTO {table} ({", ".join(quote(c) for c in columns)})
                SELECT {", ".join(select)}
                FROM {quote(Customer._meta.db_table)} c
                LEFT JOIN ({months_sql}) m ON m.customer_id = c.id
                LEFT JOIN ({profit_sql}) p ON p.customer_id = c.id
                WHERE m.customer_id IS NOT NULL OR c.status IN ({signed})""",
            [period, *SIGNED, *months_params, *profit_params, *SIGNED],
        )
        written = cursor.rowcount
    _rank(period, scheme)
    SegmentPeriod.objects.update_or_create(period=period, defaults={"rows": written})
    return written


def _rank(period: date, scheme: GradeScheme) -> None:
    """Net value, face and, for every org level, the quintiles and value classes within the level's scopes:
    one window pass over the month's rows, written back in one UPDATE."""
    net = net_value_expression()
    ranked = CustomerSegment.objects.filter(period=period).annotate(_net=net, _face=face_expression(scheme))
    names = ["_net", "_face"]
    for level in LEVELS:
        key = level_key(level)
        by_rfm = [key, F("in_rfm")] if key is not None else [F("in_rfm")]
        by_value = [key, F("in_value")] if key is not None else [F("in_value")]
        scores = {f"_{k}{level}": window for k, window in rfm_windows(by_rfm).items()}
        rank, classes = value_windows(by_value, net, f"_rank{level}")
        ranked = ranked.annotate(**scores, **rank).annotate(
            **{f"_tier{level}": classes["tier"], f"_value{level}": classes["value_class"]}
        )
        names += [*scores, f"_tier{level}", f"_value{level}"]
    sql, params = _sql(ranked.values("pk", *names))
    quote = connection.ops.quote_name
    table = quote(CustomerSegment._meta.db_table)
    assignments = ["net_value = w._net", "face = w._face"]
    assignments += [f"{quote(name[1:])} = w.{quote(name)}" for name in names[2:]]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {', '.join(assignments)} FROM ({sql}) w WHERE {table}.id = w.pk", params)


# --- reading ------------------------------------------------------------------------------------------------
def rfm(rows: QuerySet[CustomerSegment], level: int | None) -> QuerySet[CustomerSegment]:
    """The month's rows billed in the 12 months with r_score, f_score, m_score: kept for the level, or ranked
    within `rows` (a portfolio)."""
    rows = rows.filter(in_rfm=True)
    if level is not None:
        return rows.annotate(r_score=F(f"r{level}"), f_score=F(f"f{level}"), m_score=F(f"m{level}"))
    return rows.annotate(**{f"{k}_score": window for k, window in rfm_windows([]).items()})


def value(rows: QuerySet[CustomerSegment], level: int | None) -> QuerySet[CustomerSegment]:
    """The month's signed customers with tier and value_class: kept for the level, or ranked within `rows`."""
    rows = rows.filter(in_value=True)
    if level is not None:
        return rows.annotate(tier=F(f"tier{level}"), value_class=F(f"value{level}"))
    rank, classes = value_windows([], F("net_value"), "_rank")
    return rows.annotate(**rank).annotate(**classes)


def segment_counts(segments: QuerySet[CustomerSegment]) -> dict[str, dict[str, int]]:
    """How many customers per face, tier and value class (one pass over the annotated rows)."""
    counts: dict[str, dict[str, int]] = {"face": {}, "tier": {}, "value_class": {}}
    for face, tier, value_class in segments.values_list("face", "tier", "value_class"):
        for name, key in (("face", face), ("tier", tier), ("value_class", value_class)):
            if key:
                counts[name][key] = counts[name].get(key, 0) + 1
    return counts
