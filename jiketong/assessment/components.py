"""The scorecard's components, their defaults and the arithmetic (docs/assessment.md has a worked example).

Each component has an *actual* worked out from the stored figures and a *target*; its score is

    score = min(max(actual ÷ target, 0), cap)                        (cap 1.2 by default)

and the weighted total, in points, is

    total = Σ weight × score  ×  100 ÷ Σ weight        (over the components that have an actual)

so with weights adding up to 100 and every component present the total is simply Σ weight × score; a
component without a base (a manager with no open lead or opportunity has nothing to follow up) is left out and
the others carry its weight. A unit's actuals are worked out from the sums of its managers' figures; for the
won count and value, a unit's actual is per manager (the sum ÷ its managers), so one target fits both.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

DEFAULT_CAP = Decimal("1.20")


@dataclass(frozen=True)
class Component:
    code: str
    name: str
    unit: str  # percent (a ratio shown ×100), count or yuan
    weight: int
    target: Decimal  # in the unit of the actual: 1.00 is 100%
    definition: str

    def actual(self, figures, managers: int = 1) -> Decimal | None:
        return ACTUALS[self.code](figures, max(managers, 1))


def _ratio(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


COMPONENTS = [
    Component(
        "visits",
        _("Visits against the standard"),
        "percent",
        15,
        Decimal("1.00"),
        _(
            "Visits done ÷ visits owed by the customers in service the manager owns, each customer owing its "
            "grade's visits in the standard's period that contains the month's end (A monthly, B quarterly, C "
            "twice a year, D yearly by default), visits counted from the period's start to the month's end; a visit "
            "beyond what a customer owes does not make up for another customer (as 拜访达标 on the coverage page)."
        ),
    ),
    Component(
        "follow_up",
        _("Monthly follow-up compliance"),
        "percent",
        10,
        Decimal("1.00"),
        _(
            "Leads and opportunities the manager owns that were open at the month's end with at least one "
            "activity in the month ÷ those open at the month's end (DOMAIN §6: one follow-up a month each)."
        ),
    ),
    Component(
        "login",
        _("Login compliance"),
        "percent",
        5,
        Decimal("0.90"),
        _(
            "Days of the month with a login ÷ working days of the month (the service calendar: weekends, "
            "holidays and 调休 make-up days), at most 100%."
        ),
    ),
    Component(
        "won_count",
        _("Opportunities won"),
        "count",
        10,
        Decimal("2"),
        _("Opportunities the manager owns that were won (赢单) with a close date in the month."),
    ),
    Component(
        "won_value",
        _("Value won"),
        "yuan",
        15,
        Decimal("50000"),
        _("One-time amount + 12 × monthly amount of the opportunities won in the month (a first year's value)."),
    ),
    Component(
        "revenue_growth",
        _("Portfolio revenue growth"),
        "percent",
        15,
        Decimal("1.01"),
        _(
            "Revenue billed in the month to the customers the manager owns ÷ their revenue the month before "
            "(100% is flat; the target 101% asks for 1% growth)."
        ),
    ),
    Component(
        "retention",
        _("Portfolio retention (1 − churn)"),
        "percent",
        10,
        Decimal("0.98"),
        _(
            "Owned customers billed the month before and still billed in the month ÷ owned customers billed the "
            "month before, i.e. 1 − the portfolio's churn rate."
        ),
    ),
    Component(
        "satisfaction",
        _("Satisfaction"),
        "percent",
        10,
        Decimal("0.85"),
        _(
            "Satisfied answers (a ticket rated 4 or 5, a survey dimension scored 4 or 5) ÷ all ticket ratings and "
            "survey answers of the owned customers in the month."
        ),
    ),
    Component(
        "archive",
        _("Archive completeness"),
        "percent",
        10,
        Decimal("0.90"),
        _(
            "Of three checks per customer in service the manager owns (a key person on record, a USCC, members on "
            "record), the share passed."
        ),
    ),
]
BY_CODE = {c.code: c for c in COMPONENTS}

ACTUALS = {
    "visits": lambda f, n: _ratio(f.visits_done, f.visits_owed),
    "follow_up": lambda f, n: _ratio(f.follow_ups_done, f.follow_ups_due),
    "login": lambda f, n: min(_ratio(f.login_days, f.working_days), Decimal(1)) if f.working_days else None,
    "won_count": lambda f, n: (Decimal(f.won_count) / n).quantize(Decimal("0.01"), ROUND_HALF_UP),
    "won_value": lambda f, n: (Decimal(f.won_value) / n).quantize(Decimal("0.01"), ROUND_HALF_UP),
    "revenue_growth": lambda f, n: _ratio(f.revenue, f.revenue_before),
    "retention": lambda f, n: _ratio((f.served_before or 0) - (f.churned or 0), f.served_before),
    "satisfaction": lambda f, n: _ratio(f.satisfied, f.rated),
    "archive": lambda f, n: _ratio(f.archive_done, f.archive_checks),
}


def default_terms() -> dict:
    return {c.code: {"weight": c.weight, "target": str(c.target)} for c in COMPONENTS}


def score(actual: Decimal | None, target: Decimal, cap: Decimal) -> Decimal | None:
    """One component's score: actual ÷ target, at least 0 and at most the cap; None without an actual."""
    if actual is None:
        return None
    if target <= 0:
        return cap
    return min(max(actual / target, Decimal(0)), cap).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def scorecard(figures, terms: dict, cap: Decimal, managers: int = 1) -> tuple[Decimal | None, dict]:
    """(total, scoring) for a row of figures: per component its weight, target, actual and score, and the
    weighted total in points (see the module's docstring)."""
    scoring: dict = {"cap": str(cap)}
    weighted, weights = Decimal(0), 0
    for component in COMPONENTS:
        term = terms.get(component.code) or {"weight": component.weight, "target": str(component.target)}
        weight, target = int(term["weight"]), Decimal(str(term["target"]))
        actual = component.actual(figures, managers)
        value = score(actual, target, cap)
        scoring[component.code] = {
            "weight": weight,
            "target": str(target),
            "actual": None if actual is None else str(actual),
            "score": None if value is None else str(value),
        }
        if value is not None and weight:
            weighted += weight * value
            weights += weight
    if not weights:
        return None, scoring
    return (weighted * 100 / weights).quantize(Decimal("0.1"), ROUND_HALF_UP), scoring
