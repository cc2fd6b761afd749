"""Every write to quotes, contracts and orders: rules, transactions and audit in one place.

UI, API and the daily job all come through here. Each service takes the acting user (None for the
scheduled job), checks role and scope, writes in one transaction and audits in that same transaction.
Rule violations are ValidationErrors keyed by field so forms and the API show them next to the field.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.catalog.models import Product, ProductCategory, SolutionPackage, Subscription, SubscriptionStatus
from jiketong.catalog.services import package_split, price_and_discount, subscription_create, subscription_update
from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.concurrency import check_version
from jiketong.core.events import emit, emit_many
from jiketong.core.models import AuditAction
from jiketong.core.money import yuan
from jiketong.core.notes import stored
from jiketong.core.notify import notify
from jiketong.core.validators import fact_date_errors, full_clean_with
from jiketong.customers.models import Customer
from jiketong.customers.services import require_edit, require_scope
from jiketong.org.models import OrgLevel, OrgUnit, Role, Staff, can, staff_of
from jiketong.org.queries import nearest_supervisors

from .models import (
    IN_FORCE,
    LEVEL_RANK,
    ApprovalLevel,
    Contract,
    ContractAttachment,
    ContractStatus,
    Decision,
    DiscountPolicy,
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

QUOTE_FIELDS = ["title", "valid_until", "note", "opportunity"]
CONTRACT_FIELDS = [
    "number",
    "title",
    "quote",
    "value",
    "start_on",
    "end_on",
    "signed_on",
    "auto_renew",
    "renewal_terms",
    "status",
    "owner",
    "previous",
]
# What a draft contract's edit page and PATCH may change.
CONTRACT_EDIT_FIELDS = ["number", "title", "value", "start_on", "end_on", "signed_on", "auto_renew", "renewal_terms"]
# The org level at which a supervisor's authority sits.
UNIT_AUTHORITY = {
    OrgLevel.CITY: ApprovalLevel.CITY,
    OrgLevel.PROVINCE: ApprovalLevel.PROVINCE,
    OrgLevel.HQ: ApprovalLevel.HQ,
}


# --- approval authority -------------------------------------------------------------------------
def policies() -> dict[str, DiscountPolicy]:
    """Category → policy; the key "" holds the default (seeded by the migration, re-created if deleted)."""
    rows = {policy.category: policy for policy in DiscountPolicy.objects.all()}
    rows.setdefault("", DiscountPolicy(category=""))
    return rows


POLICY_FIELDS = ["category", "manager_max", "city_max", "province_max"]


@transaction.atomic
def discount_policy_save(*, actor, category: str, manager_max, city_max, province_max) -> DiscountPolicy:
    """Set how deep each level may grant for a product category ("" = the default): an administrator, or
    HQ's discount rule applied as the federation account (federation.services.directive_apply). Every error
    at once (full_clean: the levels ordered); audited with what changed, a save that changes nothing leaves
    no event, so applying the same rule twice is harmless."""
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only a system administrator can change the discount approval policy."))
    policy = DiscountPolicy.objects.select_for_update().filter(category=category).first()
    policy = policy or DiscountPolicy(category=category)
    before = snapshot(policy, POLICY_FIELDS) if policy.pk else {}
    policy.manager_max, policy.city_max, policy.province_max = manager_max, city_max, province_max
    policy.full_clean(validate_unique=not policy.pk)
    policy.save()
    policy.refresh_from_db()
    record_changes(actor=actor, target=policy, customer_id=None, before=before, after=snapshot(policy, POLICY_FIELDS))
    return policy


def authority_of(user) -> str:
    """The deepest level this user may grant or approve: a supervisor by the level of their org unit,
    an admin (or superuser) as HQ, anyone else as a customer manager."""
    if user.is_superuser or can(user, {Role.ADMIN}):
        return ApprovalLevel.HQ
    staff = staff_of(user)
    if staff is None or not staff.has_any_role({Role.SUPERVISOR}):
        return ApprovalLevel.MANAGER
    return UNIT_AUTHORITY.get(staff.org_unit.level, ApprovalLevel.MANAGER)


def _covers(user, customer: Customer) -> bool:
    """A supervisor's authority reaches the customers of their own org subtree (admins: everyone)."""
    if user.is_superuser or can(user, {Role.ADMIN}):
        return True
    staff = staff_of(user)
    return bool(staff) and customer.org_unit.path.startswith(staff.org_unit.path)


def can_approve(user, quote: Quote) -> bool:
    """Another person (never the submitter) whose level is at least the one required and whose org unit
    is an ancestor-or-self of the customer's."""
    return (
        quote.status == QuoteStatus.PENDING
        and user.pk not in (quote.submitted_by_id, quote.created_by_id)
        and can(user, {Role.SUPERVISOR, Role.ADMIN})
        and LEVEL_RANK[authority_of(user)] >= LEVEL_RANK[quote.required_level]
        and _covers(user, quote.customer)
    )


