"""Demo quotes, contracts and orders for a share of the active customers.

Streams the customers in id order and writes in chunks through `builder.writer` (COPY on PostgreSQL), with
ids assigned here so lines can point at their quote, contract and order without a query per row. About a
quarter of the contracts end within the next 90 days, so the daily job has expiry reminders to send.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from jiketong.catalog.models import Product
from jiketong.customers.models import Customer, LifecycleStatus

from .models import (
    ApprovalLevel,
    Contract,
    ContractAttachment,
    ContractStatus,
    Decision,
    LineAction,
    Order,
    OrderLine,
    OrderStateChange,
    OrderStatus,
    Quote,
    QuoteApproval,
    QuoteLine,
    QuoteStatus,
)

SHARE = 0.06  # of active and at-risk customers get a quote
CHUNK = 5000
# (discount %, the level the default policy needs for it)
DISCOUNTS = [
    (Decimal(0), ApprovalLevel.MANAGER),
    (Decimal(5), ApprovalLevel.CITY),
    (Decimal(8), ApprovalLevel.CITY),
    (Decimal(15), ApprovalLevel.PROVINCE),
    (Decimal(25), ApprovalLevel.PROVINCE),
    (Decimal(35), ApprovalLevel.HQ),
]
TITLES = ["年度通信服务", "专线扩容", "集团V网升级", "云服务方案"]
QUOTE_FIELDS = ["id", "number", "version", "customer", "title", "status", "note", "required_level",
                "max_discount_pct", "total_standard", "total", "submitted_at", "submitted_by", "created_at",
                "updated_at"]  # fmt: skip
LINE_FIELDS = ["quote", "product", "quantity", "standard_price", "offered_price", "discount_pct"]
APPROVAL_FIELDS = ["quote", "level", "decision", "automatic", "comment", "at"]
CONTRACT_FIELDS = ["id", "number", "title", "customer", "quote", "value", "start_on", "end_on", "signed_on",
                   "auto_renew", "renewal_terms", "status", "termination_reason", "owner", "created_at",
                   "updated_at"]  # fmt: skip
ORDER_FIELDS = ["id", "number", "customer", "quote", "contract", "status", "failure_reason", "external_ref",
                "created_at", "updated_at"]  # fmt: skip
ORDER_LINE_FIELDS = ["order", "product", "action", "quantity", "contracted_price", "discount_pct"]
HISTORY_FIELDS = ["order", "from_status", "to_status", "reason", "external_ref", "at"]
RESET_MODELS = [
    OrderLine.members.through,
    OrderStateChange,
    OrderLine,
    Order,
    ContractAttachment,
    Contract,
    QuoteApproval,
    QuoteLine,
    Quote,
]


class _Rows:
    def __init__(self):
        self.quotes, self.lines, self.approvals = [], [], []
        self.contracts, self.orders, self.order_lines, self.history = [], [], [], []

    def __len__(self) -> int:
        return len(self.quotes)


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def generate(builder) -> None:
    rng, today, now = builder.rng, builder.today, builder.now_db
    products = list(Product.objects.filter(is_active=True).order_by("code"))
    if not products:
        return
    ids = {model: _next_id(model) for model in (Quote, Contract, Order)}
    customers = (
        Customer.objects.filter(status__in=(LifecycleStatus.ACTIVE, LifecycleStatus.AT_RISK))
        .order_by("id")
        .values_list("id", "owner_id")
    )
    rows = _Rows()
    for customer_id, owner_id in customers.iterator(chunk_size=CHUNK):
        if rng.random() >= SHARE:
            continue
        quote_id = ids[Quote]
        ids[Quote] += 1
        discount, level = rng.choice(DISCOUNTS)
        status = rng.choices(
            [QuoteStatus.APPROVED, QuoteStatus.PENDING, QuoteStatus.DRAFT, QuoteStatus.REJECTED], weights=[6, 2, 1, 1]
        )[0]
        total_standard = total = Decimal(0)
        lines = rng.sample(products, k=min(len(products), rng.randint(1, 3)))
        for product in lines:
            quantity = rng.randint(1, 50) if product.billing_unit == "per_member" else 1
            offered = (product.standard_price * (100 - discount) / 100).quantize(Decimal("0.01"))
            rows.lines.append((quote_id, product.pk, quantity, product.standard_price, offered, discount))
            total_standard += product.standard_price * quantity
            total += offered * quantity
        submitted = None if status == QuoteStatus.DRAFT else now
        rows.quotes.append((
            quote_id, f"BJ{today:%Y}{quote_id:08d}", 1, customer_id, rng.choice(TITLES), status, "",
            "" if status == QuoteStatus.DRAFT else level, discount, total_standard, total, submitted,
            None if submitted is None else owner_id, now, now,
        ))  # fmt: skip
        if status in (QuoteStatus.APPROVED, QuoteStatus.REJECTED):
            decision = Decision.APPROVED if status == QuoteStatus.APPROVED else Decision.REJECTED
            automatic = level == ApprovalLevel.MANAGER and decision == Decision.APPROVED
            rows.approvals.append((quote_id, level, decision, automatic, "演示数据", now))
        if status == QuoteStatus.APPROVED and rng.random() < 0.7:
            _contract_and_order(rng, today, now, ids, rows, customer_id, owner_id, quote_id, total, lines, discount)
        if len(rows) >= CHUNK:
            _flush(builder, rows)
            rows = _Rows()
            builder.progress(f"deals: {ids[Quote] - 1:,} quotes")
    _flush(builder, rows)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Quote, Contract, Order]):
            cursor.execute(sql)
    _package_quotes(builder)


def _package_quotes(builder) -> None:
    """The `manager` login quotes solution packages through the services, as in the app: the first waits for
    the 广州 city supervisor (its package is 10% off the list prices), the second the supervisor has approved."""
    from django.contrib.auth import get_user_model

    from jiketong.catalog.models import SolutionPackage

    from . import services

    users = get_user_model().objects.filter(username__in=["manager", "supervisor"]).in_bulk(field_name="username")
    packages = list(SolutionPackage.objects.filter(is_active=True).order_by("code"))
    if "manager" not in users or not packages:
        return
    manager = users["manager"]
    customers = list(
        Customer.objects.filter(owner_id=manager.pk, status=LifecycleStatus.ACTIVE).order_by("-size", "id")[:2]
    )
    by_industry = {package.industry_id: package for package in packages}
    for n, customer in enumerate(customers):
        package = by_industry.get(customer.industry_id) or packages[n % len(packages)]
        quote = services.quote_create(actor=manager, customer=customer, title=f"{package.name}报价")
        services.quote_package_add(actor=manager, quote=quote, package=package)
        quote = services.quote_submit(actor=manager, quote=quote)
        if n == 1 and "supervisor" in users and services.can_approve(users["supervisor"], quote):
            services.quote_approve(actor=users["supervisor"], quote=quote, comment="套餐价符合本季度行业政策")
    builder.progress(f"deals: {len(customers)} package quotes")


def _contract_and_order(rng, today, now, ids, rows, customer_id, owner_id, quote_id, total, lines, discount):
    contract_id = ids[Contract]
    ids[Contract] += 1
    years = rng.randint(1, 3)
    if rng.random() < 0.25:
        end = today + timedelta(days=rng.randint(1, 90))  # reminders due soon
    else:
        end = today + timedelta(days=rng.randint(91, 365 * years))
    start = end - timedelta(days=365 * years - 1)
    status = ContractStatus.EXPIRING if (end - today).days <= 90 else ContractStatus.ACTIVE
    rows.contracts.append((
        contract_id, f"HT{today:%Y}{contract_id:08d}", "", customer_id, quote_id, total * 12 * years, start, end,
        start, rng.random() < 0.3, "到期前30天无异议自动续约一年" if rng.random() < 0.3 else "", status, "", owner_id,
        now, now,
    ))  # fmt: skip
    if rng.random() >= 0.6:
        return
    order_id = ids[Order]
    ids[Order] += 1
    order_status = rng.choices(
        [OrderStatus.COMPLETED, OrderStatus.PROVISIONING, OrderStatus.SUBMITTED, OrderStatus.FAILED],
        weights=[6, 2, 1, 1],
    )[0]
    reason = "资源不足，需现场勘查" if order_status == OrderStatus.FAILED else ""
    boss = f"BOSS{order_id:010d}" if order_status != OrderStatus.SUBMITTED else ""
    rows.orders.append((order_id, f"DD{today:%Y}{order_id:08d}", customer_id, quote_id, contract_id, order_status,
                        reason, boss, now, now))  # fmt: skip
    for product in lines:
        price = (product.standard_price * (100 - discount) / 100).quantize(Decimal("0.01"))
        rows.order_lines.append((order_id, product.pk, LineAction.NEW, 1, price, discount))
    rows.history.append((order_id, "", OrderStatus.DRAFT, "", "", now))
    rows.history.append((order_id, OrderStatus.DRAFT, order_status, reason, boss, now))


def _flush(builder, rows: _Rows) -> None:
    w = builder.writer
    with transaction.atomic():
        w.write(Quote, QUOTE_FIELDS, rows.quotes)
        w.write(QuoteLine, LINE_FIELDS, rows.lines)
        w.write(QuoteApproval, APPROVAL_FIELDS, rows.approvals)
        w.write(Contract, CONTRACT_FIELDS, rows.contracts)
        w.write(Order, ORDER_FIELDS, rows.orders)
        w.write(OrderLine, ORDER_LINE_FIELDS, rows.order_lines)
        w.write(OrderStateChange, HISTORY_FIELDS, rows.history)
