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
from jiketong.core.trees import subtree as subtree_of
from jiketong.org.models import OrgUnit
from jiketong.org.scope import NOTHING, beyond_subtree, kept_scope
from jiketong.service.models import SurveyAnswer, Ticket

from . import summary
from .compute import SATISFIED
from .models import LoyaltyDimension, LoyaltyFact, LoyaltySummary

SECTIONS.setdefault("loyalty", gettext_lazy("Loyalty and satisfaction"))
LOCAL = ZoneInfo("Asia/Shanghai")


def _dimension(calc: Calculation) -> str:
    return {"industry": LoyaltyDimension.INDUSTRY, "grade": LoyaltyDimension.GRADE}.get(calc.by, LoyaltyDimension.NONE)


def _kept(calc: Calculation) -> dict[tuple, dict] | None:
    """The kept counts of the subtree part of the scope, per group and month; None when the figures are counted
    live (before the first build, or for a portfolio-only user: a portfolio is small). Cached on the calculation:
    the four indicators share one read of a few rows per unit."""
    if not hasattr(calc, "_assessment_kept"):
        calc._assessment_kept = None
        subtree = kept_scope(calc.user)
        if subtree is not None and summary.built():
            rows = LoyaltySummary.objects.filter(subtree, period__in=calc.months, dimension=_dimension(calc))
            if calc.unit is not None:
                rows = rows.filter(org_unit__in=OrgUnit.objects.filter(subtree_of(calc.unit.path)).values("pk"))
            key = F("key") if calc.by in ("industry", "grade") else calc.key_expression("")
            sums = {f"k_{name}": Sum(name, output_field=BIG) for name in summary.FIELDS}
            rows = rows.annotate(_key=key, _period=F("period")).values("_key", "_period").annotate(**sums).order_by()
            calc._assessment_kept = {
                (row["_key"], row["_period"]): {name: row[f"k_{name}"] for name in summary.FIELDS} for row in rows
            }
    return calc._assessment_kept


def _where(calc: Calculation):
    """The customers (through a prefix) to count live: the whole scope when nothing is kept for it, else what the
    user sees beyond their subtree (a supervisor's own portfolio elsewhere), often nothing."""
    if _kept(calc) is None:
        return calc.scope

    def beyond(prefix: str) -> Q:
        q = beyond_subtree(calc.user, prefix)
        if calc.unit is not None and q != NOTHING:
            q &= Q(**{f"{prefix}org_unit__in": OrgUnit.objects.filter(subtree_of(calc.unit.path)).values("pk")})
        return q

    return beyond


SATISFACTION = ("rated", "satisfied")
LOYALTY = ("in_service", "loyal", "revenue", "loyal_revenue", "value_base", "value_retained")


def _merged(calc: Calculation, live: dict[tuple, dict], fields: tuple) -> dict[tuple, dict]:
    """The kept rows with something in `fields` (the groups the live count finds), plus the live rows."""
    kept = _kept(calc)
    if kept is None:
        return live
    rows = {key: {name: row[name] or 0 for name in fields} for key, row in kept.items() if any(row[f] for f in fields)}
    for key, row in live.items():
        mine = rows.setdefault(key, dict.fromkeys(fields, 0))
        for name in fields:
            mine[name] += row.get(name) or 0
    return rows


def _satisfaction(calc: Calculation) -> dict[tuple, dict]:
    cached = getattr(calc, "_assessment_satisfaction", None)
    if cached is None:
        cached = _merged(calc, _live_satisfaction(calc, _where(calc)), SATISFACTION)
        calc._assessment_satisfaction = cached
    return cached


def _live_satisfaction(calc: Calculation, where) -> dict[tuple, dict]:
    if where("") == NOTHING:
        return {}
    end = add_months(calc.period, 1)
    tickets = Ticket.objects.filter(
        where("customer__"),
        rating__isnull=False,
        rated_at__gte=_midnight(calc.start),
        rated_at__lt=_midnight(end),
    )
    month = TruncMonth("rated_at", output_field=DateField(), tzinfo=LOCAL)
    rows = calc._grouped(
        tickets, "customer__", month, rated=Count("pk"), satisfied=Count("pk", filter=Q(rating__gte=SATISFIED))
    )
    answers = SurveyAnswer.objects.filter(
        where("survey__customer__"), survey__surveyed_on__gte=calc.start, survey__surveyed_on__lt=end
    )
    surveyed = calc._grouped(
        answers,
        "survey__customer__",
        TruncMonth("survey__surveyed_on", output_field=DateField()),
        rated=Count("pk"),
        satisfied=Count("pk", filter=Q(satisfaction__gte=SATISFIED)),
    )
    for key, row in surveyed.items():
        mine = rows.setdefault(key, {"rated": 0, "satisfied": 0})
        mine["rated"] += row["rated"]
        mine["satisfied"] += row["satisfied"]
    return rows


def _midnight(day: date):
    from jiketong.work.models import local_midnight

    return local_midnight(day)


def _loyalty(calc: Calculation) -> dict[tuple, dict]:
    cached = getattr(calc, "_assessment_loyalty", None)
    if cached is None:
        cached = _merged(calc, _live_loyalty(calc, _where(calc)), LOYALTY)
        calc._assessment_loyalty = cached
    return cached


def _live_loyalty(calc: Calculation, where) -> dict[tuple, dict]:
    if where("") == NOTHING:
        return {}
    facts = LoyaltyFact.objects.filter(where("customer__"), period__in=calc.months)
    rows = calc._grouped(
        facts,
        "customer__",
        F("period"),
        k_in_service=Count("pk", filter=Q(in_service=True)),
        k_loyal=Count("pk", filter=Q(loyal=True)),
        k_revenue=Sum("revenue", output_field=BIG),
        k_loyal_revenue=Sum("revenue", filter=Q(loyal=True), output_field=BIG),
        k_value_base=Count("pk", filter=Q(value_base=True)),
        k_value_retained=Count("pk", filter=Q(value_retained=True)),
    )
    return {key: {name[2:]: v for name, v in row.items() if name.startswith("k_")} for key, row in rows.items()}


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
    return calc.each(lambda g, p: percent(_row(calc, g, p, "satisfied", rows), _row(calc, g, p, "rated", rows)), rows)


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
    return calc.each(lambda g, p: percent(_row(calc, g, p, "loyal", rows), _row(calc, g, p, "in_service", rows)), rows)


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
        lambda g, p: percent(_row(calc, g, p, "loyal_revenue", rows), _row(calc, g, p, "revenue", rows)), rows
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
        lambda g, p: percent(_row(calc, g, p, "value_retained", rows), _row(calc, g, p, "value_base", rows)), rows
    )