def approvers_for(quote: Quote) -> list[int]:
    """Who is told a quote waits: the active supervisors above the customer at the lowest level that may
    approve it (the next level up when that level has nobody)."""
    path = quote.customer.org_unit.path
    ancestors = [path[:i] for i in range(OrgUnit.steplen, len(path) + 1, OrgUnit.steplen)]
    supervisors = (
        Staff.objects.active()
        .filter(org_unit__path__in=ancestors, roles__code=Role.SUPERVISOR)
        .exclude(user_id=quote.submitted_by_id)
        .values_list("user_id", "org_unit__level")
    )
    by_rank: dict[int, list[int]] = {}
    for user_id, level in supervisors:
        authority = UNIT_AUTHORITY.get(level)
        if authority is not None:
            by_rank.setdefault(LEVEL_RANK[authority], []).append(user_id)
    for rank in sorted(by_rank):
        if rank >= LEVEL_RANK[quote.required_level]:
            return by_rank[rank]
    return []


# --- quotes -------------------------------------------------------------------------------------
def _require_draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise ValidationError(
            {
                "__all__": [
                    _("This quote is %(status)s and can no longer be changed: make a new version.")
                    % {"status": quote.get_status_display()}
                ]
            }
        )


def _locked_quote(quote: Quote) -> Quote:
    return Quote.objects.select_for_update().select_related("customer__org_unit").get(pk=quote.pk)


def _next_number(prefix: str, pk: int) -> str:
    return f"{prefix}{timezone.localdate():%Y}{pk:08d}"


def _recompute(quote: Quote) -> None:
    """Totals and the deepest discount from the lines (one aggregate-free pass over a few rows)."""
    lines = list(quote.lines.all())
    quote.total_standard = yuan(sum((line.standard_amount for line in lines), Decimal(0)))
    quote.total = yuan(sum((line.amount for line in lines), Decimal(0)))
    quote.max_discount_pct = max((line.discount_pct for line in lines), default=Decimal(0))
    quote.save(update_fields=["total_standard", "total", "max_discount_pct", "updated_at"])


@transaction.atomic
def quote_create(
    *, actor, customer: Customer, opportunity=None, title: str = "", valid_until=None, note: str = ""
) -> Quote:
    """Open a draft quote (version 1) for a customer the actor may see."""
    require_edit(actor)
    require_scope(actor, customer.pk)
    if opportunity is not None and opportunity.customer_id != customer.pk:
        raise ValidationError({"opportunity": [_("The opportunity belongs to another customer.")]})
    quote = Quote.objects.create(
        number="",
        customer=customer,
        opportunity=opportunity,
        title=title,
        valid_until=valid_until,
        note=note,
        created_by=actor,
    )
    quote.number = _next_number("BJ", quote.pk)
    quote.save(update_fields=["number"])
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=quote,
        customer_id=customer.pk,
        after=snapshot(quote, QUOTE_FIELDS) | {"number": quote.number},
    )
    return quote


@transaction.atomic
def quote_update(*, actor, quote: Quote, expected_version: int | None = None, **fields) -> Quote:
    """Change a draft quote's title, validity, note or opportunity. With `expected_version`, a quote changed
    since the caller read it (its lines included) is refused (core.concurrency.StaleEdit)."""
    require_edit(actor)
    require_scope(actor, quote.customer_id)
    quote = _locked_quote(quote)
    check_version(quote, expected_version)
    _require_draft(quote)
    unknown = set(fields) - set(QUOTE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in unknown})
    before = snapshot(quote, QUOTE_FIELDS)
    for name, value in fields.items():
        setattr(quote, name, value)
    quote.save()
    record_changes(
        actor=actor, target=quote, customer_id=quote.customer_id, before=before, after=snapshot(quote, QUOTE_FIELDS)
    )
    return quote


def _line_prices(product: Product, offered_price, discount_pct) -> tuple[Decimal, Decimal]:
    """Offered price and discount, either one derived from the other and the standard price."""
    try:
        return price_and_discount(product, offered_price, discount_pct)
    except ValidationError as exc:
        # The catalog names its fields for subscriptions; a quote line calls the price "offered".
        renamed = {("offered_price" if k == "contracted_price" else k): v for k, v in exc.message_dict.items()}
        raise ValidationError(renamed) from exc


@transaction.atomic
def quote_line_save(
    *,
    actor,
    quote: Quote,
    product: Product,
    quantity: int = 1,
    offered_price=None,
    discount_pct=None,
    line: QuoteLine | None = None,
) -> QuoteLine:
    """Add a line to a draft quote, or change one; the standard price is the catalog's today."""
    require_edit(actor)
    require_scope(actor, quote.customer_id)
    quote = _locked_quote(quote)
    _require_draft(quote)
    if line is not None and line.quote_id != quote.pk:
        raise ValidationError({"__all__": [_("This line belongs to another quote.")]})
    if line is not None and line.package_id:
        _refuse_package_line()
    if line is None and not product.is_active:
        raise ValidationError({"product": [_("This product is no longer on sale.")]})
    price, discount = _line_prices(product, offered_price, discount_pct)
    line = line or QuoteLine(quote=quote)
    line.product, line.quantity = product, quantity
    line.standard_price, line.offered_price, line.discount_pct = product.standard_price, price, discount
    line.full_clean(exclude=["quote"])
    line.save()
    _recompute(quote)
    return line


@transaction.atomic
def quote_line_delete(*, actor, line: QuoteLine) -> None:
    require_edit(actor)
    require_scope(actor, line.quote.customer_id)
    quote = _locked_quote(line.quote)
    _require_draft(quote)
    if line.package_id:
        _refuse_package_line()
    line.delete()
    _recompute(quote)


