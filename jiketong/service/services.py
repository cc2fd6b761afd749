"""Every write to tickets and surveys: rules, one transaction each, audit and ticket history.

First-question responsibility (首问负责制): whoever receives a ticket owns it. Only the owner works it
(respond, resolve, close) and only the owner asks a colleague to take it over; ownership moves when that
colleague accepts. A supervisor's handover of a leaving manager is the one other way ownership moves.
"""

import datetime as dt
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.concurrency import bump, check_version
from jiketong.core.events import emit
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.core.notify import notify
from jiketong.customers.models import Customer
from jiketong.customers.services import require_edit, require_scope
from jiketong.org.models import Role, Staff, can, staff_of

from . import queries
from .calendar import add_working_time
from .models import (
    OPEN_STATUSES,
    CalendarDay,
    Dimension,
    EventKind,
    SlaPolicy,
    Survey,
    SurveyAnswer,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from .satisfaction import refresh_later as satisfaction_refresh_later

TICKET_FIELDS = ["type", "channel", "priority", "customer", "contact", "product", "subscription", "title", "status"]
RESPONSE, RESOLUTION = "response", "resolution"
# What a person may correct on an open ticket; its type (and so its SLA), owner and status have their own steps.
TICKET_EDIT_FIELDS = ["title", "description", "priority", "contact"]


def _now() -> datetime:
    return timezone.now()


def _event(ticket: Ticket, actor, kind: str, *, at: datetime, note: str = "", **fields) -> TicketEvent:
    return TicketEvent(
        ticket=ticket, at=at, actor=actor if getattr(actor, "pk", None) else None, kind=kind, note=note[:500], **fields
    )


def _actor_staff(actor) -> Staff:
    staff = staff_of(actor)
    if staff is None or not staff.is_active:
        raise PermissionDenied(_("Only staff members can work on tickets."))
    return staff


def _locked(actor, ticket: Ticket) -> Ticket:
    """The ticket, re-read under a row lock, if the actor may see it (404 otherwise)."""
    locked = Ticket.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=ticket.pk).first()
    if locked is None:
        raise Http404(_("No such ticket."))
    return locked


def _require_owner(actor, ticket: Ticket) -> Staff:
    staff = _actor_staff(actor)
    if ticket.owner_id != staff.pk:
        raise PermissionDenied(_("Only the ticket's owner can do this; ask them to transfer it to you."))
    return staff


def _require_reason(field: str, text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: [_("Give a reason.")]})
    return text


def _set_status(actor, ticket: Ticket, status: str, *, at: datetime, note: str = "") -> None:
    """Move to `status`, write the history line and the audit event (the caller saves the ticket)."""
    before = ticket.status
    ticket.status = status
    ticket.refresh_deadlines()
    ticket.save()
    _event(ticket, actor, EventKind.STATUS, at=at, note=note, from_status=before, to_status=status).save()
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=ticket,
        customer_id=ticket.customer_id,
        before={"status": before},
        after={"status": status},
        note=note,
    )


# --- receiving and working a ticket -----------------------------------------------------------------
@transaction.atomic
def ticket_receive(
    *,
    actor,
    customer: Customer,
    type: str,
    title: str,
    channel: str,
    priority: str = "normal",
    description: str = "",
    contact=None,
    product=None,
    subscription=None,
    opened_at: datetime | None = None,
) -> Ticket:
    """Record a ticket as received by the actor, who becomes its owner. The SLA deadlines are counted in
    working time from `opened_at` (default now; earlier when a phone call is written up afterwards)."""
    require_edit(actor)
    require_scope(actor, customer.pk)
    staff = _actor_staff(actor)
    now = _now()
    opened_at = opened_at or now
    errors = {}
    if opened_at > now:
        errors["opened_at"] = [_("A ticket cannot be received in the future.")]
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("The contact must belong to this customer.")]
    if subscription is not None and subscription.customer_id != customer.pk:
        errors["subscription"] = [_("The subscription must belong to this customer.")]
    if errors:
        raise ValidationError(errors)
    ticket = Ticket(
        number=f"TMP{now.timestamp():.6f}",
        type=type,
        channel=channel,
        priority=priority,
        customer=customer,
        contact=contact,
        product=product or (subscription.product if subscription else None),
        subscription=subscription,
        title=title.strip(),
        description=description,
        owner=staff,
        received_by=staff,
        opened_at=opened_at,
    )
    ticket.full_clean(exclude=["number", "response_due", "resolve_due"])
    policy = queries.sla_for(type, customer.grade)
    calendar = queries.business_calendar()
    ticket.response_due = add_working_time(opened_at, policy.response_minutes, calendar)
    ticket.resolve_due = add_working_time(opened_at, policy.resolution_minutes, calendar)
    ticket.refresh_deadlines()
    ticket.save()
    # The number shows the local date it was received and the row id, so it is unique without a counter.
    ticket.number = f"GD{timezone.localtime(opened_at):%Y%m%d}{ticket.pk:06d}"
    ticket.save(update_fields=["number"])
    _event(ticket, actor, EventKind.CREATED, at=opened_at, to_status=TicketStatus.NEW, to_staff=staff).save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=ticket,
        customer_id=customer.pk,
        after=snapshot(ticket, TICKET_FIELDS),
    )
    return ticket


