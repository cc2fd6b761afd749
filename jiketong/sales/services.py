"""Every write to leads and opportunities. UI, API, imports, the board and the work app's handover all
come through here.

Each service takes the acting user, validates, writes in one transaction and records the audit event in
that same transaction. Errors are ValidationError keyed by field, so forms and the API show them in place.
"""

import logging
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from jiketong.catalog.models import Product
from jiketong.core.audit import changed, record, snapshot
from jiketong.core.concurrency import bump, check_version
from jiketong.core.events import emit
from jiketong.core.imports import (
    Progress,
    RunMode,
    RunStatus,
    choice_words,
    error_report_header,
    store_upload,
    write_error_report,
)
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.core.money import yuan
from jiketong.core.names import normalise_org_name
from jiketong.core.notes import stored
from jiketong.core.notify import notify
from jiketong.core.spreadsheets import (
    Column,
    HeaderMap,
    LimitExceeded,
    Limits,
    SpreadsheetError,
    header_key,
    open_spreadsheet,
)
from jiketong.core.trees import subtree
from jiketong.core.validators import full_clean_with, normalize_mobile, normalize_uscc, to_halfwidth
from jiketong.customers.models import Customer, CustomerType, Grade, Industry, LifecycleStatus
from jiketong.customers.services import BulkResult, customer_create
from jiketong.org.models import OrgUnit, Role, Staff, can, staff_of

from . import pipeline
from .models import (
    OPEN_LEAD_STATUSES,
    AssignmentRule,
    Lead,
    LeadImportRun,
    LeadSource,
    LeadStatus,
    Opportunity,
    OpportunityProduct,
    ReferenceCase,
    Stage,
    StageChange,
)

logger = logging.getLogger(__name__)
LEAD_FIELDS = [
    "source",
    "name",
    "uscc",
    "org_unit",
    "industry",
    "expected_size",
    "grade_hint",
    "contact_name",
    "contact_title",
    "contact_mobile",
    "need",
    "owner",
    "status",
]
OPPORTUNITY_FIELDS = [
    "name",
    "owner",
    "stage",
    "expected_close",
    "amount_monthly",
    "amount_once",
    "competitor",
    "lost_reason",
    "closed_on",
    "note",
]
# Handing work from one person to another is a supervisor's decision (DOMAIN §2, §6).
ASSIGN_ROLES = {Role.SUPERVISOR, Role.ADMIN}


# --- permissions and scope ---------------------------------------------------------------------
def require_edit(actor) -> None:
    if not can(actor, Role.EDIT_ROLES):
        raise PermissionDenied(_("Your role may view leads and opportunities but not change them."))


def _actor_staff(actor) -> Staff | None:
    return staff_of(actor)


def _check_region(actor, unit: OrgUnit | None) -> None:
    """A lead's region lies within the actor's own org unit (admins and HQ anywhere)."""
    if unit is None or actor.is_superuser or can(actor, {Role.ADMIN}):
        return
    staff = _actor_staff(actor)
    if staff is None or not unit.path.startswith(staff.org_unit.path):
        raise ValidationError({"org_unit": [_("Choose a region within your own org unit.")]})


def _check_owner(actor, owner: Staff | None, *, field: str = "owner", allowed: tuple = ()) -> None:
    """An owner is an active staff member; only supervisors give work to someone other than themselves
    (or the people named in `allowed`, e.g. the customer's own manager)."""
    if owner is None:
        return
    if not owner.user.is_active or owner.left_on:
        raise ValidationError({field: [_("%(name)s has left and cannot be given work.") % {"name": owner.name}]})
    if owner.pk != actor.pk and owner.pk not in allowed and not can(actor, ASSIGN_ROLES):
        raise ValidationError({field: [_("Only a supervisor can give this to someone else.")]})


def _visible_lead(actor, lead: Lead, *, for_update: bool = True) -> Lead:
    queryset = Lead.objects.visible_to(actor)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    found = queryset.filter(pk=lead.pk).first()
    if found is None:
        raise Http404(_("No such lead."))
    return found


def _visible_opportunity(actor, opportunity: Opportunity) -> Opportunity:
    found = (
        Opportunity.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("stage")
        .filter(pk=opportunity.pk)
        .first()
    )
    if found is None:
        raise Http404(_("No such opportunity."))
    return found


# --- leads -------------------------------------------------------------------------------------
def _tell_owners(actor, leads: list[Lead]) -> None:
    """Put new leads in their owners' inboxes (not the actor's own): one line per lead, or one per owner
    for a batch."""
    mine = {}
    for lead in leads:
        if lead.owner_id and lead.owner_id != actor.pk:
            mine.setdefault(lead.owner_id, []).append(lead)
    for owner_id, owned in mine.items():
        if len(owned) == 1:
            lead = owned[0]
            notify(
                [owner_id],
                kind="lead_assigned",
                title=_("New lead for you: %(name)s") % {"name": lead.name},
                url=reverse("sales:lead_detail", args=[lead.pk]),
            )
        else:
            notify(
                [owner_id],
                kind="lead_assigned",
                title=_("%(n)d new leads for you") % {"n": len(owned)},
                url=reverse("sales:lead_list") + f"?owner={owner_id}&status=new",
            )