def _refuse_package_line() -> None:
    raise ValidationError(
        {"__all__": [_("This line comes from a solution package at the package price: remove the package instead.")]}
    )


@transaction.atomic
def quote_package_add(*, actor, quote: Quote, package: SolutionPackage) -> list[QuoteLine]:
    """Put a solution package on a draft quote: one line per product of the package, at today's list prices,
    the package price spread over them (catalog.services.package_split, exact to the cent). The lines are
    approved as one: `required_level` compares their sum with the package price (decision 0206)."""
    require_edit(actor)
    require_scope(actor, quote.customer_id)
    quote = _locked_quote(quote)
    _require_draft(quote)
    if not package.is_active:
        raise ValidationError({"package": [_("This package is no longer on sale.")]})
    if quote.lines.filter(package=package).exists():
        raise ValidationError({"package": [_("This package is already on the quote.")]})
    split = package_split(package)
    off_sale = [product.name for product, _quantity, _unit in split if not product.is_active]
    if off_sale:
        raise ValidationError(
            {"package": [_("Products of this package are off sale: %(names)s.") % {"names": "、".join(off_sale)}]}
        )
    lines = []
    for product, quantity, unit in split:
        price, discount = _line_prices(product, unit, None)
        line = QuoteLine(
            quote=quote,
            product=product,
            quantity=quantity,
            standard_price=product.standard_price,
            offered_price=price,
            discount_pct=discount,
            package=package,
        )
        line.full_clean(exclude=["quote", "product", "package"])
        lines.append(line)
    QuoteLine.objects.bulk_create(lines)
    _recompute(quote)
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=quote,
        customer_id=quote.customer_id,
        after={"package": package.code, "package_price": str(package.price), "lines": len(lines)},
        note=stored(gettext_noop("solution package %(code)s added"), code=package.code),
    )
    return lines


@transaction.atomic
def quote_package_remove(*, actor, quote: Quote, package: SolutionPackage) -> None:
    """Take a package's lines off a draft quote (all of them: the package price holds only together)."""
    require_edit(actor)
    require_scope(actor, quote.customer_id)
    quote = _locked_quote(quote)
    _require_draft(quote)
    removed, _by_model = quote.lines.filter(package=package).delete()
    if not removed:
        raise ValidationError({"package": [_("This package is not on the quote.")]})
    _recompute(quote)
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=quote,
        customer_id=quote.customer_id,
        before={"package": package.code},
        note=stored(gettext_noop("solution package %(code)s removed"), code=package.code),
    )


def priced_items(quote: Quote) -> list[tuple[str, Decimal, Decimal]]:
    """What the approval rule prices, as (product category, standard, offered): each line on its own, and
    the lines of a solution package together (their list prices summed against the package price) as one
    item of the 行业解决方案 category (decision 0206)."""
    items: list[tuple[str, Decimal, Decimal]] = []
    packages: dict[int, list[Decimal]] = {}
    for line in quote.lines.select_related("product"):
        if line.package_id:
            sums = packages.setdefault(line.package_id, [Decimal(0), Decimal(0)])
            sums[0] += line.standard_amount
            sums[1] += line.amount
        else:
            items.append((line.product.category, line.standard_price, line.offered_price))
    items += [(ProductCategory.SOLUTION, standard, offered) for standard, offered in packages.values()]
    return items


def required_level(quote: Quote) -> str:
    """The highest level any priced item needs (`priced_items`): its exact discount (its prices, not the
    rounded percentage) against its category's policy. The one discount rule of every quote."""
    rules = policies()
    needed = ApprovalLevel.MANAGER
    for category, standard, offered in priced_items(quote):
        policy = rules.get(category, rules[""])
        level = policy.level_for_price(standard, offered)
        if LEVEL_RANK[level] > LEVEL_RANK[needed]:
            needed = level
    return needed


@transaction.atomic
def quote_submit(*, actor, quote: Quote) -> Quote:
    """Send a draft for approval. Within what the submitter may grant for this customer it is approved at
    once (audited as an automatic approval, `quote.decided` with no decider); otherwise it waits for the
    required level, and `quote.submitted` names that level's supervisors (deals.reactions tells them)."""
    require_edit(actor)
    require_scope(actor, quote.customer_id)
    quote = _locked_quote(quote)
    _require_draft(quote)
    if not quote.lines.exists():
        raise ValidationError({"__all__": [_("Add at least one product before submitting the quote.")]})
    quote.required_level = required_level(quote)
    quote.submitted_by, quote.submitted_at = actor, timezone.now()
    own = authority_of(actor) if _covers(actor, quote.customer) else ApprovalLevel.MANAGER
    automatic = LEVEL_RANK[quote.required_level] <= LEVEL_RANK[own]
    quote.status = QuoteStatus.APPROVED if automatic else QuoteStatus.PENDING
    quote.save()
    record(
        actor=actor,
        action=AuditAction.SUBMIT,
        target=quote,
        customer_id=quote.customer_id,
        after={
            "required_level": quote.required_level,
            "max_discount_pct": str(quote.max_discount_pct),
            "total": str(quote.total),
        },
    )
    emit(
        "quote.submitted",
        customer_id=quote.customer_id,
        actor=actor,
        quote=quote.pk,
        level=quote.required_level,
        approvers=[] if automatic else approvers_for(quote),
    )
    if automatic:
        approval = QuoteApproval.objects.create(
            quote=quote,
            level=quote.required_level,
            approver=None,
            decision=Decision.APPROVED,
            automatic=True,
            comment=_("Within the submitter's own discount authority."),
        )
        _emit_decided(actor, quote, approval)
        record(
            actor=actor,
            action=AuditAction.APPROVE,
            target=quote,
            customer_id=quote.customer_id,
            after={"status": quote.status, "level": quote.required_level},
            note=stored(gettext_noop("automatic")),
        )
    return quote


