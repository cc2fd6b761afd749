"""Every write of managers' work: activities, tasks and handovers. UI, API, jobs and other apps call these.

Each service takes the acting user, checks role and scope (an object out of scope answers 404 like a
missing one), validates with field-keyed ValidationErrors, writes in one transaction and audits in it.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jiketong.core.audit import record, snapshot
from jiketong.core.concurrency import bump
from jiketong.core.models import AuditAction, AuditEvent, Notification
from jiketong.core.notify import notify
from jiketong.core.registry import owner_checks
from jiketong.core.validators import plan_date_errors
from jiketong.customers.models import Contact, Customer
from jiketong.org.models import Role, Staff, can, staff_of
from jiketong.org.services import staff_deactivate
from jiketong.sales import services as sales_services
from jiketong.sales.models import Lead, Opportunity
from jiketong.service import services as service_services

from .holidays import holidays_between
from .models import (
    SERVED_STATUSES,
    Activity,
    ActivityKind,
    CoverageSummary,
    Handover,
    Task,
    TaskKind,
    TaskPriority,
    TaskStatus,
    VisitStandard,
    local_midnight,
    visits_since,
)

ACTIVITY_FIELDS = ["kind", "subject", "happened_at", "customer", "lead", "opportunity", "owner", "next_step"]
TASK_FIELDS = ["owner", "title", "due_on", "priority", "status", "kind", "customer", "lead", "opportunity"]
# Giving work to someone else, and handing a portfolio over, are a supervisor's decisions (DOMAIN §2, §6).
ASSIGN_ROLES = {Role.SUPERVISOR, Role.ADMIN}
# A clock a few minutes fast on a phone must not reject a visit recorded "now".
FUTURE_SLACK = timedelta(minutes=10)


def require_worker(actor) -> Staff:
    """Activities and tasks are recorded by staff who may edit customer work (not analysts or auditors)."""
    staff = staff_of(actor)
    if staff is None or not can(actor, Role.EDIT_ROLES):
        raise PermissionDenied(_("Your role may view activities and tasks but not record them."))
    return staff


def _visible(model, actor, obj):
    """The object again, through the actor's scope: out of scope answers like missing (404)."""
    if obj is None:
        return None
    found = model.objects.visible_to(actor).filter(pk=obj.pk).first()
    if found is None:
        raise Http404(_("Not found."))
    return found


# --- activities -------------------------------------------------------------------------------------
@transaction.atomic
def activity_create(
    actor,
    *,
    kind: str = ActivityKind.VISIT,
    subject: str = "",
    happened_at: datetime | None = None,
    customer: Customer | None = None,
    lead=None,
    opportunity=None,
    contacts=(),
    staff=(),
    notes: str = "",
    outcome: str = "",
    next_step: str = "",
    next_step_on: date | None = None,
) -> Activity:
    """Record a visit, call, meeting, e-mail, event or care action. A visit counts towards the grade's
    visit standard and closes the open visit task of its period once the standard is met; a next step
    with a date becomes a follow-up task for the recorder."""
    owner = require_worker(actor)
    customer = _visible(Customer, actor, customer)
    lead = _visible(Lead, actor, lead)
    opportunity = _visible(Opportunity, actor, opportunity)
    customer = customer or (opportunity.customer if opportunity else None) or (lead.customer if lead else None)
    happened_at = happened_at or timezone.now()
    errors: dict[str, list[str]] = {}
    if customer is None and lead is None:
        errors["customer"] = [_("Say which customer, lead or opportunity this activity is about.")]
    if kind not in ActivityKind.values:
        errors["kind"] = [_("Choose a kind of activity.")]
    if happened_at > timezone.now() + FUTURE_SLACK:
        errors["happened_at"] = [_("An activity is recorded after it happened; the time cannot be in the future.")]
    if opportunity is not None and customer is not None and opportunity.customer_id != customer.pk:
        errors["opportunity"] = [_("This opportunity belongs to another customer.")]
    contacts = list(contacts)
    if any(contact.customer_id != getattr(customer, "pk", None) for contact in contacts):
        errors["contacts"] = [_("Choose contacts of this activity's customer.")]
    staff = [person for person in staff if person.pk != owner.pk]
    if any(not person.is_active for person in staff):
        errors["staff"] = [_("Colleagues who have left cannot join an activity.")]
    if next_step_on is not None and not next_step.strip():
        errors["next_step"] = [_("Describe the next step to schedule it.")]
    if next_step_on is not None and next_step_on < timezone.localdate(happened_at):
        errors["next_step_on"] = [_("The next step cannot be due before the activity.")]
    elif next_step_on is not None:
        errors.update(plan_date_errors({"next_step_on": next_step_on}))  # the follow-up task it becomes
    if errors:
        raise ValidationError(errors)
    about = customer or lead
    activity = Activity(
        kind=kind,
        subject=(subject.strip() or f"{ActivityKind(kind).label} · {about}")[:120],
        happened_at=happened_at,
        customer=customer,
        lead=lead,
        opportunity=opportunity,
        owner=owner,
        notes=notes.strip(),
        outcome=outcome.strip(),
        next_step=next_step.strip(),
        created_by=actor,
    )
    activity.full_clean(exclude=["staff", "contacts"])
    activity.save()
    activity.contacts.set(contacts)
    activity.staff.set(staff)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=activity,
        customer_id=activity.customer_id,
        after=snapshot(activity, ACTIVITY_FIELDS),
    )
    if kind == ActivityKind.VISIT and customer is not None:
        _close_visit_task(actor, customer, activity)
        coverage_refresh_later([customer.owner_id])
    if next_step_on is not None:
        task_create(
            actor,
            owner=owner,
            title=activity.next_step,
            due_on=next_step_on,
            customer=customer,
            lead=lead,
            opportunity=opportunity,
        )
    return activity


