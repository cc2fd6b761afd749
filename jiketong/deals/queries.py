"""Every read of quotes, contracts and orders, scoped to the user. Views, the API and other apps call these."""

from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import (
    IN_FORCE,
    LEVEL_RANK,
    Contract,
    ContractAttachment,
    ContractStatus,
    Order,
    OrderLine,
    OrderStatus,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from .services import authority_of

OPEN_QUOTES = (QuoteStatus.DRAFT, QuoteStatus.PENDING, QuoteStatus.APPROVED)
OPEN_ORDERS = (OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.PROVISIONING, OrderStatus.FAILED)


# --- quotes -------------------------------------------------------------------------------------
def quote_list(user, *, status: str = "", customer_pk: int | None = None) -> QuerySet[Quote]:
    quotes = Quote.objects.visible_to(user).select_related("customer", "submitted_by").order_by("-created_at", "-id")
    if status:
        quotes = quotes.filter(status=status)
    if customer_pk:
        quotes = quotes.filter(customer_id=customer_pk)
    return quotes


def quote_get(user, pk: int) -> Quote:
    """One quote the user may see, or 404 (the same answer as one that does not exist)."""
    return get_object_or_404(
        Quote.objects.visible_to(user).select_related(
            "customer__org_unit", "customer__owner", "opportunity", "submitted_by", "created_by", "previous"
        ),
        pk=pk,
    )


def quote_line_get(user, pk: int) -> QuoteLine:
    return get_object_or_404(QuoteLine.objects.visible_to(user).select_related("quote__customer", "product"), pk=pk)


def quote_lines(quote: Quote):
    return quote.lines.select_related("product").order_by("id")


def quote_approvals(quote: Quote):
    return quote.approvals.select_related("approver").order_by("at", "id")


def quote_versions(quote: Quote) -> QuerySet[Quote]:
    """Every version of the offer (same number), newest first; scope is the quote's own customer."""
    return Quote.objects.filter(number=quote.number, customer_id=quote.customer_id).order_by("-version")


def approval_queue(user) -> QuerySet[Quote]:
    """Quotes waiting for a decision this user may take: pending, at a level within the user's authority,
    for customers in the user's scope (a supervisor's subtree, i.e. their unit is an ancestor-or-self of
    the customer's), and not submitted by the user."""
    rank = LEVEL_RANK[authority_of(user)]
    levels = [level for level, level_rank in LEVEL_RANK.items() if level_rank <= rank and level_rank > 0]
    return (
        Quote.objects.visible_to(user)
        .filter(status=QuoteStatus.PENDING, required_level__in=levels)
        .exclude(Q(submitted_by=user) | Q(created_by=user))
        .select_related("customer", "submitted_by")
        .order_by("submitted_at", "id")
    )


# --- contracts ----------------------------------------------------------------------------------
def contract_list(user, *, status: str = "", expiring_within: int | None = None, customer_pk: int | None = None):
    contracts = Contract.objects.visible_to(user).select_related("customer", "owner").order_by("end_on", "id")
    if status:
        contracts = contracts.filter(status=status)
    if expiring_within is not None:
        today = timezone.localdate()
        contracts = contracts.filter(
            status__in=IN_FORCE, end_on__range=(today, today + timedelta(days=expiring_within))
        )
    if customer_pk:
        contracts = contracts.filter(customer_id=customer_pk)
    return contracts


def contract_get(user, pk: int) -> Contract:
    return get_object_or_404(
        Contract.objects.visible_to(user).select_related("customer", "owner", "quote", "previous", "renewal"),
        pk=pk,
    )


def contracts_expiring(user, start: date, end: date) -> QuerySet[Contract]:
    """Contracts in force that end between `start` and `end` (inclusive), soonest first: managers'
    agendas and the expiry list read this."""
    return (
        Contract.objects.visible_to(user)
        .filter(status__in=IN_FORCE, end_on__range=(start, end))
        .select_related("customer", "owner")
        .order_by("end_on", "id")
    )


def attachment_get(user, pk: int) -> ContractAttachment:
    return get_object_or_404(ContractAttachment.objects.visible_to(user).select_related("contract"), pk=pk)


# --- orders -------------------------------------------------------------------------------------
def order_list(user, *, status: str = "", customer_pk: int | None = None) -> QuerySet[Order]:
    orders = (
        Order.objects.visible_to(user).select_related("customer", "quote", "contract").order_by("-created_at", "-id")
    )
    if status:
        orders = orders.filter(status=status)
    if customer_pk:
        orders = orders.filter(customer_id=customer_pk)
    return orders


def order_get(user, pk: int) -> Order:
    return get_object_or_404(
        Order.objects.visible_to(user).select_related("customer", "quote", "contract", "created_by"), pk=pk
    )


def order_lines(order: Order):
    return order.lines.select_related("product").order_by("id")


def order_history(order: Order):
    return order.history.select_related("by").order_by("at", "id")


def order_export_rows(user, *, status: str = ""):
    """One row per order line for provisioning, with order and customer; no personal data."""
    lines = OrderLine.objects.visible_to(user).select_related("order__customer", "product").order_by("order_id", "id")
    if status:
        lines = lines.filter(order__status=status)
    return lines


# --- the customer 360 panel ---------------------------------------------------------------------
def customer_deals(user, customer_pk: int, limit: int = 10) -> dict:
    """Open quotes, contracts in force or draft, and open orders of one customer: three queries."""
    return {
        "quotes": list(quote_list(user, customer_pk=customer_pk).filter(status__in=OPEN_QUOTES)[:limit]),
        "contracts": list(
            contract_list(user, customer_pk=customer_pk).filter(status__in=(ContractStatus.DRAFT, *IN_FORCE))[:limit]
        ),
        "orders": list(order_list(user, customer_pk=customer_pk).filter(status__in=OPEN_ORDERS)[:limit]),
    }