@transaction.atomic
def ticket_respond(*, actor, ticket: Ticket, note: str = "") -> Ticket:
    """The owner's first answer to the customer: the ticket is in progress; a late answer is a breach."""
    ticket = _locked(actor, ticket)
    _require_owner(actor, ticket)
    if ticket.status not in (TicketStatus.NEW, TicketStatus.REOPENED):
        raise ValidationError({"status": [_("Only a new or reopened ticket can be taken in hand.")]})
    now = _now()
    _mark_response(ticket, now)
    _set_status(actor, ticket, TicketStatus.IN_PROGRESS, at=now, note=note)
    return ticket


def _mark_response(ticket: Ticket, now: datetime) -> None:
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.breached_response = ticket.breached_response or now > ticket.response_due


@transaction.atomic
def ticket_resolve(*, actor, ticket: Ticket, resolution: str) -> Ticket:
    """The owner records how it was solved. Resolving also counts as the first response."""
    ticket = _locked(actor, ticket)
    _require_owner(actor, ticket)
    if not ticket.is_open:
        raise ValidationError({"status": [_("Only an open ticket can be resolved.")]})
    ticket.resolution = _require_reason("resolution", resolution)
    now = _now()
    _mark_response(ticket, now)
    ticket.resolved_at = now
    ticket.breached_resolution = ticket.breached_resolution or now > ticket.resolve_due
    _set_status(actor, ticket, TicketStatus.RESOLVED, at=now, note=ticket.resolution)
    return ticket


@transaction.atomic
def ticket_close(*, actor, ticket: Ticket, note: str = "") -> Ticket:
    """The owner closes a resolved ticket once the customer confirms; then it can be rated."""
    ticket = _locked(actor, ticket)
    _require_owner(actor, ticket)
    if ticket.status != TicketStatus.RESOLVED:
        raise ValidationError({"status": [_("Only a resolved ticket can be closed.")]})
    now = _now()
    ticket.closed_at = now
    ticket.transfer_to, ticket.transfer_reason = None, ""
    _set_status(actor, ticket, TicketStatus.CLOSED, at=now, note=note)
    return ticket


@transaction.atomic
def ticket_reopen(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """The problem came back: the ticket is open again with the same owner and a new resolution
    deadline counted from now (the earlier breach stays in the history)."""
    require_edit(actor)
    ticket = _locked(actor, ticket)
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise ValidationError({"status": [_("Only a resolved or closed ticket can be reopened.")]})
    reason = _require_reason("reason", reason)
    now = _now()
    policy = queries.sla_for(ticket.type, ticket.customer.grade)
    ticket.resolve_due = add_working_time(now, policy.resolution_minutes, queries.business_calendar())
    ticket.breached_resolution = False
    ticket.resolved_at = ticket.closed_at = None
    ticket.reopen_count += 1
    _set_status(actor, ticket, TicketStatus.REOPENED, at=now, note=reason)
    return ticket


@transaction.atomic
def ticket_rate(*, actor, ticket: Ticket, rating: int, comment: str = "") -> Ticket:
    """The customer's rating (1–5) of a closed ticket, recorded once."""
    require_edit(actor)
    ticket = _locked(actor, ticket)
    if ticket.status != TicketStatus.CLOSED:
        raise ValidationError({"rating": [_("A ticket can be rated only after it is closed.")]})
    if ticket.rating is not None:
        raise ValidationError({"rating": [_("This ticket has already been rated.")]})
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("A rating is from 1 to 5.")]})
    now = _now()
    ticket.rating, ticket.rating_comment, ticket.rated_at = rating, comment.strip()[:500], now
    ticket.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
    _event(ticket, actor, EventKind.RATED, at=now, note=f"{rating}/5 {ticket.rating_comment}".strip()).save()
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=ticket,
        customer_id=ticket.customer_id,
        after={"rating": rating, "rating_comment": ticket.rating_comment},
    )
    month = timezone.localtime(now).date().replace(day=1)
    emit("ticket.rated", customer_id=ticket.customer_id, actor=actor, ticket=ticket.pk, rating=rating, month=month)
    return ticket