def _emit_decided(actor, quote: Quote, approval: QuoteApproval) -> None:
    emit(
        "quote.decided",
        customer_id=quote.customer_id,
        actor=actor,
        quote=quote.pk,
        decision=approval.decision,
        comment=approval.comment,
        submitted_by=quote.submitted_by_id,
        decided_by=approval.approver_id,
    )


def _decide(actor, quote: Quote, decision: str, comment: str) -> Quote:
    quote = _locked_quote(quote)
    if quote.status != QuoteStatus.PENDING:
        raise ValidationError({"__all__": [_("Only a quote waiting for approval can be approved or rejected.")]})
    if actor.pk in (quote.submitted_by_id, quote.created_by_id):
        raise PermissionDenied(_("Nobody approves their own quote."))
    if not can_approve(actor, quote):
        raise PermissionDenied(
            _("This quote needs approval by %(level)s or above for the customer's region.")
            % {"level": quote.get_required_level_display()}
        )
    quote.status = QuoteStatus.APPROVED if decision == Decision.APPROVED else QuoteStatus.REJECTED
    quote.save(update_fields=["status", "updated_at"])
    approval = QuoteApproval.objects.create(
        quote=quote, level=authority_of(actor), approver=actor, decision=decision, comment=comment
    )
    action = AuditAction.APPROVE if decision == Decision.APPROVED else AuditAction.REJECT
    record(
        actor=actor,
        action=action,
        target=quote,
        customer_id=quote.customer_id,
        before={"status": QuoteStatus.PENDING},
        after={"status": quote.status},
        note=comment,
    )
    _emit_decided(actor, quote, approval)
    return quote


@transaction.atomic
def quote_approve(*, actor, quote: Quote, comment: str = "") -> Quote:
    require_scope(actor, quote.customer_id)
    return _decide(actor, quote, Decision.APPROVED, comment.strip())


@transaction.atomic
def quote_reject(*, actor, quote: Quote, comment: str) -> Quote:
    require_scope(actor, quote.customer_id)
    if not (comment or "").strip():
        raise ValidationError({"comment": [_("Say why the quote is rejected.")]})
    return _decide(actor, quote, Decision.REJECTED, comment.strip())


@transaction.atomic
def quote_new_version(*, actor, quote: Quote) -> Quote:
    """The only way to change a submitted quote: copy it into a new draft version that points at it; the
    old version is superseded (its approval no longer counts)."""
    require_edit(actor)
    require_scope(actor, quote.customer_id)
    quote = _locked_quote(quote)
    if quote.status in (QuoteStatus.DRAFT, QuoteStatus.SUPERSEDED):
        raise ValidationError({"__all__": [_("Only the latest submitted version of a quote gets a new version.")]})
    lines = list(quote.lines.all())
    old_status = quote.status
    quote.status = QuoteStatus.SUPERSEDED
    quote.save(update_fields=["status", "updated_at"])
    new = Quote.objects.create(
        number=quote.number,
        version=quote.version + 1,
        previous=quote,
        customer_id=quote.customer_id,
        opportunity_id=quote.opportunity_id,
        title=quote.title,
        valid_until=quote.valid_until,
        note=quote.note,
        created_by=actor,
        total_standard=quote.total_standard,
        total=quote.total,
        max_discount_pct=quote.max_discount_pct,
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=new,
            product_id=line.product_id,
            quantity=line.quantity,
            standard_price=line.standard_price,
            offered_price=line.offered_price,
            discount_pct=line.discount_pct,
            package_id=line.package_id,
        )
        for line in lines
    )
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=quote,
        customer_id=quote.customer_id,
        before={"status": old_status},
        after={"status": quote.status, "new_version": new.pk},
    )
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=new,
        customer_id=new.customer_id,
        after={"number": new.number, "version": new.version, "previous": quote.pk},
    )
    return new


# --- contracts ----------------------------------------------------------------------------------
def reminder_days() -> list[int]:
    """Days before the end date at which owners and supervisors are reminded, widest first
    (setting `CONTRACT_REMINDER_DAYS`, default 90/60/30: DOMAIN §6 says remind early)."""
    return sorted(getattr(settings, "CONTRACT_REMINDER_DAYS", (90, 60, 30)), reverse=True)


def months_between(start_on: date, end_on: date) -> int:
    """Whole months a period covers, at least one (2026-01-01 … 2026-12-31 is 12)."""
    return max(1, round(((end_on - start_on).days + 1) / 30.4375))


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, on the month's last day when it has fewer days."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _save_contract(contract: Contract, errors: dict[str, list[str]] | None = None) -> Contract:
    full_clean_with(contract, errors)
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError as exc:
        raise ValidationError({"number": [_("A contract with this number already exists.")]}) from exc
    return contract


