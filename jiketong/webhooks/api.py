"""REST endpoints for webhooks (administrators only): endpoints, their delivery logs, and redelivery.

The signing secret is answered when an endpoint is created, by `GET .../secret` and by `rotate-secret`;
the other answers leave it out.
"""

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, Page, from_attr
from jiketong.core.notes import readable

from . import queries, services
from .models import Attempt, Delivery, Endpoint

router = Router(tags=["webhooks"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
EVENTS_HELP = 'Event names from docs/events.md, or ["*"] for every event (including ones added later).'


def _admin(request) -> None:
    services.require_admin(request.user)


# --- endpoints ----------------------------------------------------------------------------------------
class EndpointOut(Schema):
    id: int
    name: str
    url: str
    events: list[str] = Field(..., description=EVENTS_HELP)
    active: bool
    disabled_reason: str
    disabled_at: datetime | None
    failing_since: datetime | None = Field(..., description="First failed attempt since the last success.")
    consecutive_failures: int
    created_by: int | None = from_attr("created_by_id")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_disabled_reason(obj) -> str:
        return readable(obj.disabled_reason)


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(..., description="Standard Webhooks secret (whsec_ + base64): verify signatures with it.")


class SecretOut(Schema):
    secret: str


class EndpointIn(Schema):
    name: str
    url: str = Field(..., description="http:// or https:// URL the events are POSTed to.")
    events: list[str] = Field(..., description=EVENTS_HELP)
    active: bool = True


class EndpointPatch(Schema):
    name: str | None = None
    url: str | None = None
    events: list[str] | None = None
    active: bool | None = Field(None, description="false deactivates; true re-activates and clears the failures.")


@router.get("/webhooks/endpoints", response={200: list[EndpointOut], **ERRORS}, summary="List webhook endpoints")
@paginate(Page)
def endpoint_list(request):
    _admin(request)
    return Endpoint.objects.order_by("name", "pk")


@router.post("/webhooks/endpoints", response={201: EndpointWithSecretOut, **ERRORS}, summary="Register an endpoint")
def endpoint_post(request, payload: EndpointIn):
    """Answers the generated signing secret: give it to the receiver."""
    _admin(request)
    return Status(201, services.endpoint_create(actor=request.user, **payload.model_dump()))


@router.get("/webhooks/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="Get an endpoint")
def endpoint_get(request, endpoint_id: Id):
    _admin(request)
    return queries.endpoint_get(endpoint_id)


@router.patch("/webhooks/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="Change one")
def endpoint_patch(request, endpoint_id: Id, payload: EndpointPatch):
    _admin(request)
    endpoint = queries.endpoint_get(endpoint_id)
    fields = {key: value for key, value in payload.model_dump(exclude_unset=True).items() if value is not None}
    return services.endpoint_update(actor=request.user, endpoint=endpoint, **fields)


@router.delete("/webhooks/endpoints/{endpoint_id}", response={204: None, **ERRORS}, summary="Delete an endpoint")
def endpoint_delete(request, endpoint_id: Id):
    """Deletes its delivery log too; PATCH `active: false` keeps it."""
    _admin(request)
    services.endpoint_delete(actor=request.user, endpoint=queries.endpoint_get(endpoint_id))
    return Status(204, None)


@router.get("/webhooks/endpoints/{endpoint_id}/secret", response={200: SecretOut, **ERRORS}, summary="Its secret")
def endpoint_secret(request, endpoint_id: Id):
    _admin(request)
    return {"secret": services.endpoint_secret_reveal(actor=request.user, endpoint=queries.endpoint_get(endpoint_id))}


@router.post(
    "/webhooks/endpoints/{endpoint_id}/rotate-secret", response={200: SecretOut, **ERRORS}, summary="New secret"
)
def endpoint_rotate_secret(request, endpoint_id: Id):
    """The old secret stops verifying at once."""
    _admin(request)
    endpoint = services.endpoint_rotate_secret(actor=request.user, endpoint=queries.endpoint_get(endpoint_id))
    return {"secret": endpoint.secret}


class TestOut(Schema):
    delivered: bool
    status_code: int | None
    error: str
    duration_ms: int


@router.post("/webhooks/endpoints/{endpoint_id}/test", response={200: TestOut, **ERRORS}, summary="Send a test")
def endpoint_test(request, endpoint_id: Id):
    """POSTs a signed `webhook.test` message now and answers how the receiver took it (nothing is logged)."""
    _admin(request)
    result = services.endpoint_send_test(actor=request.user, endpoint=queries.endpoint_get(endpoint_id))
    return {"delivered": result.ok, **{k: getattr(result, k) for k in ("status_code", "error", "duration_ms")}}


# --- deliveries ---------------------------------------------------------------------------------------
class AttemptOut(Schema):
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int
    succeeded: bool
    redelivered_by: int | None = from_attr("requested_by_id")


class DeliveryOut(Schema):
    id: int
    endpoint: int = from_attr("endpoint_id")
    event: int = from_attr("event_id", description="The event id, sent as `webhook-id`.")
    event_type: str = from_attr("event.name")
    status: str = Field(..., description="pending, failed (will retry), succeeded or gave_up.")
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryDetailOut(DeliveryOut):
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_attempt_log(obj: Delivery) -> list[Attempt]:
        return list(queries.attempts(obj))


class DeliveryFilter(Schema):
    status: str | None = Field(None, description="pending, failed, succeeded or gave_up.")


@router.get(
    "/webhooks/endpoints/{endpoint_id}/deliveries",
    response={200: list[DeliveryOut], **ERRORS},
    summary="An endpoint's delivery log",
)
@paginate(Page)
def delivery_list(request, endpoint_id: Id, filters: Query[DeliveryFilter]):
    """Newest first."""
    _admin(request)
    return queries.deliveries(queries.endpoint_get(endpoint_id), filters.status or "")


@router.get("/webhooks/deliveries/{delivery_id}", response={200: DeliveryDetailOut, **ERRORS}, summary="A delivery")
def delivery_get(request, delivery_id: Id):
    _admin(request)
    return queries.delivery_get(delivery_id)


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver", response={200: DeliveryDetailOut, **ERRORS}, summary="Send again"
)
def delivery_redeliver(request, delivery_id: Id):
    """A fresh attempt now (same `webhook-id`); if it fails, a fresh round of retries."""
    _admin(request)
    return services.delivery_redeliver(actor=request.user, delivery=queries.delivery_get(delivery_id))