@transaction.atomic
def ticket_update(*, actor, ticket: Ticket, expected_version: int | None = None, **fields) -> Ticket:
    """Correct an open ticket's title, description, priority or contact (TICKET_EDIT_FIELDS). With
    `expected_version`, a ticket changed since the caller read it is refused (core.concurrency.StaleEdit)."""
    require_edit(actor)
    ticket = _locked(actor, ticket)
    check_version(ticket, expected_version)
    unknown = set(fields) - set(TICKET_EDIT_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    if not ticket.is_open:
        raise ValidationError(_("A resolved or closed ticket can no longer be changed; reopen it first."))
    contact = fields.get("contact")
    if contact is not None and contact.customer_id != ticket.customer_id:
        raise ValidationError({"contact": [_("The contact must belong to this customer.")]})
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
    before = snapshot(ticket, TICKET_EDIT_FIELDS)
    for name, value in fields.items():
        setattr(ticket, name, value)
    ticket.clean_fields(exclude=[f.name for f in Ticket._meta.fields if f.name not in TICKET_EDIT_FIELDS])
    ticket.save(update_fields=[*fields, "updated_at"])
    event = record_changes(
        actor=actor,
        target=ticket,
        customer_id=ticket.customer_id,
        before=before,
        after=snapshot(ticket, TICKET_EDIT_FIELDS),
    )
    if event is not None:
        labels = [str(Ticket._meta.get_field(name).verbose_name) for name in event.after]
        _event(ticket, actor, EventKind.EDITED, at=_now(), note="、".join(labels)).save()
    return ticket


# --- transfer -------------------------------------------------------------------------------------
@transaction.atomic
def transfer_request(*, actor, ticket: Ticket, to: Staff, reason: str) -> Ticket:
    """The owner asks a colleague to take the ticket over. Ownership stays until they accept."""
    ticket = _locked(actor, ticket)
    staff = _require_owner(actor, ticket)
    errors = {}
    if not ticket.is_open:
        errors["status"] = [_("Only an open ticket can be transferred.")]
    if ticket.transfer_to_id:
        errors["to"] = [_("A transfer is already waiting for an answer.")]
    elif to is None or not to.is_active or to.pk == staff.pk:
        errors["to"] = [_("Choose an active colleague other than yourself.")]
    elif not Staff.objects.visible_to(actor).filter(pk=to.pk).exists():
        errors["to"] = [_("Choose a colleague in your province.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Give a reason.")]
    if errors:
        raise ValidationError(errors)
    now = _now()
    ticket.transfer_to, ticket.transfer_reason = to, reason.strip()[:500]
    ticket.save(update_fields=["transfer_to", "transfer_reason", "updated_at"])
    _event(
        ticket, actor, EventKind.TRANSFER_REQUEST, at=now, note=ticket.transfer_reason, from_staff=staff, to_staff=to
    ).save()
    record(
        actor=actor,
        action=AuditAction.SUBMIT,
        target=ticket,
        customer_id=ticket.customer_id,
        after={"transfer_to": to.pk},
        note=ticket.transfer_reason,
    )
    notify(
        [to.pk],
        kind="ticket_transfer",
        title=_("Ticket %(number)s is offered to you") % {"number": ticket.number},
        body=ticket.transfer_reason,
        url=reverse("service:ticket_detail", args=[ticket.pk]),
        customer_id=ticket.customer_id,
    )
    return ticket


def _require_transfer_target(actor, ticket: Ticket) -> Staff:
    staff = _actor_staff(actor)
    if ticket.transfer_to_id != staff.pk:
        raise PermissionDenied(_("This ticket is not waiting for you to accept it."))
    return staff


@transaction.atomic
def transfer_accept(*, actor, ticket: Ticket) -> Ticket:
    """The colleague takes the ticket over: from now on they own it."""
    ticket = _locked(actor, ticket)
    staff = _require_transfer_target(actor, ticket)
    now = _now()
    previous = ticket.owner
    ticket.owner, ticket.transfer_to, ticket.transfer_reason = staff, None, ""
    ticket.save(update_fields=["owner", "transfer_to", "transfer_reason", "updated_at"])
    _event(ticket, actor, EventKind.TRANSFER_ACCEPT, at=now, from_staff=previous, to_staff=staff).save()
    record(
        actor=actor,
        action=AuditAction.TRANSFER,
        target=ticket,
        customer_id=ticket.customer_id,
        before={"owner": previous.pk},
        after={"owner": staff.pk},
    )
    return ticket


@transaction.atomic
def transfer_decline(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """The colleague declines, saying why; the owner keeps the ticket."""
    ticket = _locked(actor, ticket)
    staff = _require_transfer_target(actor, ticket)
    reason = _require_reason("reason", reason)
    now = _now()
    ticket.transfer_to, ticket.transfer_reason = None, ""
    ticket.save(update_fields=["transfer_to", "transfer_reason", "updated_at"])
    _event(
        ticket, actor, EventKind.TRANSFER_DECLINE, at=now, note=reason, from_staff=staff, to_staff=ticket.owner
    ).save()
    record(actor=actor, action=AuditAction.REJECT, target=ticket, customer_id=ticket.customer_id, note=reason)
    notify(
        [ticket.owner_id],
        kind="ticket_transfer",
        title=_("Transfer of ticket %(number)s declined") % {"number": ticket.number},
        body=reason,
        url=reverse("service:ticket_detail", args=[ticket.pk]),
        customer_id=ticket.customer_id,
    )
    return ticket


@transaction.atomic
def handover(actor, *, old_owner: Staff, new_owner: Staff, customer_ids=None, note: str = "") -> dict:
    """A supervisor moves a (leaving) manager's open tickets to a colleague, formally: each ticket's history
    records the move. Only tickets the actor may see move; `customer_ids` limits them to those customers.
    Transfers the old owner had asked for are dropped, and requests waiting for the old owner go back."""
    if not can(actor, {Role.SUPERVISOR, Role.ADMIN}):
        raise PermissionDenied(_("Only a supervisor or an administrator can hand tickets over."))
    if new_owner is None or not new_owner.is_active or new_owner.pk == old_owner.pk:
        raise ValidationError({"new_owner": [_("Choose an active colleague other than the previous owner.")]})
    tickets = Ticket.objects.visible_to(actor).filter(status__in=OPEN_STATUSES)
    if customer_ids is not None:
        tickets = tickets.filter(customer_id__in=list(customer_ids))
    moving = list(tickets.filter(owner=old_owner).select_for_update(of=("self",)).values_list("pk", "customer_id"))
    now = _now()
    ids = [pk for pk, _customer in moving]
    Ticket.objects.filter(pk__in=ids).update(
        owner=new_owner, transfer_to=None, transfer_reason="", updated_at=now, **bump()
    )
    returned = tickets.filter(transfer_to=old_owner).update(
        transfer_to=None, transfer_reason="", updated_at=now, **bump()
    )
    actor_ref = actor if getattr(actor, "pk", None) else None
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket_id=pk,
                at=now,
                actor=actor_ref,
                kind=EventKind.HANDOVER,
                from_staff=old_owner,
                to_staff=new_owner,
                note=note[:500],
            )
            for pk in ids
        ]
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor_ref,
                action=AuditAction.HANDOVER,
                target_type=Ticket._meta.label_lower,
                target_id=pk,
                target_repr=f"#{pk}",
                customer_id=customer_id,
                before={"owner": old_owner.pk},
                after={"owner": new_owner.pk},
                note=note[:500],
            )
            for pk, customer_id in moving
        ]
    )
    return {"tickets": len(ids), "transfers_returned": returned}