def visit_count(customer: Customer, start: date, end: date) -> int:
    """Visits to the customer between two local dates, inclusive."""
    return Activity.objects.filter(
        customer=customer,
        kind=ActivityKind.VISIT,
        happened_at__gte=local_midnight(start),
        happened_at__lt=local_midnight(end + timedelta(days=1)),
    ).count()


def _close_visit_task(actor, customer: Customer, activity: Activity) -> None:
    """The standard is met once the period holds as many visits as the grade asks: then its task is done."""
    standard = VisitStandard.objects.filter(grade=customer.grade).first()
    if standard is None:
        return
    start, end = standard.period(timezone.localdate(activity.happened_at))
    task = (
        Task.objects.select_for_update()
        .filter(customer=customer, standard_period=start, status=TaskStatus.OPEN)
        .first()
    )
    if task is not None and visit_count(customer, start, end) >= standard.visits:
        _finish(actor, task, TaskStatus.DONE, activity=activity)


# --- tasks ------------------------------------------------------------------------------------------
@transaction.atomic
def task_create(
    actor,
    *,
    owner: Staff,
    title: str,
    due_on: date,
    priority: str = TaskPriority.NORMAL,
    kind: str = TaskKind.FOLLOW_UP,
    customer: Customer | None = None,
    lead=None,
    opportunity=None,
    note: str = "",
) -> Task:
    """Give someone a task. Managers give themselves tasks; supervisors and admins may give them to any
    active colleague whose work they see (a one-click retention task for the customer's manager)."""
    staff = staff_of(actor)
    if not can(actor, Role.EDIT_ROLES):
        raise PermissionDenied(_("Your role may view tasks but not create them."))
    customer = _visible(Customer, actor, customer)
    lead = _visible(Lead, actor, lead)
    opportunity = _visible(Opportunity, actor, opportunity)
    errors: dict[str, list[str]] = {}
    if owner is None:
        errors["owner"] = [_("Choose who does this task.")]
    elif owner.pk != getattr(staff, "pk", None):
        if not can(actor, ASSIGN_ROLES):
            errors["owner"] = [_("Only a supervisor can give tasks to colleagues.")]
        elif not owner.is_active:
            errors["owner"] = [_("%(name)s has left and cannot be given tasks.") % {"name": owner.name}]
        elif not _staff_in_scope(actor, owner):
            errors["owner"] = [_("Choose a colleague in your own org unit.")]
    if not title.strip():
        errors["title"] = [_("Give the task a title.")]
    if priority not in TaskPriority.values:
        errors["priority"] = [_("Choose a priority.")]
    if kind not in TaskKind.values:
        errors["kind"] = [_("Choose a kind of task.")]
    if due_on is None:
        errors["due_on"] = [_("Give a due date.")]
    else:
        errors.update(plan_date_errors({"due_on": due_on}))  # a task given today is due today or later
    if errors:
        raise ValidationError(errors)
    task = Task(
        owner=owner,
        title=title.strip()[:200],
        due_on=due_on,
        priority=priority,
        kind=kind,
        customer=customer or (opportunity.customer if opportunity else None),
        lead=lead,
        opportunity=opportunity,
        note=note.strip(),
        created_by=actor,
    )
    task.full_clean()
    task.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=task,
        customer_id=task.customer_id,
        after=snapshot(task, TASK_FIELDS),
    )
    return task


