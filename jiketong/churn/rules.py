"""The transparent rule baseline: points per reason, a score of 0–100, and the reasons in words.

Every reason is a plain test on one feature (DOMAIN §10), worth a configurable number of points; the
score is the sum, capped at 100. Whatever scorer wins the comparison (see model.py), the reasons shown to
managers are these rules' findings, ordered by their weight, so a score always comes with words a
manager can act on. Weights and thresholds can be overridden with settings.CHURN_RULES (same keys).
"""

import math
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .features import FeatureTable
from .models import Reason, RiskLevel

DEFAULTS = {
    "weights": {
        Reason.REVENUE_DOWN: 25,
        Reason.MEMBERS_LEAVING: 15,
        Reason.CONTRACT_EXPIRING: 20,
        Reason.COMPLAINTS: 15,
        Reason.NO_VISIT: 10,
        Reason.COMPETITOR: 15,
        Reason.ARREARS: 20,
        Reason.LOW_SATISFACTION: 15,
    },
    "revenue_down_months": 3,  # falls in a row
    "member_drop_pct": 10,  # net loss over three months, per cent
    "contract_days": 60,
    "visit_days": 90,
    "satisfaction_below": 3.0,  # survey scores run 1–5
    "high_from": 60,  # risk level cut-offs of the rule score
    "medium_from": 30,
}
MAX_REASONS = 3
# Which feature source each reason needs: without the source the reason never fires.
NEEDS = {
    Reason.REVENUE_DOWN: "billing",
    Reason.MEMBERS_LEAVING: "billing",
    Reason.ARREARS: "billing",
    Reason.CONTRACT_EXPIRING: "contracts",
    Reason.COMPLAINTS: "complaints",
    Reason.NO_VISIT: "visits",
    Reason.COMPETITOR: "competitors",
    Reason.LOW_SATISFACTION: "satisfaction",
}


def config() -> dict:
    overrides = getattr(settings, "CHURN_RULES", {})
    merged = {**DEFAULTS, **overrides}
    merged["weights"] = {Reason(k): v for k, v in {**DEFAULTS["weights"], **overrides.get("weights", {})}.items()}
    return merged


@dataclass
class RuleResult:
    score: np.ndarray  # 0–100
    flags: np.ndarray  # one bit per triggered reason (Reason.bit)
    triggered: dict[Reason, np.ndarray]


def evaluate(table: FeatureTable, conf: dict | None = None) -> RuleResult:
    conf = conf or config()
    f = table.numeric
    with np.errstate(invalid="ignore"):
        tests = {
            Reason.REVENUE_DOWN: f["revenue_down_months"] >= conf["revenue_down_months"],
            Reason.MEMBERS_LEAVING: (f["member_change_pct"] <= -conf["member_drop_pct"]) & (f["members_left_3m"] > 0),
            Reason.CONTRACT_EXPIRING: f["contract_days_left"] <= conf["contract_days"],
            Reason.COMPLAINTS: f["open_complaints_90d"] > 0,
            Reason.NO_VISIT: ~(f["days_since_visit"] <= conf["visit_days"]),  # never visited counts too
            Reason.COMPETITOR: f["competitors"] > 0,
            Reason.ARREARS: f["arrears_months_6m"] > 0,
            Reason.LOW_SATISFACTION: f["satisfaction"] < conf["satisfaction_below"],
        }
    score = np.zeros(len(table), dtype=np.int64)
    flags = np.zeros(len(table), dtype=np.int64)
    triggered = {}
    for reason, hit in tests.items():
        if NEEDS[reason] not in table.sources:
            continue
        triggered[reason] = hit
        score += hit * conf["weights"][reason]
        flags |= hit * reason.bit
    return RuleResult(score=np.minimum(score, 100), flags=flags, triggered=triggered)


def risk_level(score: float, high_from: float, medium_from: float) -> str:
    if score >= high_from:
        return RiskLevel.HIGH
    return RiskLevel.MEDIUM if score >= medium_from else RiskLevel.LOW


# reason → (parameter name, feature) pairs stored with it
PARAMS = {
    Reason.REVENUE_DOWN: [("months", "revenue_down_months"), ("pct", "revenue_change_pct")],
    Reason.MEMBERS_LEAVING: [("left", "members_left_3m"), ("pct", "member_change_pct")],
    Reason.CONTRACT_EXPIRING: [("days", "contract_days_left")],
    Reason.COMPLAINTS: [("count", "open_complaints_90d")],
    Reason.NO_VISIT: [("days", "days_since_visit")],
    Reason.COMPETITOR: [("count", "competitors")],
    Reason.ARREARS: [("months", "arrears_months_6m")],
    Reason.LOW_SATISFACTION: [("score", "satisfaction")],
}


def _number(value: float) -> int | float | None:
    if math.isnan(value):
        return None
    return int(round(value)) if abs(value - round(value)) < 1e-9 or abs(value) >= 10 else round(float(value), 1)


def reasons_at(table: FeatureTable, result: RuleResult, i: int, conf: dict | None = None) -> list[dict]:
    """The triggered reasons of row i, heaviest first (at most MAX_REASONS), as codes and numbers."""
    conf = conf or config()
    hits = [reason for reason, mask in result.triggered.items() if mask[i]]
    hits.sort(key=lambda reason: -conf["weights"][reason])
    return [
        {"code": reason.value, **{name: _number(table.numeric[feature][i]) for name, feature in PARAMS[reason]}}
        for reason in hits[:MAX_REASONS]
    ]


def describe(reason: dict) -> str:
    """A stored reason in the current language."""
    code = reason.get("code")
    if code == Reason.REVENUE_DOWN:
        if reason.get("pct") is None:
            return _("Revenue down %(months)d months running") % reason
        return _("Revenue down %(months)d months running (%(pct)+d%%)") % reason
    if code == Reason.MEMBERS_LEAVING:
        return (
            ngettext(
                "%(left)d member left in 3 months (net %(pct)+d%%)",
                "%(left)d members left in 3 months (net %(pct)+d%%)",
                reason["left"],
            )
            % reason
        )
    if code == Reason.CONTRACT_EXPIRING:
        if reason["days"] == 0:
            return _("Contract expires today")
        return (
            ngettext("Contract expires in %(days)d day", "Contract expires in %(days)d days", reason["days"]) % reason
        )
    if code == Reason.COMPLAINTS:
        return (
            ngettext(
                "%(count)d open complaint in the last 90 days",
                "%(count)d open complaints in the last 90 days",
                reason["count"],
            )
            % reason
        )
    if code == Reason.NO_VISIT:
        if reason.get("days") is None:
            return _("Never visited")
        return _("No visit in 90 days (last one %(days)d days ago)") % reason
    if code == Reason.COMPETITOR:
        return ngettext("A competitor is present", "%(count)d competitors are present", reason["count"]) % reason
    if code == Reason.ARREARS:
        return (
            ngettext(
                "In arrears %(months)d month of the last 6",
                "In arrears %(months)d months of the last 6",
                reason["months"],
            )
            % reason
        )
    if code == Reason.LOW_SATISFACTION:
        return _("Low satisfaction (latest survey %(score).1f of 5)") % reason
    return str(code)