# --- escalation -----------------------------------------------------------------------------------
def escalate_breaches(now: datetime, batch: int = 500) -> int:
    """Mark every ticket whose response or resolution deadline has newly passed, and escalate each breach
    once to the supervisors of the nearest org unit above the customer that has any (the customer's own
    unit first). Idempotent: a marked breach leaves `watch_at`, so a second run finds nothing."""
    escalated = 0
    while True:
        with transaction.atomic():
            tickets = list(
                Ticket.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(watch_at__lte=now)
                .select_related("customer__org_unit")
                .order_by("watch_at", "pk")[:batch]
            )
            if not tickets:
                return escalated
            escalated += _escalate(tickets, now)


def _escalate(tickets: list[Ticket], now: datetime) -> int:
    supervisors = queries.supervisors_for({t.customer.org_unit.path for t in tickets})
    events, audits, count = [], [], 0
    for ticket in tickets:
        breaches = []
        pending_response = ticket.first_response_at is None and not ticket.breached_response
        if ticket.is_open and pending_response and ticket.response_due <= now:
            ticket.breached_response = True
            breaches.append(RESPONSE)
        if ticket.is_open and not ticket.breached_resolution and ticket.resolve_due <= now:
            ticket.breached_resolution = True
            breaches.append(RESOLUTION)
        ticket.refresh_deadlines()
        if not breaches:
            continue
        ticket.escalated_at = now
        recipients = supervisors[ticket.customer.org_unit.path]
        for breach in breaches:
            count += 1
            note = _breach_note(breach)
            events.append(TicketEvent(ticket=ticket, at=now, kind=EventKind.ESCALATE, note=note))
            audits.append(
                AuditEvent(
                    action=AuditAction.ESCALATE,
                    target_type=Ticket._meta.label_lower,
                    target_id=ticket.pk,
                    target_repr=str(ticket)[:200],
                    customer_id=ticket.customer_id,
                    after={"breach": breach, "supervisors": recipients},
                    note=note,
                )
            )
            notify(
                recipients,
                kind="sla_breach",
                title=_("SLA breached: %(number)s %(title)s") % {"number": ticket.number, "title": ticket.title},
                body=note,
                url=reverse("service:ticket_detail", args=[ticket.pk]),
                customer_id=ticket.customer_id,
                key=f"service:breach:{ticket.pk}:{breach}:{ticket.reopen_count}",
            )
    for ticket in tickets:
        ticket.row_version = bump()["row_version"]
    Ticket.objects.bulk_update(
        tickets, ["breached_response", "breached_resolution", "escalated_at", "next_due", "watch_at", "row_version"]
    )
    TicketEvent.objects.bulk_create(events)
    AuditEvent.objects.bulk_create(audits)
    return count


