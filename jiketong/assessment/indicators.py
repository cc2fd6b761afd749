"""The loyalty and satisfaction indicators in the analytics registry (issue 14 item 7; docs/indicators.md,
docs/assessment.md): overall satisfaction, the loyal customers' share and their revenue share, and the
retention of value (A/B) customers, by the customer's unit, industry or grade and by month like the others.

Registered from here (imported by AssessmentConfig.ready), so analytics never imports assessment. Satisfaction
is counted from the month's ratings and survey answers; loyalty and retention from `LoyaltyFact`, which the
monthly job writes (`loyalty.refresh`, definitions in loyalty.py)."""

from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Count, DateField, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy

from jiketong.analytics.indicators import BIG, SECTIONS, Calculation, _row, indicator, percent
from jiketong.analytics.periods import add_months
from jiketong.service.models import SurveyAnswer, Ticket

from .compute import SATISFIED
from .models import LoyaltyFact

SECTIONS.setdefault("loyalty", gettext_lazy("Loyalty and satisfaction"))
LOCAL = ZoneInfo("Asia/Shanghai")


def _satisfaction(calc: Calculation) -> dict[tuple, dict]:
    cached = getattr(calc, "_assessment_satisfaction", None)
    if cached is None:
        end = add_months(calc.period, 1)
        tickets = Ticket.objects.filter(
            calc.scope("customer__"),
            rating__isnull=False,
            rated_at__gte=_midnight(calc.start),
            rated_at__lt=_midnight(end),
        )
        month = TruncMonth("rated_at", output_field=DateField(), tzinfo=LOCAL)
        cached = calc._grouped(
            tickets, "customer__", month, n=Count("pk"), ok=Count("pk", filter=Q(rating__gte=SATISFIED))
        )
        answers = SurveyAnswer.objects.filter(
            calc.scope("survey__customer__"), survey__surveyed_on__gte=calc.start, survey__surveyed_on__lt=end
        )
        surveyed = calc._grouped(
            answers,
            "survey__customer__",
            TruncMonth("survey__surveyed_on", output_field=DateField()),
            n=Count("pk"),
            ok=Count("pk", filter=Q(satisfaction__gte=SATISFIED)),
        )
        for key, row in surveyed.items():
            mine = cached.setdefault(key, {"n": 0, "ok": 0})
            mine["n"] += row["n"]
            mine["ok"] += row["ok"]
        calc._assessment_satisfaction = cached
    return cached


def _midnight(day: date):
    from jiketong.work.models import local_midnight

    return local_midnight(day)


def _loyalty(calc: Calculation) -> dict[tuple, dict]:
    cached = getattr(calc, "_assessment_loyalty", None)
    if cached is None:
        facts = LoyaltyFact.objects.filter(calc.scope("customer__"), period__in=calc.months)
        cached = calc._grouped(
            facts,
            "customer__",
            F("period"),
            n_in_service=Count("pk", filter=Q(in_service=True)),
            n_loyal=Count("pk", filter=Q(loyal=True)),
            revenue_sum=Sum("revenue", output_field=BIG),
            loyal_revenue=Sum("revenue", filter=Q(loyal=True), output_field=BIG),
            n_value_base=Count("pk", filter=Q(value_base=True)),
            n_value_retained=Count("pk", filter=Q(value_retained=True)),
        )
        calc._assessment_loyalty = cached
    return cached


def _fact(condition: Q):
    def drill(calc, period):
        return Q(Exists(LoyaltyFact.objects.filter(condition, period=period, customer_id=OuterRef("pk"))))

    return drill


def _rated(calc, period):
    start, end = _midnight(period), _midnight(add_months(period, 1))
    rated = Ticket.objects.filter(
        customer_id=OuterRef("pk"), rating__isnull=False, rated_at__gte=start, rated_at__lt=end
    )
    answered = SurveyAnswer.objects.filter(
        survey__customer_id=OuterRef("pk"),
        survey__surveyed_on__gte=period,
        survey__surveyed_on__lt=add_months(period, 1),
    )
    return Q(Exists(rated)) | Q(Exists(answered))


@indicator(
    "satisfaction",
    "loyalty",
    gettext_lazy("Overall satisfaction (满意度)"),
    "percent",
    gettext_lazy(
        "Satisfied answers ÷ all answers in the month: ticket ratings (1–5, given after a ticket is closed) and "
        "survey scores of every dimension (1–5), a 4 or a 5 counting as satisfied. Target by default 85%."
    ),
    _rated,
)
def satisfaction(calc):
    rows = _satisfaction(calc)
    return calc.each(lambda g, p: percent(_row(calc, g, p, "ok", rows), _row(calc, g, p, "n", rows)), rows)


@indicator(
    "loyal_share",
    "loyalty",
    gettext_lazy("Loyal customers' share (忠诚客户占比)"),
    "percent",
    gettext_lazy(
        "Loyal customers ÷ customers in service in the month. Loyal: billed in each of the 12 months to the month "
        "(repeat purchase) and either a customer for 24 months or more (tenure) or using more products than 12 "
        "months before (new products adopted). Referrals are not recorded yet."
    ),
    _fact(Q(loyal=True)),
)
def loyal_share(calc):
    rows = _loyalty(calc)
    return calc.each(
        lambda g, p: percent(_row(calc, g, p, "n_loyal", rows), _row(calc, g, p, "n_in_service", rows)), rows
    )


@indicator(
    "loyal_revenue_share",
    "loyalty",
    gettext_lazy("Loyal customers' revenue share"),
    "percent",
    gettext_lazy("Revenue of the loyal customers ÷ revenue of all customers in service in the month."),
    _fact(Q(loyal=True)),
)
def loyal_revenue_share(calc):
    rows = _loyalty(calc)
    return calc.each(
        lambda g, p: percent(_row(calc, g, p, "loyal_revenue", rows), _row(calc, g, p, "revenue_sum", rows)), rows
    )


@indicator(
    "value_retention",
    "loyalty",
    gettext_lazy("Value customer retention (价值客户保有率)"),
    "percent",
    gettext_lazy(
        "Grade A and B customers billed 12 months before the month and still billed in the month ÷ grade A and B "
        "customers billed 12 months before (grades as they are now)."
    ),
    _fact(Q(value_base=True)),
)
def value_retention(calc):
    rows = _loyalty(calc)
    return calc.each(
        lambda g, p: percent(_row(calc, g, p, "n_value_retained", rows), _row(calc, g, p, "n_value_base", rows)), rows
    )
