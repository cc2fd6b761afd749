"""The reference: every precomputed figure worked out the slow way, straight from the bill lines and the
billing months at request time (what the pages did before decision 0604). Tests only: the precomputed
facts (customer-month flags, the summary, the materialised segments) must equal these on worked examples,
so no second definition can drift from the first."""

from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
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
from django.db.models.functions import Coalesce, Ntile, PercentRank, RowNumber
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.functional import cached_property

from jiketong.analytics.indicators import BIG, TOP_N, Calculation, in_use
from jiketong.analytics.models import GradeScheme
from jiketong.analytics.periods import ShiftMonth, add_months
from jiketong.analytics.segments import (
    COST_TO_SERVE,
    GROWTH_FOR_MGC,
    KEY_ACCOUNT_GRADES,
    Face,
    Tier,
    ValueClass,
)
from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.catalog.models import Stickiness, cost_rate_expression
from jiketong.customers.models import Customer, LifecycleStatus

ZERO = Value(Decimal(0), output_field=BIG)


# --- the customer-month facts -----------------------------------------------------------------------------
def integrated_condition(customer_ref, period_ref) -> Q:
    """综合业务: ≥ 2 basic services in use in the month, ≥ 1 of them billed to the group's account."""
    basic = BillingFact.objects.filter(customer_id=customer_ref, period=period_ref, product__is_basic_service=True)
    used_count = basic.filter(in_use()).order_by().values("customer_id").annotate(n=Count("pk")).values("n")[:1]
    return Q(GreaterThanOrEqual(Subquery(used_count), 2)) & Q(Exists(basic.filter(revenue__gt=0)))


def month_facts() -> QuerySet:
    """Every customer-month with its facts worked out from the bill lines and the month before."""
    previous = CustomerMonth.objects.filter(
        customer_id=OuterRef("customer_id"), period=ShiftMonth(OuterRef("period"), -1)
    )
    sticky = (
        BillingFact.objects.filter(customer_id=OuterRef("customer_id"), period=OuterRef("period"))
        .exclude(product__stickiness=Stickiness.NONE)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("revenue"))
        .values("total")
    )
    return CustomerMonth.objects.annotate(
        ref_new=~Exists(previous),
        ref_mobile=Q(on_net_members__gte=10),
        ref_integrated=integrated_condition(OuterRef("customer_id"), OuterRef("period")),
        ref_sticky=Coalesce(Subquery(sticky, output_field=BIG), ZERO),
    )


def month_measures() -> dict:
    previous = CustomerMonth.objects.filter(
        customer_id=OuterRef("customer_id"), period=ShiftMonth(OuterRef("period"), -1)
    )
    integrated = integrated_condition(OuterRef("customer_id"), OuterRef("period"))
    mobile = Q(on_net_members__gte=10)
    return {
        "in_service": Count("pk"),
        "revenue_sum": Sum("revenue", output_field=BIG),
        "revenue_sq": Sum(F("revenue") * F("revenue"), output_field=BIG),
        "members_sum": Sum("members"),
        "joined_sum": Sum("joined"),
        "left_sum": Sum("left"),
        "products_sum": Sum("products"),
        "new": Count("pk", filter=~Exists(previous)),
        "mobile": Count("pk", filter=mobile),
        "integrated": Count("pk", filter=integrated),
        "categorised": Count("pk", filter=mobile | integrated),
    }


class ReferenceCalculation(Calculation):
    """The indicators computed from the bill lines at request time, never from a summary or a flag."""

    summarised = False

    @cached_property
    def base(self) -> dict[tuple, dict]:
        months = CustomerMonth.objects.filter(self.scope("customer__"), period__in=self.base_periods)
        rows = self._grouped(months, "customer__", F("period"), **month_measures())
        lines = BillingFact.objects.filter(self.scope("customer__"), period__in=self.base_periods)
        sticky = self._grouped(
            lines,
            "customer__",
            F("period"),
            sticky_sum=Sum("revenue", filter=~Q(product__stickiness=Stickiness.NONE), output_field=BIG),
        )
        for key, row in rows.items():
            row["sticky_sum"] = (sticky.get(key) or {}).get("sticky_sum") or Decimal(0)
        return rows

    @cached_property
    def products(self) -> dict[tuple, dict]:
        lines = BillingFact.objects.filter(self.scope("customer__"), period__in=self.months)
        return self._grouped(
            lines, "customer__", F("period"), with_product=Count("pk", filter=Q(product__code=self.product) & in_use())
        )

    @cached_property
    def top(self) -> dict[tuple, Decimal]:
        key = self.key_expression("customer__")
        ranked = (
            CustomerMonth.objects.filter(self.scope("customer__"), period__in=self.months)
            .annotate(
                _key=key,
                _rank=Window(RowNumber(), partition_by=[key, F("period")], order_by=[F("revenue").desc(), F("pk")]),
            )
            .filter(_rank__lte=TOP_N)
            .values_list("_key", "period", "revenue")
        )
        totals: dict[tuple, Decimal] = {}
        for group, period, revenue in ranked:
            totals[(group, period)] = totals.get((group, period), Decimal(0)) + revenue
        return totals

    @cached_property
    def whole(self) -> "ReferenceCalculation":
        return ReferenceCalculation(self.user, period=self.period, unit=self.unit, product=self.product)

    def value(self, code: str) -> dict:
        if code == "category_total":
            # A customer in any category, counted once: the union, as a set of customers.
            integrated = integrated_condition(OuterRef("pk"), self.period)
            mobile = Exists(
                CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period=self.period, on_net_members__gte=10)
            )
            customers = Customer.objects.filter(self.scope()).filter(
                Q(mobile) | integrated | Q(pk__in=self.group_heads(True).values("pk"))
            )
            rows = self.grouped_customers(customers, n=Count("pk"))
            return self.each(lambda g, p: (rows.get((g, p)) or {}).get("n", 0), rows)
        return super().value(code)


# --- segments ---------------------------------------------------------------------------------------------
def _months_sum(field: str, start: date, end: date):
    rows = (
        CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period__gte=start, period__lte=end)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum(field, output_field=BIG))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=BIG), ZERO)


def scoring_queryset(customers: QuerySet[Customer], period: date) -> QuerySet[Customer]:
    members = CustomerMonth.objects.filter(customer_id=OuterRef("pk"), period=period).values("members")[:1]
    return customers.annotate(
        members_now=Subquery(members),
        revenue_year=_months_sum("revenue", add_months(period, -11), period),
        revenue_recent=_months_sum("revenue", add_months(period, -2), period),
        revenue_before=_months_sum("revenue", add_months(period, -5), add_months(period, -3)),
    )


def rfm(customers: QuerySet[Customer], period: date) -> QuerySet[Customer]:
    window = Q(billing_months__period__gte=add_months(period, -11), billing_months__period__lte=period)
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


def _profit(start: date, end: date):
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
        output_field=DecimalField(max_digits=30, decimal_places=2),
    )


def value_segments(customers: QuerySet[Customer], period: date, scheme: GradeScheme) -> QuerySet[Customer]:
    start = add_months(period, -11)
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