def _breach_note(breach: str) -> str:
    if breach == RESPONSE:
        return _("No first response by the deadline.")
    return _("Not resolved by the deadline.")


# --- satisfaction surveys -------------------------------------------------------------------------
@transaction.atomic
def survey_create(
    *, actor, customer: Customer, period: str, surveyed_on, answers: dict[str, tuple[int, int]], note: str = ""
) -> Survey:
    """A customer's survey for a quarter: for each dimension answered, (importance, satisfaction) 1–5."""
    require_edit(actor)
    require_scope(actor, customer.pk)
    staff = _actor_staff(actor)
    survey = Survey(customer=customer, period=period, surveyed_by=staff, surveyed_on=surveyed_on, note=note)
    survey.full_clean()
    errors = {}
    unknown = set(answers) - set(Dimension.values)
    if unknown:
        errors["answers"] = [_("Unknown dimension: %(names)s") % {"names": ", ".join(sorted(unknown))}]
    elif not answers:
        errors["answers"] = [_("Answer at least one dimension.")]
    for dimension, scores in answers.items():
        if dimension in Dimension.values and not all(isinstance(s, int) and 1 <= s <= 5 for s in scores):
            errors[dimension] = [_("Scores are from 1 to 5.")]
    if errors:
        raise ValidationError(errors)
    survey.save()
    SurveyAnswer.objects.bulk_create(
        [
            SurveyAnswer(survey=survey, dimension=dimension, importance=importance, satisfaction=satisfaction)
            for dimension, (importance, satisfaction) in sorted(answers.items())
        ]
    )
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=survey,
        customer_id=customer.pk,
        after={"period": period, "answers": {d: list(s) for d, s in sorted(answers.items())}},
    )
    satisfaction_refresh_later([customer.org_unit_id])
    month = survey.surveyed_on.replace(day=1)
    emit("survey.recorded", customer_id=customer.pk, actor=actor, survey=survey.pk, period=period, month=month)
    return survey