def _audit_contract(actor, contract: Contract, action=AuditAction.CREATE, before=None, note: str = "") -> None:
    record(
        actor=actor,
        action=action,
        target=contract,
        customer_id=contract.customer_id,
        before=before,
        after=snapshot(contract, CONTRACT_FIELDS) if action == AuditAction.CREATE else {"status": contract.status},
        note=note,
    )


@transaction.atomic
def contract_create(
    *,
    actor,
    customer: Customer,
    start_on: date,
    end_on: date,
    value=None,
    quote: Quote | None = None,
    number: str = "",
    owner: Staff | None = None,
    **fields,
) -> Contract:
    """A draft contract, from an approved quote (value defaults to its monthly total over the period) or
    entered by hand (value required). The responsible manager defaults to the customer's owner."""
    require_edit(actor)
    require_scope(actor, customer.pk)
    if quote is not None:
        quote = _locked_quote(quote)
        if quote.customer_id != customer.pk:
            raise ValidationError({"quote": [_("The quote belongs to another customer.")]})
        if quote.status != QuoteStatus.APPROVED:
            raise ValidationError({"quote": [_("Only an approved quote can become a contract.")]})
        if value is None and start_on and end_on and end_on >= start_on:
            value = yuan(quote.total * months_between(start_on, end_on))
    # Reported with the model's own errors, so a form shows them all in one round.
    errors = fact_date_errors({"signed_on": fields.get("signed_on")})
    if value is None:
        errors["value"] = [_("Enter the contract value.")]
    generated = not number.strip()
    contract = Contract(
        # A generated number comes from the id, known only after the insert: hold a unique placeholder.
        number=f"tmp-{uuid4().hex[:24]}" if generated else number.strip(),
        customer=customer,
        quote=quote,
        value=value,
        start_on=start_on,
        end_on=end_on,
        owner=owner or customer.owner,
        **fields,
    )
    _save_contract(contract, errors)
    if generated:
        contract.number = _next_number("HT", contract.pk)
        contract.save(update_fields=["number"])
    _audit_contract(actor, contract)
    return contract