def _normalise_lead(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in ("name", "contact_name", "contact_title"):
        if isinstance(fields.get(name), str):
            fields[name] = (
                " ".join(to_halfwidth(fields[name]).split())
                if name == "contact_name"
                else " ".join(fields[name].split())
            )
    if fields.get("uscc"):
        try:
            fields["uscc"] = normalize_uscc(fields["uscc"])
        except ValidationError as exc:
            errors["uscc"] = exc.messages
    elif "uscc" in fields:
        fields["uscc"] = ""
    if fields.get("contact_mobile"):
        try:
            fields["contact_mobile"] = normalize_mobile(fields["contact_mobile"])
        except ValidationError as exc:
            errors["contact_mobile"] = exc.messages
    elif "contact_mobile" in fields:
        fields["contact_mobile"] = ""
    if errors:
        raise ValidationError(errors)
    return fields


def _duplicate_errors(actor, lead: Lead) -> None:
    """Refuse a save that matches an existing customer or open lead; the caller confirms to go ahead."""
    from .queries import lead_duplicates

    matches = lead_duplicates(actor, name=lead.name, uscc=lead.uscc, exclude_lead=lead.pk)
    if not matches:
        return
    errors: dict[str, list[str]] = {}
    for match in matches:
        errors.setdefault(match.field, []).append(match.message())
    raise ValidationError(errors)


def _lead_snapshot(lead: Lead) -> dict:
    return snapshot(lead, LEAD_FIELDS)


@transaction.atomic
def lead_create(*, actor, confirm_duplicates: bool = False, **fields) -> Lead:
    """Record a lead. A customer manager or inside-sales user owns the leads they record; for anyone else
    (a supervisor, an admin) the assignment rules pick the owner unless one is given. A lead that looks like an existing
    customer or open lead (same USCC, or the same name once legal-form suffixes are stripped) is refused
    unless `confirm_duplicates` says the user has seen the matches."""
    require_edit(actor)
    unknown = set(fields) - set(LEAD_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})
    fields = _normalise_lead(fields)
    if not fields.get("org_unit"):
        staff = _actor_staff(actor)
        fields["org_unit"] = staff.org_unit if staff else None
    fields.setdefault("status", LeadStatus.NEW)
    if fields["status"] not in OPEN_LEAD_STATUSES:
        raise ValidationError({"status": [_("A new lead is new, working or qualified.")]})
    lead = Lead(created_by=actor, **fields)
    lead.name_key = normalise_org_name(lead.name)
    lead.full_clean(exclude=["name_key", "customer", "opportunity"])
    _check_region(actor, lead.org_unit)
    _check_owner(actor, lead.owner)
    if not confirm_duplicates:
        _duplicate_errors(actor, lead)
    if lead.owner is None and can(actor, Role.PORTFOLIO_ROLES) and not can(actor, ASSIGN_ROLES):
        lead.owner = _actor_staff(actor)  # whoever found it works it; they hand it on with a supervisor
    elif lead.owner is None:
        lead.owner = pick_owner(org_unit=lead.org_unit, grade_hint=lead.grade_hint, size=lead.expected_size)
    lead.save()
    record(actor=actor, action=AuditAction.CREATE, target=lead, customer_id=None, after=_lead_snapshot(lead))
    _tell_owners(actor, [lead])
    return lead


@transaction.atomic
def lead_update(
    *, actor, lead: Lead, confirm_duplicates: bool = False, expected_version: int | None = None, **fields
) -> Lead:
    """Change an open lead. Its owner changes through lead_assign, its end through convert or disqualify.
    With `expected_version`, a lead changed since the caller read it is refused (core.concurrency.StaleEdit)."""
    require_edit(actor)
    lead = _visible_lead(actor, lead)
    check_version(lead, expected_version)
    if not lead.is_open:
        raise ValidationError(_("A converted or disqualified lead can no longer be changed."))
    editable = set(LEAD_FIELDS) - {"owner"}
    unknown = set(fields) - editable
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in unknown})
    if fields.get("status", lead.status) not in OPEN_LEAD_STATUSES:
        raise ValidationError({"status": [_("Use convert or disqualify to close a lead.")]})
    fields = _normalise_lead(fields)
    before = _lead_snapshot(lead)
    for name, value in fields.items():
        setattr(lead, name, value)
    lead.name_key = normalise_org_name(lead.name)
    lead.full_clean(exclude=["name_key", "customer", "opportunity"])
    if lead.org_unit_id != before["org_unit"]:
        _check_region(actor, lead.org_unit)
    identity_changed = lead.name != before["name"] or lead.uscc != before["uscc"]
    if identity_changed and not confirm_duplicates:
        _duplicate_errors(actor, lead)
    lead.save()
    old, new = changed(before, _lead_snapshot(lead))
    if new:
        action = AuditAction.STATUS if set(new) == {"status"} else AuditAction.UPDATE
        record(actor=actor, action=action, target=lead, customer_id=lead.customer_id, before=old, after=new)
    return lead


