"""Every read of quotes, contracts and orders, scoped to the user. Views, the API and other apps call these."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Window
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiketong.org.models import can

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
    return quote.lines.select_related("product", "package").order_by("id")


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


WORKBENCH_APPROVALS = 5


def workbench_approvals(user) -> dict | None:
    """The approver's workbench card: how many quotes wait for this user's decision and the oldest few, in
    one query (the count is a window over the whole queue, taken before the LIMIT). None for someone who
    approves nothing, without a query."""
    from .apps import APPROVER_ROLES

    if not can(user, APPROVER_ROLES):
        return None
    quotes = list(approval_queue(user).annotate(waiting=Window(Count("pk")))[:WORKBENCH_APPROVALS])
    return {"count": quotes[0].waiting if quotes else 0, "quotes": quotes}


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


# --- the chain: lead → opportunity → quote → contract → order → subscriptions ---------------------------
# Here rather than in sales because the deals models point at the opportunity: this app knows every step.
CHAIN_LINKS = 5  # per step; a step with more says so
CHAIN_KINDS = ["lead", "opportunity", "quote", "contract", "order", "subscription"]
CHAIN_TITLES = {
    "lead": _("Lead"),
    "opportunity": _("Opportunity"),
    "quote": _("Quote"),
    "contract": _("Contract"),
    "order": _("Order"),
    "subscription": _("Subscriptions"),
}


@dataclass
class ChainLink:
    """One record of a step: its label and page, both empty when the reader may not see it."""

    label: str = ""
    url: str = ""
    current: bool = False


@dataclass
class ChainStep:
    kind: str
    links: list[ChainLink] = field(default_factory=list)
    more: bool = False  # there are more than CHAIN_LINKS

    @property
    def title(self) -> str:
        return str(CHAIN_TITLES[self.kind])


def _chain_models() -> dict[str, type[Model]]:
    from jiketong.catalog.models import Subscription
    from jiketong.sales.models import Lead, Opportunity

    return {"lead": Lead, "opportunity": Opportunity, "quote": Quote, "contract": Contract, "order": Order,
            "subscription": Subscription}  # fmt: skip


# What each step reads of its records: the label and the ids that lead to the next step up and down.
CHAIN_FIELDS = {
    "lead": ["pk", "name", "opportunity_id"],
    "opportunity": ["pk", "name", "lead_id"],
    "quote": ["pk", "number", "version", "opportunity_id"],
    "contract": ["pk", "number", "quote_id"],
    "order": ["pk", "number", "quote_id", "contract_id"],
    "subscription": ["pk", "product__name", "customer_id"],
}


def _chain_link(kind: str, row: dict, current: bool) -> ChainLink:
    if not row["visible"]:
        return ChainLink()
    label, url = {
        "lead": lambda: (row["name"], reverse("sales:lead_detail", args=[row["pk"]])),
        "opportunity": lambda: (row["name"], reverse("sales:opportunity_detail", args=[row["pk"]])),
        "quote": lambda: (f"{row['number']} v{row['version']}", reverse("deals:quote_detail", args=[row["pk"]])),
        "contract": lambda: (row["number"], reverse("deals:contract_detail", args=[row["pk"]])),
        "order": lambda: (row["number"], reverse("deals:order_detail", args=[row["pk"]])),
        "subscription": lambda: (
            row["product__name"],
            reverse("customers:detail", args=[row["customer_id"]]) + "#subscriptions-section",
        ),
    }[kind]()
    return ChainLink(label, url, current)


def _chain_filter(kind: str, start: str, rows: dict[str, list[dict]]) -> Q | None:
    """Which records of `kind` belong to the chain, read from the rows of the step next to it on the side of
    the record the chain is drawn for; None when none can (no query then)."""

    def ids(step: str, name: str) -> set[int]:
        return {row[name] for row in rows[step] if row[name]}

    upstream = CHAIN_KINDS.index(kind) < CHAIN_KINDS.index(start)  # where the record came from
    if kind == "lead":
        opportunities = ids("opportunity", "pk")
        return Q(pk__in=ids("opportunity", "lead_id")) | Q(opportunity_id__in=opportunities) if opportunities else None
    if kind == "opportunity":
        wanted = ids("quote", "opportunity_id") if upstream else ids("lead", "opportunity_id")
        return Q(pk__in=wanted) if wanted else None
    if kind == "quote" and upstream:
        wanted = ids("contract", "quote_id") | ids("order", "quote_id")
        return Q(pk__in=wanted) if wanted else None
    if kind == "quote":
        opportunities = ids("opportunity", "pk")
        return Q(opportunity_id__in=opportunities) & ~Q(status=QuoteStatus.SUPERSEDED) if opportunities else None
    if kind == "contract" and upstream:
        wanted = ids("order", "contract_id")
        return Q(pk__in=wanted) if wanted else None
    if kind == "contract":
        quotes = ids("quote", "pk")
        return Q(quote_id__in=quotes) if quotes else None
    if kind == "order":
        quotes, contracts = ids("quote", "pk"), ids("contract", "pk")
        if start == "contract":  # this contract's orders, not those of other contracts from the same quote
            return Q(contract_id__in=contracts)
        return Q(quote_id__in=quotes) | Q(contract_id__in=contracts) if quotes or contracts else None
    orders = ids("order", "pk")
    return Q(pk__in=OrderLine.objects.filter(order_id__in=orders).values("subscription_id")) if orders else None


def record_chain(user, record) -> list[ChainStep]:
    """The chain a lead, opportunity, quote, contract or order belongs to: where it came from (up to the
    lead) and what came of it (down to the subscriptions), one step per kind that exists. A record the
    reader may not see shows only its kind. One query per step at most (five), whatever the chain's size;
    a step shows its first CHAIN_LINKS records."""
    models = _chain_models()
    start = next(kind for kind, model in models.items() if isinstance(record, model))
    origin = CHAIN_KINDS.index(start)
    rows: dict[str, list[dict]] = {kind: [] for kind in CHAIN_KINDS}
    rows[start] = [{name: getattr(record, name, None) for name in CHAIN_FIELDS[start]} | {"visible": True}]
    more: dict[str, bool] = {}
    # Outwards from the record: up towards the lead, then down towards the subscriptions.
    order = list(reversed(CHAIN_KINDS[:origin])) + CHAIN_KINDS[origin + 1 :]
    for kind in order:
        found = _chain_filter(kind, start, rows)
        if found is None:
            continue
        model = models[kind]
        visible = Exists(model.objects.visible_to(user).filter(pk=OuterRef("pk")))
        fetched = list(
            model.objects.filter(found)
            .annotate(visible=visible)
            .order_by("pk")
            .values(*CHAIN_FIELDS[kind], "visible")[: CHAIN_LINKS + 1]
        )
        rows[kind], more[kind] = fetched[:CHAIN_LINKS], len(fetched) > CHAIN_LINKS
    return [
        ChainStep(kind, [_chain_link(kind, row, kind == start) for row in rows[kind]], more.get(kind, False))
        for kind in CHAIN_KINDS
        if rows[kind]
    ]
