"""REST endpoints of churn early warning: the warning list, one customer's score, the retention task.
Thin: reads through queries (scoped; out of scope answers 404), the write through services."""

from datetime import date

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, Page
from jiketong.customers import queries as customer_queries

from . import queries, rules, services
from .models import ChurnScore

router = Router(tags=["churn"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ReasonOut(Schema):
    code: str
    text: str = Field(..., description="The reason in the caller's language.")


class ScoreOut(Schema):
    customer: int
    customer_name: str
    score: int = Field(..., description="0–100, higher is more likely to leave within three months.")
    risk: str
    reasons: list[ReasonOut]
    scored_on: date
    model_version: str

    @staticmethod
    def resolve_customer(obj: ChurnScore) -> int:
        return obj.customer_id

    @staticmethod
    def resolve_customer_name(obj: ChurnScore) -> str:
        return obj.customer.name

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
    warning_filter, scores = queries.warnings(request.user, filters.model_dump(exclude_none=True))
    if warning_filter.errors:
        raise ValidationError({name: list(messages) for name, messages in warning_filter.errors.items()})
    return scores


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
    task, created = services.retention_task_create(actor=request.user, customer=customer)
    out = {"id": task.pk, "owner": task.owner_id, "title": task.title, "due_on": task.due_on, "created": created}
    return Status(201 if created else 200, out)