@transaction.atomic
def lead_disqualify(*, actor, lead: Lead, reason: str) -> Lead:
    """Close a lead as not worth pursuing; the reason is required and kept."""
    require_edit(actor)
    lead = _visible_lead(actor, lead)
    if not lead.is_open:
        raise ValidationError(_("This lead is already closed."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": [_("Say why the lead is disqualified.")]})
    old_status = lead.status
    lead.status = LeadStatus.DISQUALIFIED
    lead.disqualify_reason = reason[:200]
    lead.save(update_fields=["status", "disqualify_reason", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=lead,
        customer_id=lead.customer_id,
        before={"status": old_status},
        after={"status": lead.status, "disqualify_reason": lead.disqualify_reason},
        note=reason,
    )
    return lead


# --- assignment --------------------------------------------------------------------------------
def rule_role(*, grade_hint: str, size: int | None, rules: list[AssignmentRule] | None = None) -> str | None:
    """The role the first matching active rule names, or None when no rule matches."""
    for rule in rules if rules is not None else AssignmentRule.objects.filter(active=True):
        if rule.matches(grade_hint=grade_hint or "", size=size):
            return rule.role_id
    return None


def _candidates(unit: OrgUnit, role: str):
    """Active staff with the role in the unit's subtree, least loaded (fewest open leads) first."""
    return (
        Staff.objects.filter(subtree(unit.path, "org_unit__path"), roles=role, user__is_active=True, left_on=None)
        .annotate(load=Count("leads", filter=Q(leads__status__in=OPEN_LEAD_STATUSES)))
        .select_related("user")
        .order_by("load", "pk")
    )


def pick_owner(*, org_unit: OrgUnit | None, grade_hint: str, size: int | None) -> Staff | None:
    """The assignment rules' choice: the least-loaded active staff member with the rule's role in the
    lead's region, or in the nearest ancestor unit (up to the province) that has one."""
    role = rule_role(grade_hint=grade_hint, size=size)
    if role is None or org_unit is None:
        return None
    units = [org_unit, *reversed(OrgUnit.objects.get_ancestors(org_unit))]
    for unit in units:
        if unit.depth < 2:  # never hand a province's lead to someone at HQ
            break
        found = _candidates(unit, role).first()
        if found is not None:
            return found
    return None


@transaction.atomic
def lead_assign(*, actor, lead: Lead, owner: Staff | None = None, note: str = "") -> Lead:
    """Give a lead to someone (supervisors), or, without an owner, let the assignment rules choose."""
    if not can(actor, ASSIGN_ROLES):
        raise PermissionDenied(_("Only a supervisor can reassign leads."))
    lead = _visible_lead(actor, lead)
    if not lead.is_open:
        raise ValidationError(_("This lead is already closed."))
    if owner is None:
        owner = pick_owner(org_unit=lead.org_unit, grade_hint=lead.grade_hint, size=lead.expected_size)
        if owner is None:
            raise ValidationError({"owner": [_("No active staff member matches the assignment rules here.")]})
    _check_owner(actor, owner)
    old_owner = lead.owner_id
    if old_owner == owner.pk:
        return lead
    lead.owner = owner
    lead.save(update_fields=["owner", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.OWNER,
        target=lead,
        customer_id=lead.customer_id,
        before={"owner": old_owner},
        after={"owner": owner.pk},
        note=note,
    )
    _tell_owners(actor, [lead])
    return lead


# --- conversion ---------------------------------------------------------------------------------
@transaction.atomic
def lead_convert(
    *,
    actor,
    lead: Lead,
    customer: Customer | None = None,
    customer_type: str = CustomerType.ENTERPRISE,
    opportunity_name: str = "",
    expected_close: date,
    amount_monthly: Decimal | int = 0,
    amount_once: Decimal | int = 0,
    industry: Industry | None = None,
) -> Lead:
    """Turn a lead into business in one transaction: link the visible `customer`, or open the customer's
    archive from the lead (through customers' own service, so its rules and audit apply), open an
    opportunity at the first stage, and mark the lead converted. Any failure leaves nothing behind.
    `industry` fills in a lead recorded without one (a new archive needs it) and is kept on the lead."""
    require_edit(actor)
    lead = _visible_lead(actor, lead)
    if not lead.is_open:
        raise ValidationError(_("This lead is already closed."))
    owner = lead.owner or _actor_staff(actor)
    if customer is not None:
        if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
            raise ValidationError({"customer": [_("Choose a customer you can see.")]})
    else:
        if industry is not None and industry.pk != lead.industry_id:
            # Asked for on the convert form when the lead lacks one; kept on the lead, audited there.
            lead = lead_update(actor=actor, lead=lead, industry=industry, confirm_duplicates=True)
        if lead.industry_id is None:
            raise ValidationError({"industry": [_("Give the lead's industry before converting it.")]})
        customer = customer_create(
            actor=actor,
            name=lead.name,
            uscc=lead.uscc or None,
            type=customer_type,
            industry=lead.industry,
            size=lead.expected_size,
            org_unit=lead.org_unit,
            owner=owner if owner and owner.has_any_role(Role.PORTFOLIO_ROLES) else None,
            grade=lead.grade_hint or Grade.D,
            status=LifecycleStatus.PROSPECT,
            source=lead.source,
            grade_reason=stored(gettext_noop("Expected grade of the lead")),
        )
    opportunity = opportunity_create(
        actor=actor,
        customer=customer,
        name=opportunity_name or lead.need[:100] or lead.name,
        owner=owner,
        expected_close=expected_close,
        amount_monthly=amount_monthly,
        amount_once=amount_once,
        lead=lead,
    )
    lead.status = LeadStatus.CONVERTED
    lead.customer = customer
    lead.opportunity = opportunity
    lead.converted_at = timezone.now()
    lead.save(update_fields=["status", "customer", "opportunity", "converted_at", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.CONVERT,
        target=lead,
        customer_id=customer.pk,
        after={"customer": customer.pk, "opportunity": opportunity.pk},
    )
    # Ids only: the archive reads the contact (a personal mobile) from the lead row itself.
    emit("lead.converted", customer_id=customer.pk, actor=actor, lead=lead.pk, opportunity=opportunity.pk)
    return lead


# --- opportunities -------------------------------------------------------------------------------
def first_stage() -> Stage:
    stage = Stage.objects.filter(active=True, is_won=False, is_lost=False).first()
    if stage is None:
        raise ValidationError({"stage": [_("No open stage is configured.")]})
    return stage


def _clean_lines(lines: list[dict]) -> list[OpportunityProduct]:
    built, errors = [], {}
    for number, line in enumerate(lines, start=1):
        item = OpportunityProduct(
            product=line.get("product"),
            quantity=line.get("quantity") or 1,
            amount_monthly=yuan(line.get("amount_monthly") or 0),
            amount_once=yuan(line.get("amount_once") or 0),
        )
        try:
            item.full_clean(exclude=["opportunity"])
        except ValidationError as exc:
            errors[f"lines.{number}"] = [f"{k}: {m}" for k, msgs in exc.message_dict.items() for m in msgs]
        built.append(item)
    if errors:
        raise ValidationError(errors)
    return built


def _apply_line_totals(opportunity: Opportunity, lines: list[OpportunityProduct]) -> None:
    if lines:
        opportunity.amount_monthly = yuan(sum(line.amount_monthly for line in lines))
        opportunity.amount_once = yuan(sum(line.amount_once for line in lines))


def _clean_opportunity(opportunity: Opportunity) -> None:
    for name in ("amount_monthly", "amount_once"):
        try:
            setattr(opportunity, name, yuan(getattr(opportunity, name) or 0))
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationError({name: [_("Enter an amount in yuan.")]}) from None
        if getattr(opportunity, name) < 0:
            raise ValidationError({name: [_("Amounts cannot be negative.")]})
    opportunity.name = " ".join((opportunity.name or "").split())
    opportunity.full_clean(exclude=["lead", "customer"])


def _write_stage_change(actor, opportunity: Opportunity, old: Stage | None, note: str, extra: dict) -> None:
    StageChange.objects.create(
        opportunity=opportunity, from_stage=old, to_stage=opportunity.stage, changed_by=actor, note=note[:500]
    )
    record(
        actor=actor,
        action=AuditAction.STAGE,
        target=opportunity,
        customer_id=opportunity.customer_id,
        before={"stage": old.pk} if old else None,
        after={"stage": opportunity.stage_id} | extra,
        note=note,
    )


@transaction.atomic
def opportunity_create(
    *,
    actor,
    customer: Customer,
    name: str,
    expected_close: date,
    owner: Staff | None = None,
    stage: Stage | None = None,
    amount_monthly: Decimal | int = 0,
    amount_once: Decimal | int = 0,
    competitor: str = "",
    note: str = "",
    lead: Lead | None = None,
    lines: list[dict] | None = None,
) -> Opportunity:
    """Open an opportunity on a visible customer, at the first stage unless told otherwise. The first
    stage is recorded in the history like every later change."""
    require_edit(actor)
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise Http404(_("No such customer."))
    owner = owner or _actor_staff(actor)
    if owner is None:
        raise ValidationError({"owner": [_("Choose who owns the opportunity.")]})
    _check_owner(actor, owner, allowed=(customer.owner_id, customer.backup_owner_id, lead and lead.owner_id))
    stage = stage or first_stage()
    if stage.is_closed or not stage.active:
        raise ValidationError({"stage": [_("A new opportunity starts at an open stage.")]})
    opportunity = Opportunity(
        customer=customer,
        name=name,
        owner=owner,
        stage=stage,
        expected_close=expected_close,
        amount_monthly=amount_monthly,
        amount_once=amount_once,
        competitor=competitor,
        note=note,
        lead=lead,
    )
    built = _clean_lines(lines or [])
    _apply_line_totals(opportunity, built)
    _clean_opportunity(opportunity)
    opportunity.save()
    for line in built:
        line.opportunity = opportunity
    OpportunityProduct.objects.bulk_create(built)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=opportunity,
        customer_id=customer.pk,
        after=snapshot(opportunity, OPPORTUNITY_FIELDS) | {"lead": lead.pk if lead else None},
    )
    _write_stage_change(actor, opportunity, None, "", {})
    pipeline.refresh_later([opportunity.owner_id])
    return opportunity


@transaction.atomic
def opportunity_update(
    *,
    actor,
    opportunity: Opportunity,
    lines: list[dict] | None = None,
    expected_version: int | None = None,
    **fields,
) -> Opportunity:
    """Change an open opportunity's details, and with `lines` replace its product lines (the amounts
    then become the lines' totals). Its stage changes only through opportunity_move. `expected_version`:
    see lead_update."""
    require_edit(actor)
    opportunity = _visible_opportunity(actor, opportunity)
    check_version(opportunity, expected_version)
    editable = {"name", "owner", "expected_close", "amount_monthly", "amount_once", "competitor", "note"}
    unknown = set(fields) - editable
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in unknown})
    if opportunity.stage.is_closed:
        raise ValidationError(_("A won or lost opportunity can no longer be changed; reopen it first."))
    before = snapshot(opportunity, OPPORTUNITY_FIELDS)
    for name, value in fields.items():
        setattr(opportunity, name, value)
    if opportunity.owner_id != before["owner"]:
        _check_owner(actor, opportunity.owner)
    built = None
    if lines is not None:
        built = _clean_lines(lines)
        _apply_line_totals(opportunity, built)
    elif opportunity.lines.exists() and ({"amount_monthly", "amount_once"} & set(fields)):
        raise ValidationError({"amount_monthly": [_("The amounts are the totals of the product lines.")]})
    _clean_opportunity(opportunity)
    opportunity.save()
    if built is not None:
        opportunity.lines.all().delete()
        for line in built:
            line.opportunity = opportunity
        OpportunityProduct.objects.bulk_create(built)
    old, new = changed(before, snapshot(opportunity, OPPORTUNITY_FIELDS))
    if built is not None:
        new["lines"] = [
            [line.product_id, line.quantity, str(line.amount_monthly), str(line.amount_once)] for line in built
        ]
    if new:
        action = AuditAction.OWNER if "owner" in new else AuditAction.UPDATE
        record(
            actor=actor, action=action, target=opportunity, customer_id=opportunity.customer_id, before=old, after=new
        )
    pipeline.refresh_later([before["owner"], opportunity.owner_id])
    return opportunity


def outcome(stage: Stage) -> str:
    """What a stage means for the pipeline, as events and integrators see it: won, lost or open."""
    return "won" if stage.is_won else "lost" if stage.is_lost else "open"


def _move(actor, opportunity: Opportunity, stage: Stage, *, note: str, lost_reason: str = "", competitor: str = "",
          closed_on: date | None = None) -> Opportunity:  # fmt: skip
    """The stage change itself, on a locked opportunity: fields, history, audit and the event, in the caller's
    transaction. Every path that changes a stage (a person's move, an order's win) comes through here."""
    old = opportunity.stage
    if stage.pk == old.pk:
        raise ValidationError({"stage": [_("The opportunity is already at this stage.")]})
    if not stage.active:
        raise ValidationError({"stage": [_("This stage is no longer in use.")]})
    lost_reason = " ".join((lost_reason or "").split())
    extra: dict[str, Any] = {}
    if stage.is_lost:
        if not lost_reason:
            raise ValidationError({"lost_reason": [_("Say why the opportunity was lost.")]})
        opportunity.lost_reason = lost_reason[:200]
        if competitor:
            opportunity.competitor = competitor
        extra = {"lost_reason": opportunity.lost_reason, "competitor": opportunity.competitor}
    elif not stage.is_won:
        opportunity.lost_reason = ""
    opportunity.closed_on = (closed_on or timezone.localdate()) if stage.is_closed else None
    if stage.is_closed and closed_on:
        extra["closed_on"] = closed_on.isoformat()
    opportunity.stage = stage
    opportunity.full_clean(exclude=["lead", "customer"])
    opportunity.save(update_fields=["stage", "lost_reason", "competitor", "closed_on", "updated_at"])
    _write_stage_change(actor, opportunity, old, note, extra)
    emit(
        "opportunity.stage_changed",
        customer_id=opportunity.customer_id,
        actor=actor,
        opportunity=opportunity.pk,
        from_stage=old.code,
        to_stage=stage.code,
        outcome=outcome(stage),
    )
    pipeline.refresh_later([opportunity.owner_id])
    return opportunity


@transaction.atomic
def opportunity_move(
    actor, opportunity: Opportunity, stage: Stage, note: str = "", lost_reason: str = "", competitor: str = ""
) -> Opportunity:
    """The one way a person changes an opportunity's stage (board, detail page and API). Lost needs a reason
    (and the competitor, when known); won and lost set the close date; moving back to an open stage reopens."""
    require_edit(actor)
    opportunity = _visible_opportunity(actor, opportunity)
    return _move(actor, opportunity, stage, note=note, lost_reason=lost_reason, competitor=competitor)


def won_stage() -> Stage | None:
    """The stage a won opportunity goes to: the first active won stage (赢单 by default)."""
    return Stage.objects.filter(active=True, is_won=True).order_by("order", "id").first()


@transaction.atomic
def opportunity_win_by_order(*, actor, opportunity_id: int, closed_on: date, note: str) -> Opportunity | None:
    """An order that came from this opportunity was completed: the opportunity is won, closing on the order's
    completion date, through the same stage change as a person's move (history, audit, event), with the order
    in the note. No role or scope check: the order's own service checked the person who completed it, and a
    job or a BOSS update may have no person at all. An opportunity already won or lost is left as it is (a
    person closed it on purpose); answers None when nothing changed."""
    opportunity = (
        Opportunity.objects.select_for_update(of=("self",)).select_related("stage").filter(pk=opportunity_id).first()
    )
    if opportunity is None or opportunity.stage.is_closed:
        return None
    stage = won_stage()
    if stage is None:
        raise ValidationError({"stage": [_("No active won stage is configured.")]})
    return _move(actor, opportunity, stage, note=note, closed_on=closed_on)


# --- handover ------------------------------------------------------------------------------------
@transaction.atomic
def handover(
    actor, *, old_owner: Staff, new_owner: Staff, customer_ids: list[int] | None = None, note: str = ""
) -> dict:
    """Move old_owner's open leads and open opportunities (all, or those of the given customers) to
    new_owner, so customers do not leave with the salesperson (DOMAIN §6). Only records the actor can see
    move; each gets a HANDOVER audit row. Returns how many of each moved."""
    if not can(actor, ASSIGN_ROLES):
        raise PermissionDenied(_("Only a supervisor can hand work over."))
    if old_owner.pk == new_owner.pk:
        raise ValidationError({"new_owner": [_("Choose someone other than the current owner.")]})
    _check_owner(actor, new_owner, field="new_owner")
    leads = Lead.objects.visible_to(actor).open().filter(owner=old_owner)
    opportunities = Opportunity.objects.visible_to(actor).open().filter(owner=old_owner)
    if customer_ids is not None:
        leads = leads.filter(customer_id__in=customer_ids)
        opportunities = opportunities.filter(customer_id__in=customer_ids)
    moved_leads = list(leads.select_for_update(of=("self",)).values_list("pk", "name", "customer_id"))
    moved_opps = list(opportunities.select_for_update(of=("self",)).values_list("pk", "name", "customer_id"))
    now = timezone.now()
    Lead.objects.filter(pk__in=[pk for pk, *_rest in moved_leads]).update(owner=new_owner, updated_at=now, **bump())
    Opportunity.objects.filter(pk__in=[pk for pk, *_rest in moved_opps]).update(
        owner=new_owner, updated_at=now, **bump()
    )
    events = [
        AuditEvent(
            actor=actor,
            action=AuditAction.HANDOVER,
            target_type=model._meta.label_lower,
            target_id=pk,
            target_repr=name[:200],
            customer_id=customer_id,
            before={"owner": old_owner.pk},
            after={"owner": new_owner.pk},
            note=note[:500],
        )
        for model, rows in ((Lead, moved_leads), (Opportunity, moved_opps))
        for pk, name, customer_id in rows
    ]
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    if moved_opps:
        pipeline.refresh_later([old_owner.pk, new_owner.pk])
    return {"leads": len(moved_leads), "opportunities": len(moved_opps)}


# --- import --------------------------------------------------------------------------------------
# Headings accepted in an import file, Chinese or English (core.spreadsheets compares them without case,
# spaces, brackets or "*"/必填 marks); the first of each is the one messages name.
LEAD_COLUMNS = (
    Column("name", ("单位名称", "名称", "客户名称", "name", "organisation", "company"), required=True),
    Column("uscc", ("统一社会信用代码", "信用代码", "社会信用代码", "uscc", "credit code")),
    Column("org_unit", ("区域编码", "区域", "区域代码", "region", "region code")),
    Column("industry", ("行业", "所属行业", "industry")),
    Column("expected_size", ("规模", "人数", "规模（人）", "size", "headcount")),
    Column("grade_hint", ("预计等级", "等级", "grade")),
    Column("contact_name", ("联系人", "联系人姓名", "contact")),
    Column("contact_title", ("职务", "联系人职务", "title")),
    Column("contact_mobile", ("联系电话", "手机", "联系人手机", "手机号码", "mobile", "phone")),
    Column("need", ("需求", "业务需求", "need")),
    Column("source", ("来源", "线索来源", "source")),
)
IMPORT_COLUMNS = {header_key(alias): column.name for column in LEAD_COLUMNS for alias in column.aliases}
# Words people write for a source besides its code and its label (in either language): the labels the lead form
# shows (so a sheet's 上门拜访 is read whatever the catalogue says), the names the docs used before they were
# aligned with the UI, and the short forms of a survey sheet.
SOURCE_ALIASES = {
    "网格摸底": LeadSource.GRID_SURVEY,
    "摸底": LeadSource.GRID_SURVEY,
    "摸排": LeadSource.GRID_SURVEY,
    "网格": LeadSource.GRID_SURVEY,
    "拜访": LeadSource.VISIT,
    "网格摸排": LeadSource.GRID_SURVEY,
    "上门拜访": LeadSource.VISIT,
    "转介绍": LeadSource.REFERRAL,
    "热线": LeadSource.HOTLINE,
    "营销活动": LeadSource.CAMPAIGN,
    "合作伙伴": LeadSource.PARTNER,
    "内部销售外呼": LeadSource.INSIDE_SALES,
    "批量导入": LeadSource.IMPORT,
    "走访": LeadSource.VISIT,
    "推荐": LeadSource.REFERRAL,
    "客服热线": LeadSource.HOTLINE,
    "活动": LeadSource.CAMPAIGN,
    "合作方": LeadSource.PARTNER,
    "电话销售": LeadSource.INSIDE_SALES,
    "外呼": LeadSource.INSIDE_SALES,
    "电销": LeadSource.INSIDE_SALES,
    "导入": LeadSource.IMPORT,
}


def source_words() -> dict[str, str]:
    """Every word the import takes for a source → its code: the codes, the labels in each UI language
    (what the lead form shows) and SOURCE_ALIASES; compared by header_key (case and spacing aside)."""
    return choice_words(LeadSource.choices, SOURCE_ALIASES)


def read_lead_file(upload, *, limits: Limits | None = None, progress: Progress | None = None) -> list[dict]:
    """Rows of an uploaded .xlsx or .csv (UTF-8, GBK/GB18030 or UTF-16) as dicts keyed by lead field;
    unknown columns are ignored, blank rows skipped. Read by the bounded reader (core.spreadsheets): a file
    past a limit is refused with the limit named. Raises ValidationError on `file` when it cannot be read."""
    try:
        with open_spreadsheet(upload, name=getattr(upload, "name", None), limits=limits) as book:
            sheet = next(book.sheets())
            header = HeaderMap(LEAD_COLUMNS).locate(
                sheet,
                required_message=_("The first row must name the columns, including 单位名称 (name)."),
            )
            rows = []
            for count, (_number, cells) in enumerate(sheet.rows, start=1):
                rows.append(header.values(cells))
                if progress is not None and count % 5000 == 0:
                    progress.tick(0.4 * book.done())
            return rows
    except LimitExceeded as exc:
        raise ValidationError({"file": [str(exc)]}, code=f"limit_{exc.limit}") from exc
    except SpreadsheetError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc


def leads_import(*, actor, rows: list[dict], all_or_nothing: bool, progress: Progress | None = None,
                 on_write: Callable[[BulkResult], None] | None = None) -> BulkResult:  # fmt: skip
    """Load a list of leads (a grid survey, a purchased directory). Every bad row comes back with its
    reasons, duplicates of customers, open leads or earlier rows included; with `all_or_nothing` one bad
    row stops the batch, otherwise the good rows land. New leads are spread by the assignment rules.

    Set-based (decision 0018): regions, industries and the source words are loaded once, each row's fields
    are checked by the model's own rules without a query, duplicates are found for the whole file in a few
    queries, and the leads, their audit rows and the owners' notices are written in bulk, in one transaction;
    on PostgreSQL the rows are checked as COPY takes them, so the database inserts while the next rows are
    checked (decision 0024, sales.imports). `on_write(result)` runs inside the transaction (an import run
    records its outcome with the rows)."""
    from .imports import LeadRules, import_leads

    require_edit(actor)
    result = BulkResult()
    rules = LeadRules(staff=_actor_staff, sources=source_words, rule_role=rule_role, tell_owners=_tell_owners,
                      audited=LEAD_FIELDS)  # fmt: skip
    import_leads(actor=actor, rows=rows, all_or_nothing=all_or_nothing, result=result, rules=rules,
                 progress=progress or Progress(None), on_write=on_write)  # fmt: skip
    return result


# --- import runs (large files, in the task worker) -------------------------------------------------
def inline_rows() -> int:
    """Files of up to this many rows are imported in the request (setting IMPORT_INLINE_ROWS)."""
    from django.conf import settings

    return getattr(settings, "IMPORT_INLINE_ROWS", 2000)


def lead_import_start(*, actor, upload, all_or_nothing: bool) -> tuple[BulkResult | None, LeadImportRun | None]:
    """An uploaded lead file: a small one (up to IMPORT_INLINE_ROWS rows) is imported now and its result
    returned; a larger one is stored and queued for the task worker, and its run (with progress) returned."""
    require_edit(actor)
    try:
        with open_spreadsheet(upload, name=getattr(upload, "name", None)) as book:
            estimated = book.estimated_rows
    except SpreadsheetError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    if estimated <= inline_rows():
        try:
            rows = read_lead_file(upload, limits=Limits.from_settings().with_rows(inline_rows()))
        except ValidationError as exc:
            if getattr(exc.error_dict["file"][0], "code", "") != "limit_rows":
                raise
            # The file said it was small and was not (a wrong dimension): it goes to the worker after all.
        else:
            return leads_import(actor=actor, rows=rows, all_or_nothing=all_or_nothing), None
    mode = RunMode.ALL_OR_NOTHING if all_or_nothing else RunMode.GOOD_ROWS
    path = store_upload(upload, "leads")
    run = LeadImportRun.objects.create(
        mode=mode, file_name=Path(upload.name or path.name).name[:255], file_path=str(path), created_by=actor
    )
    run_lead_import_task.enqueue(run.pk, translation.get_language())
    return None, run


def run_lead_import(run_id: int, on_tick: Callable | None = None) -> LeadImportRun:
    """Run a queued lead import to its end (the task worker, or the CLI). The leads and the run's final
    state commit together; a second delivery of the task finds the run taken and leaves it alone."""
    run = LeadImportRun.objects.select_related("created_by").get(pk=run_id)
    if not run.start():
        return run
    progress = Progress(run, on_tick=on_tick)
    try:
        try:
            rows = read_lead_file(Path(run.file_path), progress=progress)
        except ValidationError as exc:
            return _finish_lead_run(run, message="; ".join(exc.messages), status=RunStatus.FAILED)
        progress.tick(0.4, force=True, rows_total=len(rows))

        def close(result: BulkResult) -> None:
            report = _lead_error_report(run, result) if result.errors else ""
            if result.errors and not result.done:
                status = RunStatus.FAILED
                message = _("Nothing was imported: %(bad)s of %(total)s rows have errors (see the error report).") % {
                    "bad": len(result.errors),
                    "total": len(rows),
                }
            else:
                status = RunStatus.PARTIALLY if result.errors else RunStatus.SUCCEEDED
                message = _("%(n)d leads imported.") % {"n": result.done}
                if result.errors:
                    message += " " + _("%(bad)s rows with errors were left out.") % {"bad": len(result.errors)}
            _finish_lead_run(run, message=message, status=status, rows_total=len(rows), rows_ok=result.done,
                             rows_bad=len(result.errors), error_path=report)  # fmt: skip

        leads_import(actor=run.created_by, rows=rows, all_or_nothing=run.mode == RunMode.ALL_OR_NOTHING,
                     progress=progress, on_write=close)  # fmt: skip
    except Exception:
        logger.exception("lead import %s failed", run.pk)
        _finish_lead_run(
            run,
            message=_("The import stopped on an unexpected error; nothing was imported."),
            status=RunStatus.FAILED,
        )
        raise
    return run


# Declared next to the work it runs, so the upload above queues it without importing a module that imports this
# one back (docs/developing.md); sales.tasks.run_lead_import keeps the path that runs queued before stay under.
@task()
def run_lead_import_task(run_id: int, language: str | None = None) -> str:
    """A large lead file imported by the task worker; the uploader's language writes the messages and the
    error report."""
    with translation.override(language):
        return run_lead_import(run_id).status


def _lead_error_report(run: LeadImportRun, result: BulkResult) -> str:
    from django.conf import settings

    labels = {f.name: str(f.verbose_name) for f in Lead._meta.get_fields() if f.concrete}
    path = Path(settings.MEDIA_ROOT) / "imports" / "leads" / "errors" / f"{run.pk}.csv"
    header = error_report_header(_("Name"), _("Field"), _("Problem"))
    rows = (
        [error["row"], error["name"], labels.get(field, field), message]
        for error in result.errors
        for field, messages in error["errors"].items()
        for message in messages
    )
    return str(write_error_report(path, header, rows))


def _finish_lead_run(run: LeadImportRun, *, message: str, status: str, **fields) -> LeadImportRun:
    """Close the run and audit it once (IMPORT on the run: file, mode, outcome and counts)."""
    run.update(status=status, message=message, progress=100, finished_at=timezone.now(), **fields)
    record(
        actor=run.created_by,
        action=AuditAction.IMPORT,
        target=run,
        customer_id=None,
        after=snapshot(run, ["mode", "status", "rows_total", "rows_ok", "rows_bad"]),
        note=run.file_name,
    )
    return run


# --- reference cases (标杆案例) ---------------------------------------------------------------------
CASE_FIELDS = ["title", "industry", "value", "what_won", "org_unit", "public_name"]


def case_value(opportunity: Opportunity) -> Decimal:
    """A case's value: the won opportunity's first-year value, monthly amount × 12 + one-time amount."""
    return yuan(opportunity.amount_monthly * 12 + opportunity.amount_once)


def _names_customer(text: str, customer) -> bool:
    """Whether published text gives the customer away: its name or short name (at least two characters)."""
    names = [name for name in (customer.name, customer.short_name) if name and len(name) >= 2]
    return any(name in text for name in names)


@transaction.atomic
def case_publish(
    *, actor, opportunity: Opportunity, title: str = "", what_won: str = "", public_name: str = "", products=None
) -> ReferenceCase:
    """Publish a won opportunity (赢单) as a reference case for the province: its industry and region are the
    customer's, its value the opportunity's first-year value, its products the opportunity's lines (or, when it
    has none, `products`). Only from a won opportunity, once; by someone who may edit and sees the opportunity.
    What everyone reads (title, what won it, the anonymised name) must not name the customer: readers outside
    its scope get the case, not the customer (decision 0106)."""
    require_edit(actor)
    opportunity = _visible_opportunity(actor, opportunity)
    customer = Customer.objects.select_related("industry", "org_unit").get(pk=opportunity.customer_id)
    errors: dict[str, list[str]] = {}
    if not opportunity.stage.is_won:
        errors["opportunity"] = [_("Only a won opportunity (赢单) can be published as a reference case.")]
    elif ReferenceCase.objects.filter(opportunity=opportunity).exists():
        errors["opportunity"] = [_("This opportunity is already published as a reference case.")]
    title, what_won, public_name = (title or "").strip(), (what_won or "").strip(), (public_name or "").strip()
    for field, text in (("title", title), ("what_won", what_won), ("public_name", public_name)):
        if text and _names_customer(text, customer):
            errors[field] = [
                _("Readers outside the customer's scope read this too: leave out its name (use the anonymised name).")
            ]
    line_products = list(Product.objects.filter(pk__in=opportunity.lines.values("product_id")).order_by("pk"))
    chosen = line_products or list(products or [])
    if not chosen:
        errors["products"] = [_("Name the products the case sold (the opportunity has no product lines).")]
    case = ReferenceCase(
        opportunity=opportunity,
        customer=customer,
        title=title,
        industry_id=customer.industry_id,
        value=case_value(opportunity),
        what_won=what_won,
        org_unit_id=customer.org_unit_id,
        public_name=public_name,
        published_by=_actor_staff(actor),
    )
    full_clean_with(case, errors, exclude=["products", "opportunity"])
    case.save()
    case.products.set(chosen)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=case,
        customer_id=customer.pk,
        after=snapshot(case, CASE_FIELDS) | {"opportunity": opportunity.pk, "products": [p.pk for p in chosen]},
    )
    return case
