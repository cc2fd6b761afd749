"""Customer segmentation (DOMAIN §4, §10): grade scores, RFM, key-account faces and the value pyramid.

Everything reads the billing months (CustomerMonth) and lines (BillingFact) of the 12 months to a period,
scoped to the user. The rules and thresholds are explained to users in docs/segmentation.md.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Ntile, PercentRank
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.catalog.models import cost_rate_expression
from jiketong.customers.models import Customer, CustomerType, Grade, LifecycleStatus

from .models import GradeScheme
from .periods import add_months

BIG = DecimalField(max_digits=30, decimal_places=2)
ZERO = Value(Decimal(0), output_field=BIG)
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


def _months_sum(field: str, start: date, end: date, customer_ref="pk"):
    """Sum of a CustomerMonth field for the customer over [start, end]."""
    rows = (
        CustomerMonth.objects.filter(customer_id=OuterRef(customer_ref), period__gte=start, period__lte=end)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum(field, output_field=BIG))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=BIG), ZERO)


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


def scoring_queryset(customers: QuerySet[Customer], period: date) -> QuerySet[Customer]:
    """Customers annotated with what their grade score needs (one query, correlated on indexed months)."""
    members = CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period=period).values("members")[:1]
    return customers.annotate(
        members_now=Subquery(members),
        revenue_year=_months_sum("revenue", _year_start(period), period),
        revenue_recent=_months_sum("revenue", add_months(period, -2), period),
        revenue_before=_months_sum("revenue", add_months(period, -5), add_months(period, -3)),
    )


def grade_score(customer: Customer, scheme: GradeScheme) -> GradeScore:
    """The weighted score of a customer annotated by `scoring_queryset`, its grade and the reasons in words."""
    members = customer.members_now if customer.members_now is not None else (customer.size or 0)
    parts = {
        "size": _capped(members, scheme.size_full),
        "revenue": _capped(customer.revenue_year, scheme.revenue_full),
        "influence": INFLUENCE_BY_TYPE.get(customer.type, 30),
        "prospects": _prospects(customer.revenue_recent, customer.revenue_before),
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
        "yearly": f"{customer.revenue_year:,.0f}",
        "type": customer.get_type_display(),
        **parts,
    }
    return GradeScore(customer=customer, score=score, grade=grade, reasons=reasons[:200], **parts)


# --- RFM ------------------------------------------------------------------------------------------------
def rfm(customers: QuerySet[Customer], period: date) -> QuerySet[Customer]:
    """Customers billed in the 12 months to the period with recency (last billed month), frequency (months
    billed) and monetary (revenue) and their quintile scores 1–5 within the set (5 = best)."""
    window = Q(billing_months__period__gte=_year_start(period), billing_months__period__lte=period)
    return (
        customers.annotate(
            last_billed=Max("billing_months__period", filter=window),
            frequency=Count("billing_months", filter=window),
            monetary=Coalesce(Sum("billing_months__revenue", filter=window, output_field=BIG), ZERO),
        )
        .filter(frequency__gt=0)
        .annotate(
            r_score=Window(Ntile(5), order_by=[F("last_billed").asc(), F("pk").asc()]),
            f_score=Window(Ntile(5), order_by=[F("frequency").asc(), F("pk").asc()]),
            m_score=Window(Ntile(5), order_by=[F("monetary").asc(), F("pk").asc()]),
        )
    )


# --- key-account faces and the value pyramid -----------------------------------------------------------
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


def _profit(start: date, end: date):
    """Estimated profit of the customer's billing lines: revenue × (1 − the product's cost rate)."""
    lines = (
        BillingFact.objects.filter(customer_id=OuterRef("pk"), period__gte=start, period__lte=end)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum(F("revenue") * (1 - cost_rate_expression("product__")), output_field=BIG))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=BIG), ZERO)


def _cost_to_serve():
    return Case(
        *(When(grade__startswith=letter, then=Value(cost)) for letter, cost in COST_TO_SERVE.items()),
        default=Value(Decimal(0)),
        output_field=BIG,
    )


def value_segments(customers: QuerySet[Customer], period: date, scheme: GradeScheme) -> QuerySet[Customer]:
    """Signed customers with revenue and estimated profit over the 12 months to the period, net value
    (profit − cost to serve), growth, key-account face (A grades), pyramid tier and MVC / MGC / BZ."""
    start = _year_start(period)
    half = add_months(period, -5)
    annotated = customers.exclude(status__in=[LifecycleStatus.PROSPECT, LifecycleStatus.CHURNED]).annotate(
        revenue_year=_months_sum("revenue", start, period),
        revenue_recent=_months_sum("revenue", half, period),
        revenue_earlier=_months_sum("revenue", start, add_months(half, -1)),
        profit=_profit(start, period),
    )
    annotated = annotated.annotate(
        net_value=F("profit") - _cost_to_serve(),
        rank=Window(PercentRank(), order_by=[(F("profit") - _cost_to_serve()).desc()]),
    )
    red = Q(profit__gte=F("revenue_year") * scheme.red_margin) & Q(revenue_year__gt=0)
    return annotated.annotate(
        face=Case(
            When(~Q(grade__in=KEY_ACCOUNT_GRADES), then=Value("")),
            When(red, then=Value(Face.RED)),
            When(revenue_year__gte=scheme.white_revenue, then=Value(Face.WHITE)),
            default=Value(Face.BLACK),
            output_field=CharField(),
        ),
        tier=Case(
            When(net_value__lt=0, then=Value(Tier.BELOW_ZERO)),
            When(rank__lt=Decimal("0.05"), then=Value(Tier.TOP)),
            When(rank__lt=Decimal("0.20"), then=Value(Tier.LARGE)),
            When(rank__lt=Decimal("0.50"), then=Value(Tier.MEDIUM)),
            default=Value(Tier.SMALL),
            output_field=CharField(),
        ),
        value_class=Case(
            When(net_value__lt=0, then=Value(ValueClass.BZ)),
            When(rank__lt=Decimal("0.20"), then=Value(ValueClass.MVC)),
            When(
                Q(revenue_recent__gte=F("revenue_earlier") * (1 + GROWTH_FOR_MGC)) & Q(revenue_recent__gt=0),
                then=Value(ValueClass.MGC),
            ),
            default=Value(""),
            output_field=CharField(),
        ),
    )


def segment_counts(segments: QuerySet[Customer]) -> dict[str, dict[str, int]]:
    """How many customers per face, tier and value class (one pass over the annotated rows)."""
    counts: dict[str, dict[str, int]] = {"face": {}, "tier": {}, "value_class": {}}
    for face, tier, value_class in segments.values_list("face", "tier", "value_class"):
        for name, key in (("face", face), ("tier", tier), ("value_class", value_class)):
            if key:
                counts[name][key] = counts[name].get(key, 0) + 1
    return counts
