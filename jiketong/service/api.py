"""REST endpoints for tickets, the breach board, surveys and the satisfaction quadrant. Thin: the same
queries and services as the pages; out-of-scope ids answer 404 like missing ones."""

from datetime import date, datetime

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, IfMatch, Page, PatchSchema, RowVersion, from_attr, referenced, resolve_ids
from jiketong.core.concurrency import expected_from_if_match, with_etag
from jiketong.customers import queries as customer_queries

from . import queries, services
from .models import Ticket

router = Router(tags=["service"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class TicketOut(Schema):
    id: int
    row_version: RowVersion
    number: str
    type: str
    channel: str
    priority: str
    customer: int = from_attr("customer_id")
    contact: int | None = from_attr("contact_id", None)
    title: str
    description: str
    status: str
    owner: int = from_attr("owner_id")
    received_by: int = from_attr("received_by_id")
    transfer_to: int | None = from_attr("transfer_to_id", None)
    opened_at: datetime
    response_due: datetime
    resolve_due: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str
    breached_response: bool
    breached_resolution: bool
    escalated_at: datetime | None
    reopen_count: int
    rating: int | None
    rating_comment: str


class TicketFilterIn(Schema):
    search: str | None = None
    state: str | None = Field(None, description="open, breached or mine.")
    status: str | None = None
    type: str | None = None
    channel: str | None = None
    priority: str | None = None
    customer: Id | None = None


class TicketIn(Schema):
    customer: int
    type: str
    channel: str
    title: str
    priority: str = "normal"
    description: str = ""
    contact: int | None = None
    opened_at: datetime | None = Field(None, description="When it was received; default now.")


class TicketPatch(PatchSchema):
    """What may be corrected on an open ticket; its type, owner and status change through its own steps."""

    nullable = frozenset({"contact"})

    title: str | None = None
    description: str | None = None
    priority: str | None = None
    contact: int | None = Field(None, description="A contact of the ticket's customer; null clears it.")


class ActionIn(Schema):
    note: str = ""
    reason: str = ""
    resolution: str = ""
    to: int | None = Field(None, description="Staff id to transfer to.")
    rating: int | None = None
    comment: str = ""


@router.get("/tickets", response=list[TicketOut], summary="List tickets")
@paginate(Page)
def ticket_list(request, filters: Query[TicketFilterIn]):
    params = {k: v for k, v in filters.model_dump().items() if v not in (None, "")}
    return queries.ticket_list(request.user, params)[1]


@router.get("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS}, summary="Get a ticket")
def ticket_get(request, response: HttpResponse, ticket_id: Id):
    return with_etag(response, queries.ticket_get(request.user, ticket_id))


@router.patch("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS}, summary="Correct an open ticket")
def ticket_patch(request, response: HttpResponse, ticket_id: Id, payload: TicketPatch, if_match: IfMatch = None):
    """Send only the fields to change: title, description, priority, contact."""
    ticket = queries.ticket_get(request.user, ticket_id)
    data = resolve_ids(payload.model_dump(exclude_unset=True), {"contact": _contacts(request.user, ticket.customer_id)})
    services.ticket_update(actor=request.user, ticket=ticket, expected_version=expected_from_if_match(if_match), **data)
    return with_etag(response, queries.ticket_get(request.user, ticket_id))


@router.post("/tickets", response={201: TicketOut, **ERRORS}, summary="Receive a ticket (you become its owner)")
def ticket_create(request, payload: TicketIn):
    data = payload.model_dump()
    customer = customer_queries.customer_get(request.user, data.pop("customer"))
    data = resolve_ids(data, {"contact": _contacts(request.user, customer.pk)})
    return Status(201, services.ticket_receive(actor=request.user, customer=customer, **data))


def _contacts(user, customer_pk: int) -> tuple[QuerySet, str]:
    """Where a ticket's `contact` id is looked up: the customer's own contacts the caller may see."""
    return customer_queries.contacts_of(user, customer_pk), _("This customer has no contact with this id.")


def _run(request, ticket_id: Id, action: str, payload: ActionIn) -> Ticket:
    ticket = queries.ticket_get(request.user, ticket_id)
    actor = request.user
    if action == "respond":
        return services.ticket_respond(actor=actor, ticket=ticket, note=payload.note)
    if action == "resolve":
        return services.ticket_resolve(actor=actor, ticket=ticket, resolution=payload.resolution)
    if action == "close":
        return services.ticket_close(actor=actor, ticket=ticket, note=payload.note)
    if action == "reopen":
        return services.ticket_reopen(actor=actor, ticket=ticket, reason=payload.reason)
    if action == "transfer":
        to = referenced(queries.staff_choices(actor), payload.to, "to", _("There is no colleague with this id."))
        return services.transfer_request(actor=actor, ticket=ticket, to=to, reason=payload.reason)
    if action == "accept":
        return services.transfer_accept(actor=actor, ticket=ticket)
    if action == "decline":
        return services.transfer_decline(actor=actor, ticket=ticket, reason=payload.reason)
    return services.ticket_rate(actor=actor, ticket=ticket, rating=payload.rating, comment=payload.comment)


def _action_endpoint(action: str, summary: str):
    @router.post(f"/tickets/{{ticket_id}}/{action}", response={200: TicketOut, **ERRORS}, summary=summary)
    def endpoint(request, ticket_id: int, payload: ActionIn):
        return _run(request, ticket_id, action, payload)

    endpoint.__name__ = f"ticket_{action}"
    return endpoint


for _action, _summary in [
    ("respond", "First response: take the ticket in hand (owner)"),
    ("resolve", "Resolve with a resolution (owner)"),
    ("close", "Close a resolved ticket (owner)"),
    ("reopen", "Reopen a resolved or closed ticket, with a reason"),
    ("transfer", "Ask a colleague to take the ticket over, with a reason (owner)"),
    ("accept", "Accept a transfer offered to you"),
    ("decline", "Decline a transfer offered to you, with a reason"),
    ("rate", "Record the customer's rating (1–5) of a closed ticket"),
]:
    _action_endpoint(_action, _summary)


@router.get("/breaches", response={200: list[TicketOut], 403: ErrorOut}, summary="The breach board (supervisors)")
@paginate(Page)
def breach_list(request):
    return queries.breach_board(request.user, timezone.now(), queries.business_calendar())


# --- satisfaction ---------------------------------------------------------------------------------
class SurveyOut(Schema):
    id: int
    customer: int = from_attr("customer_id")
    period: str
    surveyed_by: int = from_attr("surveyed_by_id")
    surveyed_on: date
    note: str
    answers: dict[str, tuple[int, int]] = Field(..., description="dimension → [importance, satisfaction], 1–5.")

    @staticmethod
    def resolve_answers(obj) -> dict[str, tuple[int, int]]:
        return {a.dimension: (a.importance, a.satisfaction) for a in obj.answers.all()}


class SurveyIn(Schema):
    customer: int
    period: str = Field(..., description="A quarter such as 2026-Q4.")
    surveyed_on: date
    note: str = ""
    answers: dict[str, tuple[int, int]]


class SurveyFilterIn(Schema):
    period: str | None = None
    customer: Id | None = None


@router.get("/surveys", response=list[SurveyOut], summary="List satisfaction surveys")
@paginate(Page)
def survey_list(request, filters: Query[SurveyFilterIn]):
    params = {k: v for k, v in filters.model_dump().items() if v not in (None, "")}
    return queries.survey_list(request.user, params)[1].prefetch_related("answers")


@router.get("/surveys/{survey_id}", response={200: SurveyOut, **ERRORS}, summary="Get a survey")
def survey_get(request, survey_id: Id):
    return queries.survey_get(request.user, survey_id)


@router.post("/surveys", response={201: SurveyOut, **ERRORS}, summary="Record a survey")
def survey_create(request, payload: SurveyIn):
    data = payload.model_dump()
    customer = customer_queries.customer_get(request.user, data.pop("customer"))
    return Status(201, services.survey_create(actor=request.user, customer=customer, **data))


class QuadrantPointOut(Schema):
    dimension: str
    importance: float
    satisfaction: float
    answers: int
    quadrant: str = Field(..., description="advantage, keep, adjust or fix_first.")


class QuadrantOut(Schema):
    points: list[QuadrantPointOut]
    importance_threshold: float | None
    satisfaction_threshold: float | None
    surveys: int


class QuadrantFilterIn(Schema):
    period: list[str] = Field([], description="Quarters such as 2026-Q4; none: all.")


@router.get("/satisfaction/quadrant", response=QuadrantOut, summary="Importance × satisfaction quadrants")
def quadrant(request, filters: Query[QuadrantFilterIn]):
    return queries.satisfaction_quadrant(request.user, periods=filters.period or None)
