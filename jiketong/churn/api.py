"""REST endpoints of churn early warning: the warning list, one customer's score, the retention task, the risk
alerts (list, acknowledge, resolve, retention task).
Thin: reads through queries (scoped; out of scope answers 404), the write through services."""

from datetime import date, datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, Page, filtered, from_attr
from jiketong.core.notes import readable
from jiketong.customers import queries as customer_queries

from . import queries, rules, services
from .models import ChurnScore, RiskAlert

router = Router(tags=["churn"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ReasonOut(Schema):
    code: str
    text: str = Field(..., description="The reason in the caller's language.")


class ScoreOut(Schema):
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    score: int = Field(..., description="0–100, higher is more likely to leave within three months.")
    risk: str
    reasons: list[ReasonOut]
    scored_on: date
    model_version: str

    @staticmethod
    def resolve_reasons(obj: ChurnScore) -> list[dict]:
        return [{"code": reason["code"], "text": rules.describe(reason)} for reason in obj.reasons]


class WarningFilterIn(Schema):
    risk: str | None = None
    reason: str | None = None
    region: str | None = Field(None, description="Org unit code: its whole subtree.")


class RetentionTaskOut(Schema):
    id: int
    owner: int
    title: str
    due_on: date
    created: bool = Field(..., description="False when an open retention task already existed.")


@router.get("/churn/warnings", response={200: list[ScoreOut], 400: ErrorOut}, summary="Churn warning list")
@paginate(Page)
def warning_list(request, filters: Query[WarningFilterIn]):
    """The caller's customers by churn score, highest first."""
    return filtered(queries.warnings, request.user, filters)


@router.get("/churn/customers/{customer_id}", response={200: ScoreOut, **ERRORS}, summary="A customer's score")
def customer_score(request, customer_id: Id):
    customer_queries.customer_get(request.user, customer_id)
    score = queries.score_of(request.user, customer_id)
    if score is None:
        raise Http404
    return score


@router.post(
    "/churn/customers/{customer_id}/retention-task",
    response={200: RetentionTaskOut, 201: RetentionTaskOut, **ERRORS},
    summary="Create a retention task for the customer's manager (idempotent)",
)
def retention_task(request, customer_id: Id):
    customer = customer_queries.customer_get(request.user, customer_id)
    return _retention_answer(*services.retention_task_create(actor=request.user, customer=customer))


def _retention_answer(task, created: bool) -> Status:
    """201 with the task opened now, 200 with the one already open (the call is idempotent)."""
    out = {"id": task.pk, "owner": task.owner_id, "title": task.title, "due_on": task.due_on, "created": created}
    return Status(201 if created else 200, out)


# --- risk alerts (风险提醒) ---------------------------------------------------------------------------
class AlertOut(Schema):
    id: int
    kind: str
    kind_label: str
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    occurred_on: date
    raised_on: date
    reason: str = Field(..., description="The reason in the caller's language, with its values.")
    status: str
    owner: int | None = from_attr("owner_id", None, description="The customer manager it was routed to (staff id).")
    supervisor: int | None = from_attr(
        "supervisor_id", None, description="The nearest supervisor it was routed to (staff id)."
    )
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    resolution: str
    task: int | None = from_attr("task_id", None, description="The retention task opened from the alert.")

    @staticmethod
    def resolve_kind_label(obj: RiskAlert) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_reason(obj: RiskAlert) -> str:
        return readable(obj.reason)


class AlertFilterIn(Schema):
    kind: str | None = None
    status: str | None = None
    region: str | None = Field(None, description="Org unit code: its whole subtree.")
    customer: int | None = None


class ResolveIn(Schema):
    note: str = Field(..., description="What was done about it (at most 500 characters).")


@router.get("/churn/alerts", response={200: list[AlertOut], 400: ErrorOut}, summary="Risk alerts (the risk inbox)")
@paginate(Page)
def alert_list(request, filters: Query[AlertFilterIn]):
    """The caller's risk alerts, newest first: a manager's portfolio, a supervisor's subtree."""
    return filtered(queries.alerts, request.user, filters)


@router.post("/churn/alerts/{alert_id}/acknowledge", response={200: AlertOut, **ERRORS},
             summary="Acknowledge a risk alert")  # fmt: skip
def alert_acknowledge(request, alert_id: Id):
    alert = queries.alert_get(request.user, alert_id)
    services.alert_acknowledge(actor=request.user, alert=alert)
    return queries.alert_get(request.user, alert_id)


@router.post("/churn/alerts/{alert_id}/resolve", response={200: AlertOut, **ERRORS},
             summary="Resolve a risk alert with a note")  # fmt: skip
def alert_resolve(request, alert_id: Id, body: ResolveIn):
    alert = queries.alert_get(request.user, alert_id)
    services.alert_resolve(actor=request.user, alert=alert, note=body.note)
    return queries.alert_get(request.user, alert_id)


@router.post(
    "/churn/alerts/{alert_id}/retention-task",
    response={200: RetentionTaskOut, 201: RetentionTaskOut, **ERRORS},
    summary="Open the retention task (and its retention case) from a risk alert (idempotent)",
)
def alert_retention(request, alert_id: Id):
    alert = queries.alert_get(request.user, alert_id)
    return _retention_answer(*services.alert_retention_open(actor=request.user, alert=alert))