def _staff_in_scope(actor, person: Staff) -> bool:
    """A supervisor directs colleagues in their own subtree; admins and HQ anyone."""
    staff = staff_of(actor)
    if actor.is_superuser or (staff and (Role.ADMIN in staff.role_codes or staff.org_unit.is_root())):
        return True
    return staff is not None and person.org_unit.path.startswith(staff.org_unit.path)


def _finish(actor, task: Task, status: str, *, activity: Activity | None = None, note: str = "") -> Task:
    task.status = status
    task.done_at = timezone.now()
    task.done_by_activity = activity
    task.save(update_fields=["status", "done_at", "done_by_activity", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=task,
        customer_id=task.customer_id,
        before={"status": TaskStatus.OPEN},
        after={"status": status},
        note=note,
    )
    return task


def _open_task_for_update(actor, task: Task) -> Task:
    require_worker(actor)
    task = Task.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=task.pk).first()
    if task is None:
        raise Http404(_("Not found."))
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"status": [_("This task is already closed.")]})
    staff = staff_of(actor)
    if task.owner_id != staff.pk and not can(actor, ASSIGN_ROLES):
        raise PermissionDenied(_("Only the task's owner or a supervisor can close it."))
    return task


@transaction.atomic
def task_complete(actor, *, task: Task, activity: Activity | None = None) -> Task:
    """Mark a task done, optionally naming the activity that did it."""
    task = _open_task_for_update(actor, task)
    return _finish(actor, task, TaskStatus.DONE, activity=activity)


@transaction.atomic
def task_cancel(actor, *, task: Task, reason: str = "") -> Task:
    """Drop a task that no longer needs doing; the reason stays in the audit trail."""
    task = _open_task_for_update(actor, task)
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the task is cancelled.")]})
    return _finish(actor, task, TaskStatus.CANCELLED, note=reason.strip())


