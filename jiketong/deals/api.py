"""REST endpoints for quotes, approvals, contracts and orders.

Handlers only translate between JSON and the queries/services: reads are scoped (out of scope answers
404 like a missing id), writes go through the services (rules, permissions, audit). A change to a quote
that is no longer a draft answers 400 naming the rule; an order state the order cannot reach answers 409;
repeating a state update the order already had answers 200 with `changed: false`.
"""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import (
    ErrorOut,
    Id,
    IfMatch,
    Money,
    Page,
    PatchSchema,
    Percent,
    RowVersion,
    from_attr,
    referenced,
    resolve_ids,
    validation_errors,
)
from jiketong.catalog import queries as catalog_queries
from jiketong.core.concurrency import expected_from_if_match, with_etag
from jiketong.customers import queries as customer_queries
from jiketong.sales.models import Opportunity

from . import queries, services
from .models import ContractStatus, OrderStatus, QuoteStatus
from .views import csv_response

router = Router(tags=["deals"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- quotes -------------------------------------------------------------------------------------
class QuoteLineOut(Schema):
    id: int
    product: int = from_attr("product_id")
    product_code: str = from_attr("product.code")
    quantity: int
    standard_price: Decimal
    offered_price: Decimal
    discount_pct: Decimal
    package: int | None = from_attr(
        "package_id", description="The solution package the line came from (its lines share its price)."
    )


class QuoteOut(Schema):
    id: int
    row_version: RowVersion
    number: str
    version: int = Field(..., description="The quote's version (v1, v2 …), not the record's `row_version`.")
    previous: int | None = from_attr("previous_id")
    customer: int = from_attr("customer_id")
    opportunity: int | None = from_attr("opportunity_id")
    title: str
    status: str
    valid_until: date | None
    required_level: str
    max_discount_pct: Decimal
    total_standard: Decimal = Field(..., description="Monthly total at standard prices (yuan).")
    total: Decimal = Field(..., description="Monthly total offered (yuan).")
    submitted_by: int | None = from_attr("submitted_by_id")
    submitted_at: datetime | None
    created_at: datetime


class QuoteDetailOut(QuoteOut):
    lines: list[QuoteLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(queries.quote_lines(obj))


class QuoteIn(Schema):
    customer: int
    opportunity: int | None = None
    title: str = ""
    valid_until: date | None = None
    note: str = ""


class QuotePatch(PatchSchema):
    nullable = frozenset({"opportunity", "valid_until"})

    opportunity: int | None = None
    title: str | None = None
    valid_until: date | None = None
    note: str | None = None


class QuoteLineIn(Schema):
    product: int
    quantity: int = Field(1, ge=1)
    offered_price: Money | None = Field(None, description="Leave out to derive it from the discount.")
    discount_pct: Percent | None = Field(None, description="Leave out to derive it from the offered price.")


class QuoteFilter(Schema):
    status: QuoteStatus | None = None
    customer: Id | None = None


class CommentIn(Schema):
    comment: str = ""


def _quote(request, quote_id: Id):
    return queries.quote_get(request.user, quote_id)


def _opportunities(user) -> tuple[QuerySet, str]:
    return Opportunity.objects.visible_to(user), _("There is no opportunity with this id.")


@router.get("/quotes", response={200: list[QuoteOut], **ERRORS}, summary="List quotes")
@paginate(Page)
def quote_list(request, filters: Query[QuoteFilter]):
    return queries.quote_list(request.user, status=filters.status or "", customer_pk=filters.customer)


@router.post("/quotes", response={201: QuoteDetailOut, **ERRORS}, summary="Create a draft quote")
def quote_create(request, payload: QuoteIn):
    records = resolve_ids(
        payload.model_dump(include={"customer", "opportunity"}),
        {
            "customer": (customer_queries.customers_visible(request.user), _("There is no customer with this id.")),
            "opportunity": _opportunities(request.user),
        },
    )
    quote = services.quote_create(
        actor=request.user,
        **records,
        title=payload.title,
        valid_until=payload.valid_until,
        note=payload.note,
    )
    return Status(201, _quote(request, quote.pk))


@router.get("/quotes/{quote_id}", response={200: QuoteDetailOut, **ERRORS}, summary="Get a quote with its lines")
def quote_get(request, response: HttpResponse, quote_id: Id):
    return with_etag(response, _quote(request, quote_id))


@router.patch("/quotes/{quote_id}", response={200: QuoteDetailOut, **ERRORS}, summary="Change a draft quote")
def quote_patch(request, response: HttpResponse, quote_id: Id, payload: QuotePatch, if_match: IfMatch = None):
    quote = _quote(request, quote_id)
    data = resolve_ids(payload.model_dump(exclude_unset=True), {"opportunity": _opportunities(request.user)})
    services.quote_update(actor=request.user, quote=quote, expected_version=expected_from_if_match(if_match), **data)
    return with_etag(response, _quote(request, quote_id))


@router.post("/quotes/{quote_id}/lines", response={201: QuoteDetailOut, **ERRORS}, summary="Add a line to a draft")
def quote_line_add(request, quote_id: Id, payload: QuoteLineIn):
    quote = _quote(request, quote_id)
    product = referenced(catalog_queries.products(), payload.product, "product", _("There is no product with this id."))
    services.quote_line_save(
        actor=request.user,
        quote=quote,
        product=product,
        quantity=payload.quantity,
        offered_price=payload.offered_price,
        discount_pct=payload.discount_pct,
    )
    return Status(201, _quote(request, quote_id))


class QuotePackageIn(Schema):
    package: int = Field(..., description="A solution package on sale (GET /packages).")


@router.post(
    "/quotes/{quote_id}/packages", response={201: QuoteDetailOut, **ERRORS}, summary="Add a solution package to a draft"
)
def quote_package_add(request, quote_id: Id, payload: QuotePackageIn):
    """One line per product of the package, the package price spread over them; its discount against the list
    prices is approved like any quote's on submit."""
    quote = _quote(request, quote_id)
    package = referenced(
        catalog_queries.packages(), payload.package, "package", _("There is no solution package with this id.")
    )
    services.quote_package_add(actor=request.user, quote=quote, package=package)
    return Status(201, _quote(request, quote_id))


@router.delete(
    "/quotes/{quote_id}/packages/{package_id}",
    response={204: None, **ERRORS},
    summary="Remove a solution package from a draft",
)
def quote_package_remove(request, quote_id: Id, package_id: Id):
    quote = _quote(request, quote_id)
    package = referenced(
        catalog_queries.packages(), package_id, "package", _("There is no solution package with this id.")
    )
    services.quote_package_remove(actor=request.user, quote=quote, package=package)
    return Status(204, None)


@router.put("/quote-lines/{line_id}", response={200: QuoteDetailOut, **ERRORS}, summary="Change a line of a draft")
def quote_line_put(request, line_id: Id, payload: QuoteLineIn):
    line = queries.quote_line_get(request.user, line_id)
    product = referenced(catalog_queries.products(), payload.product, "product", _("There is no product with this id."))
    services.quote_line_save(
        actor=request.user,
        quote=line.quote,
        line=line,
        product=product,
        quantity=payload.quantity,
        offered_price=payload.offered_price,
        discount_pct=payload.discount_pct,
    )
    return _quote(request, line.quote_id)


@router.delete("/quote-lines/{line_id}", response={204: None, **ERRORS}, summary="Remove a line from a draft")
def quote_line_delete(request, line_id: Id):
    services.quote_line_delete(actor=request.user, line=queries.quote_line_get(request.user, line_id))
    return Status(204, None)


@router.post("/quotes/{quote_id}/submit", response={200: QuoteDetailOut, **ERRORS}, summary="Submit for approval")
def quote_submit(request, quote_id: Id):
    """Approved at once when the discount is within the submitter's own authority; otherwise pending."""
    services.quote_submit(actor=request.user, quote=_quote(request, quote_id))
    return _quote(request, quote_id)


@router.post("/quotes/{quote_id}/approve", response={200: QuoteDetailOut, **ERRORS}, summary="Approve a quote")
def quote_approve(request, quote_id: Id, payload: CommentIn):
    services.quote_approve(actor=request.user, quote=_quote(request, quote_id), comment=payload.comment)
    return _quote(request, quote_id)


@router.post("/quotes/{quote_id}/reject", response={200: QuoteDetailOut, **ERRORS}, summary="Reject (comment required)")
def quote_reject(request, quote_id: Id, payload: CommentIn):
    services.quote_reject(actor=request.user, quote=_quote(request, quote_id), comment=payload.comment)
    return _quote(request, quote_id)


@router.post(
    "/quotes/{quote_id}/new-version", response={201: QuoteDetailOut, **ERRORS}, summary="Copy into a new draft"
)
def quote_new_version(request, quote_id: Id):
    new = services.quote_new_version(actor=request.user, quote=_quote(request, quote_id))
    return Status(201, _quote(request, new.pk))


@router.get("/approvals", response={200: list[QuoteOut], **ERRORS}, summary="Quotes waiting for my decision")
@paginate(Page)
def approval_queue(request):
    return queries.approval_queue(request.user)


# --- contracts ----------------------------------------------------------------------------------
class ContractOut(Schema):
    id: int
    row_version: RowVersion
    number: str
    title: str
    customer: int = from_attr("customer_id")
    quote: int | None = from_attr("quote_id")
    value: Decimal
    start_on: date
    end_on: date
    signed_on: date | None
    auto_renew: bool
    renewal_terms: str
    status: str
    termination_reason: str
    previous: int | None = from_attr("previous_id")
    owner: int | None = from_attr("owner_id")


class ContractIn(Schema):
    customer: int
    quote: int | None = Field(None, description="An approved quote of the customer.")
    start_on: date
    end_on: date
    value: Money | None = Field(None, description="Required without a quote; default: quote total × months.")
    number: str = Field("", description="Leave empty to number it automatically.")
    title: str = ""
    signed_on: date | None = None
    auto_renew: bool = False
    renewal_terms: str = ""


class ContractPatch(PatchSchema):
    """A draft contract's terms; a contract in force changes by renewal or termination."""

    nullable = frozenset({"signed_on"})

    number: str | None = Field(None, description="Empty keeps the current number.")
    title: str | None = None
    value: Money | None = None
    start_on: date | None = None
    end_on: date | None = None
    signed_on: date | None = None
    auto_renew: bool | None = None
    renewal_terms: str | None = None


class ContractFilter(Schema):
    status: ContractStatus | None = None
    expiring_within: int | None = Field(
        None, ge=0, le=3660, description="Only contracts in force ending within N days (at most ten years)."
    )
    customer: Id | None = None


class RenewIn(Schema):
    start_on: date | None = None
    end_on: date | None = None
    value: Money | None = None
    number: str = ""


class ReasonIn(Schema):
    reason: str = ""


@router.get("/contracts", response={200: list[ContractOut], **ERRORS}, summary="List contracts")
@paginate(Page)
def contract_list(request, filters: Query[ContractFilter]):
    return queries.contract_list(
        request.user,
        status=filters.status or "",
        expiring_within=filters.expiring_within,
        customer_pk=filters.customer,
    )


@router.post("/contracts", response={201: ContractOut, **ERRORS}, summary="Create a draft contract")
def contract_create(request, payload: ContractIn):
    data = resolve_ids(
        payload.model_dump(),
        {
            "customer": (customer_queries.customers_visible(request.user), _("There is no customer with this id.")),
            "quote": (queries.quote_list(request.user), _("There is no quote with this id.")),
        },
    )
    contract = services.contract_create(actor=request.user, **data)
    return Status(201, queries.contract_get(request.user, contract.pk))


@router.get("/contracts/{contract_id}", response={200: ContractOut, **ERRORS}, summary="Get a contract")
def contract_get(request, response: HttpResponse, contract_id: Id):
    return with_etag(response, queries.contract_get(request.user, contract_id))


@router.patch("/contracts/{contract_id}", response={200: ContractOut, **ERRORS}, summary="Change a draft contract")
def contract_patch(request, response: HttpResponse, contract_id: Id, payload: ContractPatch, if_match: IfMatch = None):
    """Send only the fields to change. Only a draft contract changes; one in force is renewed or terminated."""
    contract = queries.contract_get(request.user, contract_id)
    expected = expected_from_if_match(if_match)
    data = payload.model_dump(exclude_unset=True)
    services.contract_update(actor=request.user, contract=contract, expected_version=expected, **data)
    return with_etag(response, queries.contract_get(request.user, contract_id))


@router.post("/contracts/{contract_id}/activate", response={200: ContractOut, **ERRORS}, summary="Activate")
def contract_activate(request, contract_id: Id):
    return services.contract_activate(actor=request.user, contract=queries.contract_get(request.user, contract_id))


@router.post("/contracts/{contract_id}/terminate", response={200: ContractOut, **ERRORS}, summary="Terminate")
def contract_terminate(request, contract_id: Id, payload: ReasonIn):
    contract = queries.contract_get(request.user, contract_id)
    return services.contract_terminate(actor=request.user, contract=contract, reason=payload.reason)


@router.post("/contracts/{contract_id}/renew", response={201: ContractOut, **ERRORS}, summary="Renew")
def contract_renew(request, contract_id: Id, payload: RenewIn):
    """A new active contract for the next period, linked by `previous`; this one becomes `renewed`."""
    contract = queries.contract_get(request.user, contract_id)
    return Status(201, services.contract_renew(actor=request.user, contract=contract, **payload.model_dump()))


# --- orders -------------------------------------------------------------------------------------
class OrderLineOut(Schema):
    id: int
    product: int = from_attr("product_id")
    product_code: str = from_attr("product.code")
    action: str
    subscription: int | None = from_attr("subscription_id")
    quantity: int
    contracted_price: Decimal
    discount_pct: Decimal


class OrderOut(Schema):
    id: int
    number: str
    customer: int = from_attr("customer_id")
    quote: int | None = from_attr("quote_id")
    contract: int | None = from_attr("contract_id")
    status: str
    failure_reason: str
    external_ref: str
    completed_at: datetime | None
    created_at: datetime


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(queries.order_lines(obj))


class OrderStateOut(OrderDetailOut):
    changed: bool = Field(..., description="False when the order already was in that state (nothing was done).")


class OrderFromIn(Schema):
    quote: int | None = Field(None, description="An approved quote; or give `contract`.")
    contract: int | None = Field(None, description="An active contract that came from a quote.")


class OrderStateIn(Schema):
    state: OrderStatus
    reason: str = Field("", description="Required when the state is `failed`.")
    external_ref: str = Field("", description="BOSS's reference for the order.")


class OrderFilter(Schema):
    status: OrderStatus | None = None
    customer: Id | None = None


@router.get("/orders", response={200: list[OrderOut], **ERRORS}, summary="List orders")
@paginate(Page)
def order_list(request, filters: Query[OrderFilter]):
    return queries.order_list(request.user, status=filters.status or "", customer_pk=filters.customer)


@router.get("/orders/export.csv", response={200: None, **ERRORS}, summary="Order lines as CSV for provisioning")
def order_export(request: HttpRequest, filters: Query[OrderFilter]):
    """The same file as the orders page's export (one row per line, no personal data); every export is logged."""
    return csv_response(request, api=True)


@router.post("/orders", response={201: OrderDetailOut, **ERRORS}, summary="Create an order from a quote or contract")
def order_create(request, payload: OrderFromIn):
    if (payload.quote is None) == (payload.contract is None):
        raise ValidationError({"__all__": [_("Give either a quote or a contract.")]})
    if payload.quote is not None:
        quote = referenced(
            queries.quote_list(request.user), payload.quote, "quote", _("There is no quote with this id.")
        )
        order = services.order_create_from_quote(actor=request.user, quote=quote)
    else:
        contract = referenced(
            queries.contract_list(request.user), payload.contract, "contract", _("There is no contract with this id.")
        )
        order = services.order_create_from_contract(actor=request.user, contract=contract)
    return Status(201, queries.order_get(request.user, order.pk))


@router.get("/orders/{order_id}", response={200: OrderDetailOut, **ERRORS}, summary="Get an order")
def order_get(request, order_id: Id):
    return queries.order_get(request.user, order_id)


@router.post(
    "/orders/{order_id}/state",
    response={200: OrderStateOut, 409: ErrorOut, **ERRORS},
    summary="Update an order's state (BOSS)",
    description=(
        "Idempotent: the same update twice changes nothing the second time (`changed: false`). "
        "A state the order cannot reach from where it is answers 409. Completing creates the subscriptions."
    ),
)
def order_state(request, order_id: Id, payload: OrderStateIn):
    order = queries.order_get(request.user, order_id)
    try:
        order, changed = services.order_set_state(
            actor=request.user,
            order=order,
            state=payload.state,
            reason=payload.reason,
            external_ref=payload.external_ref,
        )
    except services.InvalidTransition as exc:
        return Status(409, {"detail": exc.messages[0], "errors": validation_errors(exc)})
    order = queries.order_get(request.user, order_id)
    order.changed = changed
    return order