# --- the business calendar and the SLA policies (the system administrator's) ------------------------
# Deadlines are counted on the calendar as it is when a ticket is received or reopened (queries.business_calendar
# reads it each time, nothing is cached): a change applies to tickets from then on; deadlines already set stay.
CALENDAR_DAY_FIELDS = ["date", "is_workday", "name"]
SLA_FIELDS = ["response_minutes", "resolution_minutes"]
# 90 working days of 8 hours: no SLA is longer, and a typo of one zero too many is caught.
SLA_MAX_MINUTES = 43200


def require_admin(actor) -> None:
    """The business calendar and the SLA policies are the system administrator's to keep (DOMAIN §2)."""
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only a system administrator can change the business calendar and SLA policies."))


@transaction.atomic
def calendar_day_add(*, actor, date: dt.date | None, is_workday: bool | None, name: str = "") -> CalendarDay:
    """A public holiday (is_workday false) or a 调休 make-up working day (true) on one date. One entry per
    date; a make-up working day must fall on a day the week has off (else it changes nothing)."""
    require_admin(actor)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if date is None:
        errors["date"] = [_("Choose the date.")]
    if is_workday is None:
        errors["is_workday"] = [_("Choose whether it is a holiday or a make-up working day.")]
    if len(name) > 40:
        errors["name"] = [_("At most 40 characters.")]
    if date is not None:
        existing = CalendarDay.objects.filter(date=date).first()
        if existing is not None:
            errors["date"] = [
                _("This date is already in the calendar (%(name)s): remove that entry first.")
                % {"name": existing.name or (_("working day") if existing.is_workday else _("day off"))}
            ]
        elif is_workday and date.isoweekday() not in queries.business_calendar().weekend:
            errors["date"] = [
                _("%(date)s is a working day already: a make-up working day falls on the weekend.")
                % {"date": date.isoformat()}
            ]
    if errors:
        raise ValidationError(errors)
    day = CalendarDay(date=date, is_workday=bool(is_workday), name=name)
    day.full_clean()
    day.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=day,
        customer_id=None,
        after=snapshot(day, CALENDAR_DAY_FIELDS),
    )
    return day


@transaction.atomic
def calendar_day_remove(*, actor, day: CalendarDay) -> None:
    """The date goes back to the weekly rule (a weekday works, the weekend is off). Removing it twice is one removal."""
    require_admin(actor)
    current = CalendarDay.objects.select_for_update().filter(pk=day.pk).first()
    if current is None:
        return
    before = snapshot(current, CALENDAR_DAY_FIELDS)
    pk = current.pk
    current.delete()
    current.pk = pk  # the audit row names the day removed
    record(actor=actor, action=AuditAction.DELETE, target=current, customer_id=None, before=before)


@transaction.atomic
def sla_policy_update(
    *, actor, policy: SlaPolicy, response_minutes: int | None, resolution_minutes: int | None
) -> SlaPolicy:
    """Working minutes allowed to the first response and to resolution: each 1–43,200, the response no later
    than the resolution."""
    require_admin(actor)
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    before = snapshot(policy, SLA_FIELDS)
    errors: dict[str, list[str]] = {}
    for field, value in (("response_minutes", response_minutes), ("resolution_minutes", resolution_minutes)):
        if value is None:
            errors[field] = [_("Give the working minutes.")]
        elif not 1 <= value <= SLA_MAX_MINUTES:
            errors[field] = [_("Between 1 and %(max)s working minutes.") % {"max": f"{SLA_MAX_MINUTES:,}"}]
    if not errors and response_minutes > resolution_minutes:
        errors["response_minutes"] = [_("The first response cannot be due later than the resolution.")]
    if errors:
        raise ValidationError(errors)
    policy.response_minutes, policy.resolution_minutes = response_minutes, resolution_minutes
    policy.full_clean()
    policy.save(update_fields=SLA_FIELDS)
    record_changes(actor=actor, target=policy, customer_id=None, before=before, after=snapshot(policy, SLA_FIELDS))
    return policy
