"""REST endpoints of the scorecards. Thin: reads through queries (scoped; out of scope answers 404 like a missing
id), writes through services. A closed month answers its frozen copy."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from jiketong.analytics.periods import parse_period
from jiketong.api.base import ErrorOut, Id, Page, from_attr

from . import queries, services

router = Router(tags=["assessment"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ComponentOut(Schema):
    code: str
    weight: int
    target: Decimal
    actual: Decimal | None = Field(None, description="Ratios as 0–1 (0.8571 is 85.71%), counts, or yuan.")
    score: Decimal | None = Field(None, description="min(actual ÷ target, cap), at least 0; None without an actual.")


class FiguresOut(Schema):
    month: date = from_attr("period")
    closed: bool = Field(..., description="True for a closed month's frozen figures.")
    total: Decimal | None = Field(None, description="Σ weight × score × 100 ÷ Σ weight of the scored components.")
    customers: int
    visits_done: int
    visits_owed: int
    follow_ups_done: int
    follow_ups_due: int
    login_days: int
    working_days: int
    won_count: int
    won_value: Decimal
    revenue: Decimal
    revenue_before: Decimal
    served_before: int
    churned: int
    satisfied: int
    rated: int
    archive_done: int
    archive_checks: int
    cap: Decimal
    components: list[ComponentOut]
    computed_at: datetime

    @staticmethod
    def resolve_cap(obj) -> Decimal:
        return Decimal(obj.terms.get("cap", "1.20"))

    @staticmethod
    def resolve_components(obj) -> list[dict]:
        return [
            {"code": row["component"].code, **{k: v for k, v in row.items() if k != "component"}}
            for row in queries.component_rows(obj)
        ]


class ManagerScoreOut(FiguresOut):
    staff: int = from_attr("staff_id")
    staff_name: str = from_attr("staff.name")
    org_unit: int = from_attr("org_unit_id")
    rank_in_unit: int | None = Field(None, description="Rank among the managers of the same org unit (1 is best).")


class UnitScoreOut(FiguresOut):
    org_unit: int = from_attr("org_unit_id")
    managers: int


class MonthOut(Schema):
    month: date = from_attr("period")
    status: str = Field(..., description="open or closed")
    managers: int
    computed_at: datetime | None
    closed_at: datetime | None


class MonthIn(Schema):
    month: str = Field(..., description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")


class ReopenIn(MonthIn):
    reason: str = Field(..., max_length=300)


class ScorecardFilters(Schema):
    month: str | None = Field(None, description="YYYY-MM; default the newest computed month.", pattern=r"^\d{4}-\d{2}$")
    unit: Id | None = Field(None, description="Org unit id: its subtree's managers; default the caller's unit.")


def _period(text: str | None) -> date:
    return queries.month_of(text)


@router.get("/assessment/months", response={200: list[MonthOut]}, summary="Assessment months")
def month_list(request):
    return queries.months()


@router.get(
    "/assessment/scorecards",
    response={200: list[ManagerScoreOut], **ERRORS},
    summary="Managers' scorecards of a unit, best total first",
)
@paginate(Page)
def scorecard_list(request, filters: Query[ScorecardFilters]):
    unit = queries.unit_get(request.user, filters.unit)
    return queries.ranking(request.user, _period(filters.month), unit)


@router.get("/assessment/scorecards/me", response={200: ManagerScoreOut, **ERRORS}, summary="My scorecard")
def scorecard_mine(request, month: str | None = None):
    score = queries.my_scorecard(request.user, _period(month))
    if score is None:
        raise Http404
    return score


@router.get(
    "/assessment/managers/{staff_id}/scorecard",
    response={200: ManagerScoreOut, **ERRORS},
    summary="A manager's scorecard",
)
def scorecard_of(request, staff_id: Id, month: str | None = None):
    return queries.manager_scorecard(request.user, _period(month), staff_id)


@router.get(
    "/assessment/units/{unit_id}/scorecard",
    response={200: UnitScoreOut, **ERRORS},
    summary="A unit's scorecard (its managers rolled up)",
)
def unit_scorecard(request, unit_id: Id, month: str | None = None):
    unit = queries.unit_get(request.user, unit_id)
    score = queries.unit_scorecard(request.user, _period(month), unit)
    if score is None:
        raise Http404
    return score


@router.post("/assessment/months/close", response={200: MonthOut, **ERRORS}, summary="Close a month (freeze it)")
def month_close(request, payload: MonthIn):
    return services.month_close(actor=request.user, period=_checked(payload.month))


@router.post(
    "/assessment/months/reopen",
    response={200: MonthOut, **ERRORS},
    summary="Reopen a closed month (administrators, with a reason)",
)
def month_reopen(request, payload: ReopenIn):
    return services.month_reopen(actor=request.user, period=_checked(payload.month), reason=payload.reason)


def _checked(text: str) -> date:
    try:
        return parse_period(text)
    except ValueError:
        raise ValidationError({"month": [_("Enter a month such as 2026-11.")]}) from None
