"""The defence indicators in the analytics registry (docs/indicators.md, docs/defence.md): the retention rate
of warned customers, value (A/B) customers retained, revenue defended and the defence success rate, over the
plans closed in the 12 months to the period's end, by the customer's unit, industry or grade like the others.

Registered from here (this module is imported by DefenceConfig.ready), so analytics never imports defence."""

from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, Sum, Value
from django.utils.translation import gettext_lazy

from jiketong.analytics.indicators import BIG, SECTIONS, Calculation, _money, _row, indicator, percent
from jiketong.analytics.periods import add_months

from .models import RETAINED, Outcome, Plan, PlanKind, PlanStatus

SECTIONS.setdefault("defence", gettext_lazy("Defence and retention (保网)"))
VALUE_GRADES = ("A1", "A2", "B1", "B2")


def closed_in_year(period: date) -> Q:
    """Plans closed in the 12 months ending with the period's month."""
    return Q(status=PlanStatus.CLOSED, closed_on__gte=add_months(period, -11), closed_on__lt=add_months(period, 1))


def _outcomes(calc: Calculation) -> dict[tuple, dict]:
    cached = getattr(calc, "_defence_outcomes", None)
    if cached is None:
        plans = Plan.objects.filter(calc.scope("customer__")).filter(closed_in_year(calc.period))
        retention, defence = Q(kind=PlanKind.RETENTION), Q(kind=PlanKind.DEFENCE)
        cached = calc._grouped(
            plans,
            "customer__",
            Value(calc.period),
            retention_closed=Count("pk", filter=retention),
            retention_retained=Count("pk", filter=retention & Q(outcome__in=RETAINED)),
            defence_closed=Count("pk", filter=defence),
            defence_kept=Count("pk", filter=defence & Q(outcome=Outcome.KEPT)),
            value_retained=Count(
                "customer", distinct=True, filter=Q(outcome__in=RETAINED, customer__grade__in=VALUE_GRADES)
            ),
            defended=Sum("revenue_kept", filter=Q(outcome__in=RETAINED), output_field=BIG),
        )
        calc._defence_outcomes = cached
    return cached


def _drill(condition: Q):
    def drill(calc, period):
        return Q(Exists(Plan.objects.filter(closed_in_year(period), condition, customer_id=OuterRef("pk"))))

    return drill


@indicator(
    "retention_rate",
    "defence",
    gettext_lazy("Retention rate of warned customers (预警挽留率)"),
    "percent",
    gettext_lazy(
        "Retention cases (opened from a churn warning) closed kept or partly lost ÷ retention cases closed, "
        "in the 12 months to the month's end."
    ),
    _drill(Q(kind=PlanKind.RETENTION, outcome__in=RETAINED)),
    monthly=False,
)
def retention_rate(calc):
    rows = _outcomes(calc)
    return calc.each(
        lambda g, p: percent(_row(calc, g, p, "retention_retained", rows), _row(calc, g, p, "retention_closed", rows)),
        rows,
    )


@indicator(
    "value_customers_retained",
    "defence",
    gettext_lazy("Value customers retained (A/B)"),
    "count",
    gettext_lazy(
        "Grade A and B customers with a defence plan or retention case closed kept or partly lost in the 12 "
        "months to the month's end (each customer once)."
    ),
    lambda calc, period: _drill(Q(outcome__in=RETAINED))(calc, period) & Q(grade__in=VALUE_GRADES),
    monthly=False,
)
def value_customers_retained(calc):
    rows = _outcomes(calc)
    return calc.each(lambda g, p: _row(calc, g, p, "value_retained", rows), rows)


@indicator(
    "revenue_defended",
    "defence",
    gettext_lazy("Revenue defended (保网收入)"),
    "yuan",
    gettext_lazy(
        "Monthly revenue kept, as recorded at the close of defence plans and retention cases ended kept or "
        "partly lost, in the 12 months to the month's end."
    ),
    _drill(Q(outcome__in=RETAINED)),
    monthly=False,
)
def revenue_defended(calc):
    rows = _outcomes(calc)
    return calc.each(lambda g, p: _money(_row(calc, g, p, "defended", rows)), rows)


@indicator(
    "defence_success_rate",
    "defence",
    gettext_lazy("Defence success rate (保网成功率)"),
    "percent",
    gettext_lazy(
        "Defence plans closed kept (customer and revenue kept) ÷ defence plans closed, in the 12 months to the "
        "month's end."
    ),
    _drill(Q(kind=PlanKind.DEFENCE, outcome=Outcome.KEPT)),
    monthly=False,
)
def defence_success_rate(calc):
    rows = _outcomes(calc)
    return calc.each(
        lambda g, p: percent(_row(calc, g, p, "defence_kept", rows), _row(calc, g, p, "defence_closed", rows)), rows
    )
