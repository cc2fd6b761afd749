"""REST endpoints: indicator values, targets (analysts and admins write) and grade proposals.

Handlers translate between JSON and the queries/services; every figure is computed over the caller's scope.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import (
    ErrorOut,
    Id,
    IfMatch,
    Page,
    PatchSchema,
    RowVersion,
    bounded_decimal,
    from_attr,
    resolve_ids,
)
from jiketong.core.concurrency import expected_from_if_match, with_etag

from . import indicators, queries, services
from .indicators import Calculation
from .models import GradeProposal, ProposalStatus, TargetPeriod
from .periods import parse_period

router = Router(tags=["analytics"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _month(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return parse_period(value)
    except ValueError:
        raise ValidationError({name: [_("Give a month as YYYY-MM.")]}) from None


# --- indicators ---------------------------------------------------------------------------------------
class IndicatorIn(Schema):
    code: str
    period: str | None = Field(None, description="YYYY-MM; default: the newest billed month.")
    start: str | None = Field(None, description="YYYY-MM, first month when by=month.")
    by: str = Field("", description="'', org, industry, grade or month.")
    product: str = Field("", description="Product code, for penetration.")


class IndicatorRow(Schema):
    key: str
    label: str
    value: Decimal | int | None


class IndicatorOut(Schema):
    code: str
    name: str
    unit: str
    definition: str
    period: date
    by: str
    rows: list[IndicatorRow]
    total: Decimal | int | None


@router.get("/analytics/indicators", response={200: IndicatorOut, **ERRORS}, summary="An indicator's values")
def indicator_values(request, params: Query[IndicatorIn]):
    """One indicator over the caller's scope, for a month (or each month from `start`), optionally grouped."""
    calc = Calculation(
        request.user,
        period=_month(params.period, "period"),
        start=_month(params.start, "start"),
        by=params.by,
        product=params.product,
    )
    item = indicators.get(params.code)
    table = queries.indicator_table(calc, [params.code])
    return {
        "code": item.code,
        "name": str(item.name),
        "unit": item.unit,
        "definition": str(item.definition),
        "period": calc.period,
        "by": calc.by,
        "rows": [{"key": row["param"], "label": str(row["label"]), "value": row["values"][0]} for row in table.rows],
        "total": calc.total(params.code) if calc.by != "month" else None,
    }


# --- targets ------------------------------------------------------------------------------------------
TargetValue = bounded_decimal(18, 2)  # analytics.Target.value


class TargetIn(Schema):
    org_unit: int
    indicator: str
    period_type: TargetPeriod
    period: str = Field(..., description="YYYY-MM (a year target takes its year).")
    value: TargetValue


class TargetPatch(PatchSchema):
    value: TargetValue | None = None
    period: str | None = None


class IndicatorTargetOut(Schema):
    id: int
    org_unit: int = from_attr("org_unit_id")
    indicator: str
    period_type: str
    period: date
    value: Decimal
    row_version: RowVersion


class IndicatorTargetProgressOut(IndicatorTargetOut):
    actual: Decimal | int | None
    progress: Decimal | None


def _target_data(user, data: dict) -> dict:
    if data.get("period") is not None:
        data["period"] = _month(data["period"], "period")
    return resolve_ids(data, {"org_unit": (queries.units_visible(user), _("There is no org unit with this id."))})


@router.get("/analytics/targets", response={200: list[IndicatorTargetProgressOut], **ERRORS}, summary="List targets")
@paginate(Page)
def target_list(request):
    """Targets of org units in the caller's subtree, newest first, with the actual and progress %."""
    return _Progress(request.user, queries.targets_visible(request.user))


class _Progress:
    """A lazily sliced target list: only the page's targets get their actual computed."""

    def __init__(self, user, targets):
        self.user, self.targets = user, targets

    def count(self) -> int:
        return self.targets.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list:
        rows = queries.target_progress(self.user, self.targets[page])
        for row in rows:
            row["target"].actual, row["target"].progress = row["actual"], row["progress"]
        return [row["target"] for row in rows]


@router.post("/analytics/targets", response={201: IndicatorTargetOut, **ERRORS}, summary="Create a target")
def target_create(request, payload: TargetIn):
    target = services.target_save(actor=request.user, **_target_data(request.user, payload.model_dump()))
    return Status(201, target)


@router.get(
    "/analytics/targets/{target_id}", response={200: IndicatorTargetProgressOut, **ERRORS}, summary="Get a target"
)
def target_get(request, response: HttpResponse, target_id: Id):
    target = queries.target_get(request.user, target_id)
    row = queries.target_progress(request.user, [target])[0]
    target.actual, target.progress = row["actual"], row["progress"]
    return with_etag(response, target)


@router.patch("/analytics/targets/{target_id}", response={200: IndicatorTargetOut, **ERRORS}, summary="Change a target")
def target_update(request, response: HttpResponse, target_id: Id, payload: TargetPatch, if_match: IfMatch = None):
    """With `If-Match: W/"<row_version>"`, a target changed since you read it is refused (412)."""
    target = queries.target_get(request.user, target_id)
    data = _target_data(request.user, payload.model_dump(exclude_unset=True))
    expected = expected_from_if_match(if_match)
    return with_etag(
        response, services.target_save(actor=request.user, target=target, expected_version=expected, **data)
    )


@router.delete("/analytics/targets/{target_id}", response={204: None, **ERRORS}, summary="Delete a target")
def target_delete(request, target_id: Id, if_match: IfMatch = None):
    target = queries.target_get(request.user, target_id)
    services.target_delete(actor=request.user, target=target, expected_version=expected_from_if_match(if_match))
    return Status(204, None)


# --- grade proposals -------------------------------------------------------------------------------------
class ProposalOut(Schema):
    id: int
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    old_grade: str
    new_grade: str
    score: Decimal
    reasons: str
    status: str


class ProposalFilter(Schema):
    status: ProposalStatus | None = ProposalStatus.PENDING


class DecisionIn(Schema):
    note: str = ""


@router.get("/analytics/grade-proposals", response={200: list[ProposalOut], **ERRORS}, summary="Grade proposals")
@paginate(Page)
def proposal_list(request, filters: Query[ProposalFilter]):
    return queries.proposals_visible(request.user, filters.status or "")


def _decide(request, proposal_id: Id, payload: DecisionIn, confirm: bool) -> GradeProposal:
    return services.proposal_decide(actor=request.user, proposal_pk=proposal_id, confirm=confirm, note=payload.note)


@router.post(
    "/analytics/grade-proposals/{proposal_id}/confirm",
    response={200: ProposalOut, **ERRORS},
    summary="Confirm a grade proposal (re-grades the customer)",
)
def proposal_confirm(request, proposal_id: Id, payload: DecisionIn):
    return _decide(request, proposal_id, payload, True)


@router.post(
    "/analytics/grade-proposals/{proposal_id}/reject",
    response={200: ProposalOut, **ERRORS},
    summary="Reject a grade proposal",
)
def proposal_reject(request, proposal_id: Id, payload: DecisionIn):
    return _decide(request, proposal_id, payload, False)