# --- handover ---------------------------------------------------------------------------------------
@transaction.atomic
def handover(
    actor,
    *,
    old_owner: Staff,
    new_owner: Staff,
    customer_ids: list[int] | None = None,
    note: str = "",
    disable_account: bool = True,
) -> Handover:
    """客户交接: move a manager's customers (or the chosen ones), their backup roles, open leads and
    opportunities, open tasks and open tickets to a colleague, in one transaction, then close the
    leaver's account if asked. Nothing stays with the old owner: see `queries.orphans`."""
    if not can(actor, ASSIGN_ROLES):
        raise PermissionDenied(_("Only a supervisor or an administrator can hand over a portfolio."))
    old_owner = Staff.objects.select_related("user", "org_unit").get(pk=old_owner.pk)
    new_owner = Staff.objects.select_related("user", "org_unit").get(pk=new_owner.pk)
    if not _staff_in_scope(actor, old_owner):
        raise Http404(_("Not found."))
    errors: dict[str, list[str]] = {}
    if new_owner.pk == old_owner.pk:
        errors["new_owner"] = [_("Hand over to someone else.")]
    elif not new_owner.is_active:
        errors["new_owner"] = [_("%(name)s has left and cannot be given customers.") % {"name": new_owner.name}]
    elif not _staff_in_scope(actor, new_owner):
        errors["new_owner"] = [_("Choose a colleague in your own org unit.")]
    if "new_owner" not in errors:
        moving = Customer.objects.filter(owner=old_owner)
        if customer_ids is not None:
            moving = moving.filter(pk__in=customer_ids)
        grades = list(moving.order_by().values_list("grade", flat=True).distinct())
        for name, messages in owner_checks(new_owner, grades, field="new_owner").items():
            errors.setdefault(name, []).extend(messages)
    if disable_account and customer_ids is not None:
        errors["disable_account"] = [_("Hand over the whole portfolio before disabling the account.")]
    elif disable_account and not can(actor, {Role.ADMIN}):
        errors["disable_account"] = [_("Only a system administrator can disable an account.")]
    if errors:
        raise ValidationError(errors)

    owned = Customer.objects.filter(owner=old_owner)
    backed = Customer.objects.filter(backup_owner=old_owner)
    if customer_ids is not None:
        owned, backed = owned.filter(pk__in=customer_ids), backed.filter(pk__in=customer_ids)
    counts = {"customers": 0, "backups": 0}
    events = []
    # Where the new owner already backs the customer up, the backup seat empties (owner ≠ backup).
    for customer in owned.select_for_update().order_by("pk"):
        before = {"owner": old_owner.pk, "backup_owner": customer.backup_owner_id}
        after = {
            "owner": new_owner.pk,
            "backup_owner": None if customer.backup_owner_id == new_owner.pk else customer.backup_owner_id,
        }
        events.append(_owner_event(actor, customer, before, after, note))
        counts["customers"] += 1
    owned_ids = [event.customer_id for event in events]
    Customer.objects.filter(pk__in=owned_ids, backup_owner=new_owner).update(backup_owner=None, **bump())
    Customer.objects.filter(pk__in=owned_ids).update(owner=new_owner, updated_at=timezone.now(), **bump())
    for customer in backed.select_for_update().order_by("pk"):
        after = None if customer.owner_id == new_owner.pk else new_owner.pk
        events.append(_owner_event(actor, customer, {"backup_owner": old_owner.pk}, {"backup_owner": after}, note))
        counts["backups"] += 1
    Customer.objects.filter(pk__in=backed.values("pk"), owner=new_owner).update(backup_owner=None, **bump())
    Customer.objects.filter(pk__in=backed.values("pk")).update(
        backup_owner=new_owner, updated_at=timezone.now(), **bump()
    )
    AuditEvent.objects.bulk_create(events, batch_size=1000)

    tasks = Task.objects.open().filter(owner=old_owner)
    if customer_ids is not None:
        tasks = tasks.filter(customer_id__in=customer_ids)
    counts["tasks"] = tasks.update(owner=new_owner, updated_at=timezone.now())
    # Leads and opportunities (sales), open tickets (service): each app moves and audits its own.
    for partner in (sales_services.handover, service_services.handover):
        moved = partner(actor, old_owner=old_owner, new_owner=new_owner, customer_ids=customer_ids, note=note)
        counts.update({str(key): int(value) for key, value in moved.items()})
    result = Handover.objects.create(
        old_owner=old_owner,
        new_owner=new_owner,
        note=note.strip()[:500],
        counts=counts,
        all_customers=customer_ids is None,
        account_disabled=disable_account,
        created_by=actor,
    )
    record(
        actor=actor,
        action=AuditAction.HANDOVER,
        target=result,
        customer_id=None,
        before={"owner": old_owner.pk},
        after={"owner": new_owner.pk, **counts},
        note=note,
    )
    if disable_account:
        staff_deactivate(actor=actor, staff=old_owner)
    coverage_refresh_later([old_owner.pk, new_owner.pk])
    return result


def _owner_event(actor, customer: Customer, before: dict, after: dict, note: str) -> AuditEvent:
    """The same ownership event customer_update writes, built for one bulk insert."""
    return AuditEvent(
        actor=actor,
        action=AuditAction.OWNER,
        target_type=Customer._meta.label_lower,
        target_id=customer.pk,
        target_repr=str(customer)[:200],
        customer_id=customer.pk,
        before=before,
        after=after,
        note=(_("Handover: %(note)s") % {"note": note} if note else _("Handover"))[:500],
    )


# --- the daily job ----------------------------------------------------------------------------------
GENERATE_CHUNK = 5000