def _locked_contract(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().select_related("customer").get(pk=contract.pk)


@transaction.atomic
def contract_update(*, actor, contract: Contract, expected_version: int | None = None, **fields) -> Contract:
    """Change a draft contract's terms (CONTRACT_EDIT_FIELDS); an empty number keeps the current one. A contract
    in force changes only by renewal or termination. With `expected_version`, a contract changed since the
    caller read it is refused (core.concurrency.StaleEdit)."""
    require_edit(actor)
    require_scope(actor, contract.customer_id)
    contract = _locked_contract(contract)
    check_version(contract, expected_version)
    unknown = set(fields) - set(CONTRACT_EDIT_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    if contract.status != ContractStatus.DRAFT:
        raise ValidationError(_("Only a draft contract can be changed: renew or terminate a contract in force."))
    if "value" in fields and fields["value"] is None:
        raise ValidationError({"value": [_("Enter the contract value.")]})
    if "number" in fields:
        fields["number"] = (fields["number"] or "").strip() or contract.number
    before = snapshot(contract, CONTRACT_FIELDS)
    for name, value in fields.items():
        setattr(contract, name, value)
    _save_contract(contract)
    after = snapshot(contract, CONTRACT_FIELDS)
    record_changes(actor=actor, target=contract, customer_id=contract.customer_id, before=before, after=after)
    return contract


def _status_event(contract: Contract, from_status: str) -> tuple[int, dict]:
    """`contract.status_changed` as (customer id, payload), for emit or the daily job's emit_many."""
    return contract.customer_id, {"contract": contract.pk, "from_status": from_status, "to_status": contract.status}


def _set_contract_status(
    actor, contract: Contract, status: str, note: str = "", *, events: list | None = None, **fields
) -> Contract:
    """Change the status with its audit and `contract.status_changed`; a batch passes `events` to collect the
    event for one emit_many instead."""
    before = {"status": contract.status}
    contract.status = status
    for name, value in fields.items():
        setattr(contract, name, value)
    contract.save(update_fields=["status", "updated_at", *fields])
    _audit_contract(actor, contract, AuditAction.STATUS, before=before, note=note)
    event = _status_event(contract, before["status"])
    if events is None:
        emit_many("contract.status_changed", [event], actor=actor)
    else:
        events.append(event)
    return contract


@transaction.atomic
def contract_activate(*, actor, contract: Contract, signed_on: date | None = None) -> Contract:
    require_edit(actor)
    require_scope(actor, contract.customer_id)
    contract = _locked_contract(contract)
    if contract.status != ContractStatus.DRAFT:
        raise ValidationError({"__all__": [_("Only a draft contract can be activated.")]})
    if errors := fact_date_errors({"signed_on": signed_on}):
        raise ValidationError(errors)
    return _set_contract_status(actor, contract, ContractStatus.ACTIVE, signed_on=signed_on or timezone.localdate())


@transaction.atomic
def contract_terminate(*, actor, contract: Contract, reason: str) -> Contract:
    require_edit(actor)
    require_scope(actor, contract.customer_id)
    contract = _locked_contract(contract)
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the contract is terminated.")]})
    if contract.status not in (ContractStatus.DRAFT, *IN_FORCE):
        raise ValidationError({"__all__": [_("This contract has already ended.")]})
    return _set_contract_status(
        actor, contract, ContractStatus.TERMINATED, note=reason.strip(), termination_reason=reason.strip()[:200]
    )


def _renew(actor, contract: Contract, start_on=None, end_on=None, value=None, number: str = "") -> Contract:
    if contract.status not in (*IN_FORCE, ContractStatus.EXPIRED):
        raise ValidationError({"__all__": [_("Only an active, expiring or expired contract can be renewed.")]})
    start_on = start_on or contract.end_on + timedelta(days=1)
    # As many calendar months as the old period: 2027-12-01 … 2028-11-30 renews to 2028-12-01 … 2029-11-30
    # (copying its 366 days would end it on 2029-12-01).
    end_on = end_on or add_months(start_on, months_between(contract.start_on, contract.end_on)) - timedelta(days=1)
    renewal = Contract(
        number=number.strip() or f"{contract.number}-R"[:30],
        title=contract.title,
        customer=contract.customer,
        quote=contract.quote,
        value=contract.value if value is None else value,
        start_on=start_on,
        end_on=end_on,
        signed_on=timezone.localdate(),
        auto_renew=contract.auto_renew,
        renewal_terms=contract.renewal_terms,
        owner_id=contract.owner_id,
        previous=contract,
        status=ContractStatus.ACTIVE,
    )
    if not number.strip():
        # The chain's numbers: HT…, HT…-R2, HT…-R3 (the root number plus the period's ordinal).
        root, _sep, ordinal = contract.number.partition("-R")
        renewal.number = f"{root}-R{int(ordinal) + 1 if ordinal.isdigit() else 2}"
    _save_contract(renewal)
    _set_contract_status(actor, contract, ContractStatus.RENEWED, note=renewal.number)
    _audit_contract(actor, renewal)
    emit_many("contract.status_changed", [_status_event(renewal, "")], actor=actor)  # the new period is in force
    return renewal


@transaction.atomic
def contract_renew(*, actor, contract: Contract, start_on=None, end_on=None, value=None, number: str = "") -> Contract:
    """Renew for a new period: a new active contract linked to this one (defaults: the next day, as many
    calendar months as this one, the same value), and this one becomes renewed, in one transaction."""
    require_edit(actor)
    require_scope(actor, contract.customer_id)
    return _renew(actor, _locked_contract(contract), start_on, end_on, value, number)


# Attachments: what a signed contract comes as, recognised by name AND by content.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc/.xls (Office 97–2003)
ZIP = b"PK\x03\x04"  # .docx/.xlsx (Office Open XML)
SIGNATURES = {
    ".pdf": [b"%PDF-"],
    ".doc": [OLE2],
    ".xls": [OLE2],
    ".docx": [ZIP],
    ".xlsx": [ZIP],
    ".jpg": [b"\xff\xd8\xff"],
    ".jpeg": [b"\xff\xd8\xff"],
    ".png": [b"\x89PNG\r\n\x1a\n"],
}


def check_attachment(upload) -> None:
    """Size, extension and magic bytes: a renamed .exe is refused even when it is called .pdf."""
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in SIGNATURES:
        raise ValidationError({"file": [_("Only PDF, Word, Excel, JPG or PNG files can be attached.")]})
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {"file": [_("The file is larger than %(mb)s MB.") % {"mb": MAX_ATTACHMENT_BYTES // 2**20}]}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in SIGNATURES[suffix]):
        raise ValidationError(
            {"file": [_("The file's content is not a %(type)s file.") % {"type": suffix[1:].upper()}]}
        )


@transaction.atomic
def attachment_add(*, actor, contract: Contract, upload) -> ContractAttachment:
    require_edit(actor)
    require_scope(actor, contract.customer_id)
    check_attachment(upload)
    attachment = ContractAttachment(
        contract=contract, name=Path(upload.name).name[:200], size=upload.size, uploaded_by=actor
    )
    attachment.file.save(Path(upload.name).name, upload, save=False)
    attachment.save()
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=contract,
        customer_id=contract.customer_id,
        after={"attachment": attachment.pk, "size": attachment.size},
    )
    return attachment


def _supervisors_above(org_unit: OrgUnit) -> list[int]:
    """The nearest active supervisors up the org tree from a unit (its own unit first)."""
    return nearest_supervisors(org_unit)


@dataclass
class DailyResult:
    expiring: int = 0
    expired: int = 0
    renewed: int = 0
    reminded: int = 0


def contracts_daily(today: date) -> DailyResult:
    """The contract clock, idempotent so the job may run twice or catch up after missed days:
    - active → expiring once the end date is within the widest reminder window;
    - past the end date: auto-renewing contracts renew (a new period, see decision 0203), others expire;
    - one reminder per window to the owner and the nearest supervisors: the tightest window the contract
      is in today, keyed per contract and window, so a missed day is caught up and nothing repeats."""
    result = DailyResult()
    windows = reminder_days()
    horizon = today + timedelta(days=windows[0])
    # Past the end date (batched per contract: each has its own transaction, a failure stops only that one).
    for contract in Contract.objects.filter(status__in=IN_FORCE, end_on__lt=today).select_related("customer"):
        with transaction.atomic():
            contract = _locked_contract(contract)
            if contract.status not in IN_FORCE:
                continue
            if contract.auto_renew:
                _renew(None, contract)
                result.renewed += 1
            else:
                _set_contract_status(None, contract, ContractStatus.EXPIRED)
                result.expired += 1
    with transaction.atomic():
        expiring: list[tuple[int, dict]] = []
        for contract in Contract.objects.select_for_update().filter(
            status=ContractStatus.ACTIVE, end_on__gte=today, end_on__lte=horizon
        ):
            _set_contract_status(None, contract, ContractStatus.EXPIRING, events=expiring)
            result.expiring += 1
        emit_many("contract.status_changed", expiring)
    due = (
        Contract.objects.filter(status__in=IN_FORCE, end_on__gte=today, end_on__lte=horizon)
        .select_related("customer__org_unit")
        .order_by("end_on", "id")
    )
    supervisors: dict[int, list[int]] = {}
    for contract in due.iterator(chunk_size=1000):
        days_left = (contract.end_on - today).days
        window = min(days for days in windows if days_left <= days)
        unit = contract.customer.org_unit
        if unit.pk not in supervisors:
            supervisors[unit.pk] = _supervisors_above(unit)
        result.reminded += notify(
            [contract.owner_id, *supervisors[unit.pk]],
            kind="contract_expiry",
            title=_("Contract %(number)s ends in %(days)s days") % {"number": contract.number, "days": days_left},
            body=_("%(customer)s: the contract ends on %(end)s.")
            % {"customer": contract.customer.name, "end": contract.end_on.isoformat()},
            url=reverse("deals:contract_detail", args=[contract.pk]),
            customer_id=contract.customer_id,
            key=f"contract-expiry:{contract.pk}:{window}",
        )
    return result


# --- orders -------------------------------------------------------------------------------------
# Which states an order may move to from each state. BOSS may report completion straight from submitted.
TRANSITIONS = {
    OrderStatus.DRAFT: {OrderStatus.SUBMITTED},
    OrderStatus.SUBMITTED: {OrderStatus.PROVISIONING, OrderStatus.COMPLETED, OrderStatus.FAILED},
    OrderStatus.PROVISIONING: {OrderStatus.COMPLETED, OrderStatus.FAILED},
    OrderStatus.FAILED: {OrderStatus.SUBMITTED},
    OrderStatus.COMPLETED: set(),
}


class InvalidTransition(ValidationError):
    """An order state change that the order's current state does not allow (the API answers 409)."""


def _new_order(actor, customer: Customer, *, quote=None, contract=None, lines) -> Order:
    order = Order.objects.create(number="", customer=customer, quote=quote, contract=contract, created_by=actor)
    order.number = _next_number("DD", order.pk)
    order.save(update_fields=["number"])
    subscribed = dict(
        Subscription.objects.filter(customer=customer, status=SubscriptionStatus.ACTIVE)
        .order_by("product_id", "-start_on")
        .values_list("product_id", "pk")
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product_id=line.product_id,
            quantity=line.quantity,
            contracted_price=line.offered_price,
            discount_pct=line.discount_pct,
            action=LineAction.CHANGE if line.product_id in subscribed else LineAction.NEW,
            subscription_id=subscribed.get(line.product_id),
        )
        for line in lines
    )
    OrderStateChange.objects.create(order=order, to_status=order.status, by=actor)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=order,
        customer_id=customer.pk,
        after={"number": order.number, "quote": getattr(quote, "pk", None), "contract": getattr(contract, "pk", None)},
    )
    return order


@transaction.atomic
def order_create_from_quote(*, actor, quote: Quote) -> Order:
    """An order with the approved quote's lines at the offered prices; a product the customer already
    subscribes to becomes a change of that subscription."""
    require_edit(actor)
    require_scope(actor, quote.customer_id)
    quote = _locked_quote(quote)  # its status as stored, not as the caller last saw it
    if quote.status != QuoteStatus.APPROVED:
        raise ValidationError({"quote": [_("Only an approved quote can become an order.")]})
    return _new_order(actor, quote.customer, quote=quote, lines=quote.lines.all())


@transaction.atomic
def order_create_from_contract(*, actor, contract: Contract) -> Order:
    require_edit(actor)
    require_scope(actor, contract.customer_id)
    contract = _locked_contract(contract)
    if contract.status not in IN_FORCE:
        raise ValidationError({"contract": [_("Only an active contract can become an order.")]})
    if contract.quote_id is None:
        raise ValidationError({"contract": [_("This contract has no quote, so there are no products to order.")]})
    return _new_order(
        actor, contract.customer, quote=contract.quote, contract=contract, lines=contract.quote.lines.all()
    )


def _complete(actor, order: Order) -> list[int]:
    """Each line becomes (or changes) a subscription through the catalog's services, so their rules and
    audit apply. Runs inside the state change's transaction: one failing line undoes them all. Answers the
    subscriptions' ids."""
    today = timezone.localdate()
    subscriptions = []
    for line in order.lines.select_related("product", "subscription").prefetch_related("members"):
        members = list(line.members.all())
        if line.action == LineAction.REMOVE_MEMBERS:
            continue  # the members came off when they left (catalog.reactions.member_left); BOSS confirms it
        if line.action == LineAction.CHANGE and line.subscription is not None:
            subscription_update(
                actor=actor,
                subscription=line.subscription,
                contracted_price=line.contracted_price,
                discount_pct=line.discount_pct,
                quantity=line.quantity,
            )
            if members:
                line.subscription.members.add(*members)
            subscriptions.append(line.subscription.pk)
        else:
            line.subscription = subscription_create(
                actor=actor,
                customer=order.customer,
                product=line.product,
                start_on=today,
                contracted_price=line.contracted_price,
                discount_pct=line.discount_pct,
                quantity=line.quantity,
                members=members,
            )
            line.save(update_fields=["subscription"])
            subscriptions.append(line.subscription.pk)
    return subscriptions


def _order_opportunity(order: Order) -> int | None:
    """The opportunity an order came from: through its quote, or its contract's quote."""
    quote_id = order.quote_id
    if quote_id is None and order.contract_id is not None:
        quote_id = Contract.objects.filter(pk=order.contract_id).values_list("quote_id", flat=True).first()
    if quote_id is None:
        return None
    return Quote.objects.filter(pk=quote_id).values_list("opportunity_id", flat=True).first()


@transaction.atomic
def order_set_state(*, actor, order: Order, state: str, reason: str = "", external_ref: str = "") -> tuple[Order, bool]:
    """Move an order to `state` (UI buttons and BOSS updates alike). Idempotent: asking for the state the
    order is already in changes nothing and answers (order, False). Failing needs a reason; completing
    creates the subscriptions in this same transaction."""
    require_edit(actor)
    require_scope(actor, order.customer_id)
    order = Order.objects.select_for_update().select_related("customer").get(pk=order.pk)
    if state not in OrderStatus.values:
        raise ValidationError({"state": [_("Unknown order state: %(state)s.") % {"state": state}]})
    external_ref = (external_ref or "").strip()
    if order.status == state and (not external_ref or external_ref == order.external_ref):
        return order, False
    if state not in TRANSITIONS[order.status]:
        raise InvalidTransition(
            {
                "state": [
                    _("An order that is %(current)s cannot become %(new)s.")
                    % {"current": order.get_status_display(), "new": OrderStatus(state).label}
                ]
            }
        )
    reason = (reason or "").strip()
    if state == OrderStatus.FAILED and not reason:
        raise ValidationError({"reason": [_("Say why the order failed.")]})
    before = {"status": order.status, "external_ref": order.external_ref}
    order.status = state
    order.external_ref = external_ref or order.external_ref
    order.failure_reason = reason[:200] if state == OrderStatus.FAILED else ""
    subscriptions: list[int] = []
    if state == OrderStatus.COMPLETED:
        order.completed_at = timezone.now()
        subscriptions = _complete(actor, order)
    order.save(update_fields=["status", "external_ref", "failure_reason", "completed_at", "updated_at"])
    OrderStateChange.objects.create(
        order=order,
        from_status=before["status"],
        to_status=state,
        reason=reason[:200],
        external_ref=order.external_ref,
        by=actor,
    )
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=order,
        customer_id=order.customer_id,
        before=before,
        after={"status": order.status, "external_ref": order.external_ref},
        note=reason,
    )
    if before["status"] != state:
        emit("order.state_changed", customer_id=order.customer_id, actor=actor, order=order.pk,
             from_status=before["status"], to_status=state)  # fmt: skip
    if state == OrderStatus.COMPLETED:
        emit(
            "order.completed",
            customer_id=order.customer_id,
            actor=actor,
            order=order.pk,
            number=order.number,
            quote=order.quote_id,
            contract=order.contract_id,
            opportunity=_order_opportunity(order),
            subscriptions=subscriptions,
            completed_on=timezone.localdate(order.completed_at).isoformat(),
        )
    return order, True


# --- member removal (appended: members who left the group, told to BOSS) ------------------------------
@transaction.atomic
def order_queue_member_removal(*, actor, customer: Customer, removals: list[tuple[Subscription, list]]) -> Order:
    """A change order for BOSS (submitted at once, as BOSS picks up submitted orders): one 成员退出 line per
    member-level subscription the leaving members came off, naming them. The CRM side is already done (the
    catalog removed them); completing the order changes nothing more. Audited; `order.state_changed` tells
    the integrations."""
    order = Order.objects.create(number="", customer=customer, status=OrderStatus.SUBMITTED, created_by=actor)
    order.number = _next_number("DD", order.pk)
    order.save(update_fields=["number"])
    for subscription, members in removals:
        line = OrderLine.objects.create(
            order=order,
            product_id=subscription.product_id,
            action=LineAction.REMOVE_MEMBERS,
            subscription=subscription,
            quantity=max(1, len(members)),
            contracted_price=subscription.contracted_price,
            discount_pct=subscription.discount_pct,
        )
        line.members.set(members)
    reason = _("Members left the group")
    OrderStateChange.objects.create(order=order, to_status=OrderStatus.SUBMITTED, reason=reason, by=actor)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=order,
        customer_id=customer.pk,
        after={"number": order.number, "status": order.status, "subscriptions": [s.pk for s, _m in removals]},
        note=reason,
    )
    emit("order.state_changed", customer_id=customer.pk, actor=actor, order=order.pk, from_status="",
         to_status=OrderStatus.SUBMITTED.value)  # fmt: skip
    return order