def generate_visit_tasks(today: date) -> int:
    """Give every owner a visit task for each served customer whose grade's current period has neither a
    visit task nor the visits it owes yet. Idempotent: the unique (customer, period) constraint and the
    NOT EXISTS filter make a second run add nothing. Generated by the system, so not audited row by row."""

    created = 0
    with translation.override(settings.LANGUAGE_CODE):
        for standard in VisitStandard.objects.all():
            start, end = standard.period(today)
            has_task = Task.objects.filter(customer=OuterRef("pk"), standard_period=start)
            due = (
                Customer.objects.filter(grade=standard.grade, status__in=SERVED_STATUSES, owner__isnull=False)
                .filter(~Exists(has_task))
                .annotate(visits=visits_since(local_midnight(start)))
                .filter(visits__lt=standard.visits)
                .order_by()
                .values_list("pk", "owner_id", "name")
            )
            priority = TaskPriority.HIGH if standard.grade.startswith("A") else TaskPriority.NORMAL
            batch: list[Task] = []
            for pk, owner_id, name in due.iterator(chunk_size=GENERATE_CHUNK):
                batch.append(
                    Task(
                        owner_id=owner_id,
                        customer_id=pk,
                        kind=TaskKind.VISIT,
                        priority=priority,
                        title=(_("Visit %(customer)s") % {"customer": name})[:200],
                        due_on=end,
                        standard_period=start,
                    )
                )
                if len(batch) >= GENERATE_CHUNK:
                    created += len(Task.objects.bulk_create(batch, ignore_conflicts=True))
                    batch = []
            created += len(Task.objects.bulk_create(batch, ignore_conflicts=True))
    return created


def send_digests(today: date) -> int:
    """One inbox digest per manager with something on today's agenda: tasks due today, overdue tasks and
    key persons' birthdays. Keyed by day, so a second run delivers nothing new."""

    counts: dict[int, dict[str, int]] = {}
    tasks = (
        Task.objects.filter(status=TaskStatus.OPEN, due_on__lte=today, owner__user__is_active=True)
        .order_by()
        .values("owner")
        .annotate(today=Count("pk", filter=Q(due_on=today)), overdue=Count("pk", filter=Q(due_on__lt=today)))
    )
    for row in tasks:
        counts[row["owner"]] = {"today": row["today"], "overdue": row["overdue"], "birthdays": 0}
    birthdays = (
        Contact.objects.filter(
            birthday__month=today.month,
            birthday__day=today.day,
            customer__owner__isnull=False,
            customer__owner__user__is_active=True,
        )
        .order_by()
        .values("customer__owner")
        .annotate(n=Count("pk"))
    )
    for row in birthdays:
        counts.setdefault(row["customer__owner"], {"today": 0, "overdue": 0, "birthdays": 0})["birthdays"] = row["n"]
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        url = reverse("work:agenda")
        # A holiday is everyone's care occasion: greetings go out to key persons that day.
        body = "、".join(name for _day, name in holidays_between(today, today))
        for owner_id, n in sorted(counts.items()):
            sent += notify(
                [owner_id],
                kind="digest",
                title=_("Today: %(today)d tasks due, %(overdue)d overdue, %(birthdays)d birthdays") % n,
                body=body,
                url=url,
                key=f"work:digest:{today.isoformat()}",
            )
    return sent


# --- the inbox --------------------------------------------------------------------------------------
def notification_read(actor, *, pk: int):
    """Mark one of the actor's own notifications read; anyone else's answers like a missing one."""
    notification = Notification.objects.filter(recipient=actor, pk=pk).first()
    if notification is None:
        raise Http404(_("Not found."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_read_all(actor) -> int:
    return Notification.objects.filter(recipient=actor).unread().update(read_at=timezone.now())


# --- visit coverage kept per manager (decision 0605) ------------------------------------------------------
def coverage_refresh(today: date, owner_ids=None) -> int:
    """Recompute the coverage rows (CoverageSummary) of these managers, or of everyone (the nightly rebuild),
    with the page's own definition (`queries.coverage`): one aggregate over their customers, one DELETE, one
    INSERT. Returns the rows written."""
    from . import queries

    owners = Staff.objects.all() if owner_ids is None else Staff.objects.filter(pk__in=[i for i in owner_ids if i])
    now = timezone.now()
    rows = [
        CoverageSummary(owner_id=row.owner_id, owed=row.owed, done=row.done, as_of=today, refreshed_at=now)
        for row in queries.coverage(owners, today)
    ]
    with transaction.atomic():
        stale = CoverageSummary.objects.all() if owner_ids is None else CoverageSummary.objects.filter(owner__in=owners)
        stale.delete()
        CoverageSummary.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def coverage_refresh_later(owner_ids) -> None:
    """After the current transaction commits: the coverage rows of these managers (a visit, a handover, a
    customer's lifecycle change). Cheap: one manager's portfolio each. Nothing to do before the first rebuild."""
    owner_ids = sorted({i for i in owner_ids if i})

    def refresh() -> None:
        if CoverageSummary.objects.exists():
            coverage_refresh(timezone.localdate(), owner_ids)

    if owner_ids:
        transaction.on_commit(refresh)
