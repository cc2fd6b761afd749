"""Every write of the defence app: the board's facts, defence plans and retention cases with their
countermeasures and outcomes, the attack log and the win-back list (docs/defence.md, decision 0801)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.events import emit
from jiketong.core.models import AuditAction
from jiketong.core.notes import stored
from jiketong.customers.models import CompetitorPresence, Customer, LifecycleStatus, ThreatLevel
from jiketong.customers.services import require_edit, require_scope
from jiketong.deals.models import IN_FORCE, Contract
from jiketong.org.models import Role, Staff, can, staff_of
from jiketong.work.models import Activity, ActivityKind, TaskStatus

from .models import (
    Attack,
    Countermeasure,
    CountermeasureStatus,
    Outcome,
    Plan,
    PlanKind,
    PlanStatus,
    Threat,
    WinBack,
)

# A rival's contract ending within this many days puts the customer on the board (DOMAIN §6: 90 days).
WINDOW_DAYS = 90
# A competitor's action logged within this many days still counts as a threat.
ATTACK_DAYS = 90
# Value at risk = a year of the newest month's revenue × the weight of the threat level (docs/defence.md).
DEFAULT_WEIGHTS = {ThreatLevel.HIGH: Decimal("1"), ThreatLevel.MEDIUM: Decimal("0.5"), ThreatLevel.LOW: Decimal("0.2")}
RANK = {ThreatLevel.LOW: 1, ThreatLevel.MEDIUM: 2, ThreatLevel.HIGH: 3}
CHUNK = 2000
NOT_DEFENDED = (LifecycleStatus.PROSPECT, LifecycleStatus.CHURNED)  # not ours (yet, or any more)
PLAN_FIELDS = ["kind", "competitor", "owner", "due_on", "goal", "status"]
OUTCOME_FIELDS = ["status", "outcome", "lost_to", "lost_product", "revenue_kept", "revenue_lost", "closed_on"]
COUNTERMEASURE_FIELDS = ["kind", "description", "owner", "due_on", "status", "done_on"]
ATTACK_FIELDS = ["competitor", "kind", "description", "threat", "members_targeted", "observed_on"]


def weights() -> dict[str, Decimal]:
    """Threat level → share of a year's revenue at risk (setting `DEFENCE_THREAT_WEIGHTS`)."""
    configured = getattr(settings, "DEFENCE_THREAT_WEIGHTS", {})
    return {level: Decimal(str(configured.get(level, weight))) for level, weight in DEFAULT_WEIGHTS.items()}


# --- the board's facts ---------------------------------------------------------------------------
def latest_month() -> date | None:
    return CustomerMonth.objects.order_by("-period").values_list("period", flat=True).first()


def _candidate_ids(today: date) -> set[int]:
    """Customers a rival threatens today: a presence of medium or high threat, a rival's contract ending in the
    window, or an action logged recently (in service or warned only: prospects and 离网 are not defended)."""
    window = today + timedelta(days=WINDOW_DAYS)
    ids = set(
        CompetitorPresence.objects.filter(threat__in=[ThreatLevel.HIGH, ThreatLevel.MEDIUM]).values_list(
            "customer_id", flat=True
        )
    )
    ids |= set(
        CompetitorPresence.objects.filter(contract_end__gte=today, contract_end__lte=window).values_list(
            "customer_id", flat=True
        )
    )
    ids |= set(
        Attack.objects.filter(observed_on__gte=today - timedelta(days=ATTACK_DAYS)).values_list(
            "customer_id", flat=True
        )
    )
    return ids


def _rows_for(chunk: list[int], today: date, period: date | None) -> tuple[list[Threat], set[int]]:
    """The board rows of a chunk of customers (a few queries per chunk) and the ids that no longer qualify."""
    window = today + timedelta(days=WINDOW_DAYS)
    defended = set(Customer.objects.filter(pk__in=chunk).exclude(status__in=NOT_DEFENDED).values_list("pk", flat=True))
    entries: dict[int, list[tuple]] = defaultdict(list)  # (rank, competitor, offer, contract_end, qualifies)
    for customer_id, competitor, products, end, threat in CompetitorPresence.objects.filter(
        customer_id__in=defended
    ).values_list("customer_id", "competitor", "products", "contract_end", "threat"):
        ending = end is not None and today <= end <= window
        qualifies = threat != ThreatLevel.LOW or ending
        entries[customer_id].append((RANK[threat], competitor, products, end, qualifies))
    for customer_id, competitor, description, threat in (
        Attack.objects.filter(customer_id__in=defended, observed_on__gte=today - timedelta(days=ATTACK_DAYS))
        .order_by("customer_id", "observed_on", "id")
        .values_list("customer_id", "competitor", "description", "threat")
    ):
        entries[customer_id].append((RANK[threat], competitor, description, None, True))
    qualified = [pk for pk in chunk if any(e[4] for e in entries.get(pk, []))]
    months = {}
    if period is not None:
        months = {
            pk: (revenue, members)
            for pk, revenue, members in CustomerMonth.objects.filter(
                customer_id__in=qualified, period=period
            ).values_list("customer_id", "revenue", "members")
        }
    ours = dict(
        Contract.objects.filter(customer_id__in=qualified, status__in=IN_FORCE, end_on__gte=today)
        .values("customer_id")
        .annotate(end=Min("end_on"))
        .values_list("customer_id", "end")
        .order_by()
    )
    visits = dict(
        Activity.objects.filter(customer_id__in=qualified, kind=ActivityKind.VISIT)
        .values("customer_id")
        .annotate(last=Max("happened_at"))
        .values_list("customer_id", "last")
        .order_by()
    )
    units = dict(Customer.objects.filter(pk__in=qualified).values_list("pk", "org_unit_id"))
    weight = weights()
    level_of = {rank: level for level, rank in RANK.items()}
    rows = []
    for pk in qualified:
        found = entries[pk]
        # The most dangerous rival: highest threat, the latest-logged entry winning a tie (attacks are last).
        top = max(enumerate(found), key=lambda item: (item[1][0], item[0]))[1]
        level = level_of[top[0]]
        ends = sorted(e[3] for e in found if e[3] is not None and e[3] >= today)
        revenue, members = months.get(pk, (Decimal(0), 0))
        visit = visits.get(pk)
        rows.append(
            Threat(
                customer_id=pk,
                org_unit_id=units.get(pk),
                level=level,
                competitor=top[1],
                offer=(top[2] or "")[:200],
                competitors=len({e[1] for e in found}),
                their_contract_end=ends[0] if ends else None,
                our_contract_end=ours.get(pk),
                revenue=revenue,
                members=members,
                last_visit=timezone.localtime(visit).date() if visit else None,
                value_at_risk=(revenue * 12 * weight[level]).quantize(Decimal("0.01")),
                refreshed_at=timezone.now(),
            )
        )
    return rows, set(chunk) - set(qualified)


THREAT_FIELDS = [
    "org_unit", "level", "competitor", "offer", "competitors", "their_contract_end", "our_contract_end", "revenue",
    "members", "last_visit", "value_at_risk", "refreshed_at",
]  # fmt: skip


def threats_refresh(customer_ids: Iterable[int] | None = None, *, today: date | None = None) -> int:
    """Rebuild the board's rows of these customers (all threatened ones when None, at night): a customer that
    no longer qualifies leaves the board. Set-based per chunk; returns the rows on the board afterwards for
    those customers."""
    today = today or timezone.localdate()
    period = latest_month()
    if customer_ids is None:
        ids = sorted(_candidate_ids(today))
        gone = set(Threat.objects.values_list("customer_id", flat=True)) - set(ids)
    else:
        ids, gone = sorted(set(customer_ids)), set()
    kept = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows, dropped = _rows_for(chunk, today, period)
        with transaction.atomic():
            Threat.objects.filter(customer_id__in=dropped).delete()
            Threat.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["customer"], update_fields=THREAT_FIELDS
            )
        kept += len(rows)
    gone_ids = sorted(gone)
    for start in range(0, len(gone_ids), CHUNK):
        Threat.objects.filter(customer_id__in=gone_ids[start : start + CHUNK]).delete()
    return kept


# --- the attack log --------------------------------------------------------------------------------
@transaction.atomic
def attack_record(
    *,
    actor,
    customer: Customer,
    competitor: str,
    kind: str,
    description: str,
    threat: str,
    observed_on: date,
    members_targeted: int | None = None,
) -> Attack:
    """Log a competitor's action seen at a customer; the board follows, and a high threat tells the owner and
    the nearest supervisor (once per customer and competitor)."""
    require_edit(actor)
    require_scope(actor, customer.pk)
    attack = Attack(
        customer=customer,
        competitor=competitor,
        kind=kind,
        description=" ".join((description or "").split()),
        threat=threat,
        observed_on=observed_on,
        members_targeted=members_targeted,
        observed_by=staff_of(actor),
    )
    errors = {}
    if observed_on and observed_on > timezone.localdate():
        errors["observed_on"] = [_("An action cannot be observed in the future.")]
    try:
        attack.full_clean(exclude=list(errors))
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    attack.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=attack,
        customer_id=customer.pk,
        after=snapshot(attack, ATTACK_FIELDS),
    )
    emit("competitor.threat_recorded", customer_id=customer.pk, actor=actor, presence=None, attack=attack.pk,
         competitor=competitor, threat=threat, from_threat="", contract_end=None)  # fmt: skip
    return attack


# --- plans and retention cases ---------------------------------------------------------------------
def _owner_errors(owner: Staff | None, customer_id: int) -> list[str]:
    if owner is None:
        return [_("Choose who owns it.")]
    if not owner.is_active:
        return [_("This person has left; choose someone active.")]
    if not Customer.objects.visible_to(owner.user).filter(pk=customer_id).exists():
        return [_("This person cannot see the customer; choose someone who looks after it.")]
    return []


def _revenue_now(customer_id: int) -> Decimal:
    period = latest_month()
    if period is None:
        return Decimal(0)
    row = CustomerMonth.objects.filter(customer_id=customer_id, period=period).values_list("revenue", flat=True)
    return row.first() or Decimal(0)


@transaction.atomic
def plan_open(
    *,
    actor,
    customer: Customer,
    due_on: date,
    kind: str = PlanKind.DEFENCE,
    competitor: str = "",
    owner: Staff | None = None,
    goal: str = "",
    task=None,
) -> Plan:
    """Open a defence plan (or a retention case) for a customer: one open plan of each kind per customer. The
    owner defaults to the customer's manager; the revenue at stake is the newest month's."""
    require_edit(actor)
    require_scope(actor, customer.pk)
    Customer.objects.select_for_update().filter(pk=customer.pk).first()  # two clicks: one plan
    owner = owner or customer.owner or customer.backup_owner or staff_of(actor)
    plan = Plan(
        customer=customer,
        kind=kind,
        competitor=competitor or "",
        owner=owner,
        due_on=due_on,
        goal=goal or "",
        task=task,
        revenue_at_stake=_revenue_now(customer.pk),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    errors = {}
    if owner_errors := _owner_errors(owner, customer.pk):
        errors["owner"] = owner_errors
    if kind == PlanKind.DEFENCE and not competitor:
        errors["competitor"] = [_("Name the competitor this plan defends against.")]
    if Plan.objects.filter(customer=customer, kind=kind, status=PlanStatus.OPEN).exists():
        errors["kind"] = [_("This customer already has an open plan of this kind.")]
    try:
        plan.full_clean(exclude=list(errors), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    plan.save()
    record(
        actor=actor, action=AuditAction.CREATE, target=plan, customer_id=customer.pk, after=snapshot(plan, PLAN_FIELDS)
    )
    return plan


def _plan_for_update(actor, plan: Plan) -> Plan:
    require_edit(actor)
    require_scope(actor, plan.customer_id)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.OPEN:
        raise ValidationError({"status": [_("This plan is already closed.")]})
    return plan


@transaction.atomic
def countermeasure_add(
    *, actor, plan: Plan, kind: str, description: str, due_on: date, owner: Staff | None = None
) -> Countermeasure:
    """Add a step to an open plan: price, bundle, service, relationship or an executive visit."""
    plan = _plan_for_update(actor, plan)
    owner = owner or plan.owner
    item = Countermeasure(
        plan=plan, kind=kind, description=" ".join((description or "").split()), owner=owner, due_on=due_on
    )
    errors = {}
    if owner_errors := _owner_errors(owner, plan.customer_id):
        errors["owner"] = owner_errors
    try:
        item.full_clean(exclude=["plan", *errors])
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    item.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=item,
        customer_id=plan.customer_id,
        after=snapshot(item, COUNTERMEASURE_FIELDS),
    )
    return item


@transaction.atomic
def countermeasure_set_status(*, actor, countermeasure: Countermeasure, status: str) -> Countermeasure:
    """Mark a step done or dropped (or planned again) while its plan is open."""
    _plan_for_update(actor, countermeasure.plan)
    if status not in CountermeasureStatus.values:
        raise ValidationError({"status": [_("Choose one of the statuses offered.")]})
    before = snapshot(countermeasure, COUNTERMEASURE_FIELDS)
    countermeasure.status = status
    countermeasure.done_on = timezone.localdate() if status == CountermeasureStatus.DONE else None
    countermeasure.save(update_fields=["status", "done_on"])
    record_changes(
        actor=actor,
        target=countermeasure,
        customer_id=countermeasure.plan.customer_id,
        before=before,
        after=snapshot(countermeasure, COUNTERMEASURE_FIELDS),
    )
    return countermeasure


@transaction.atomic
def plan_close(
    *,
    actor,
    plan: Plan,
    outcome: str,
    lost_to: str = "",
    lost_product=None,
    revenue_kept: Decimal | None = None,
    revenue_lost: Decimal | None = None,
    note: str = "",
    closed_on: date | None = None,
) -> Plan:
    """Close a plan with its outcome (docs/defence.md, "Outcomes"): kept — the revenue kept defaults to the
    revenue at stake; lost — the revenue lost defaults to it, and whom it went to is required for a defence
    plan; partly lost — both figures and the rival are required. A retention case closes its task too."""
    plan = _plan_for_update(actor, plan)
    before = snapshot(plan, OUTCOME_FIELDS)
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("Choose how it ended.")]})
    stake = plan.revenue_at_stake
    if outcome == Outcome.KEPT:
        revenue_kept = stake if revenue_kept is None else revenue_kept
        revenue_lost = revenue_lost or Decimal(0)
        lost_to, lost_product = "", None
    elif outcome == Outcome.LOST:
        revenue_lost = stake if revenue_lost is None else revenue_lost
        revenue_kept = revenue_kept or Decimal(0)
    else:
        if revenue_kept is None:
            errors["revenue_kept"] = [_("Say how much monthly revenue was kept.")]
        if revenue_lost is None:
            errors["revenue_lost"] = [_("Say how much monthly revenue was lost.")]
    if outcome != Outcome.KEPT and plan.kind == PlanKind.DEFENCE and not lost_to:
        errors["lost_to"] = [_("Say which competitor took the business.")]
    for name, value in (("revenue_kept", revenue_kept), ("revenue_lost", revenue_lost)):
        if value is not None and value < 0 and name not in errors:
            errors[name] = [_("Revenue cannot be negative.")]
    closed_on = closed_on or timezone.localdate()
    if closed_on > timezone.localdate():
        errors["closed_on"] = [_("A plan cannot be closed in the future.")]
    if errors:
        raise ValidationError(errors)
    plan.status = PlanStatus.CLOSED
    plan.outcome = outcome
    plan.lost_to = lost_to or ""
    plan.lost_product = lost_product
    plan.revenue_kept = revenue_kept
    plan.revenue_lost = revenue_lost
    plan.outcome_note = note or ""
    plan.closed_on = closed_on
    plan.closed_by = actor if getattr(actor, "pk", None) else None
    plan.save()
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=plan,
        customer_id=plan.customer_id,
        before=before,
        after=snapshot(plan, OUTCOME_FIELDS),
        note=note,
    )
    _finish_task(actor, plan)
    return plan


def _finish_task(actor, plan: Plan) -> None:
    """A retention case closed by its task's owner or a supervisor completes the one-click task."""
    from jiketong.work.services import ASSIGN_ROLES, task_complete

    task = plan.task
    if task is None or task.status != TaskStatus.OPEN:
        return
    staff = staff_of(actor)
    if (staff is not None and task.owner_id == staff.pk) or can(actor, ASSIGN_ROLES):
        task_complete(actor, task=task)


def retention_case_for_task(*, actor, task) -> Plan | None:
    """The one-click retention task's case (reaction to `churn.retention_opened`): opened once per task; an open
    retention case without a task takes this one."""
    existing = Plan.objects.filter(task=task).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        open_case = (
            Plan.objects.select_for_update()
            .filter(customer_id=task.customer_id, kind=PlanKind.RETENTION, status=PlanStatus.OPEN)
            .first()
        )
        if open_case is not None:
            if open_case.task_id is None:
                open_case.task = task
                open_case.save(update_fields=["task", "updated_at"])
            return open_case
        plan = Plan.objects.create(
            customer_id=task.customer_id,
            kind=PlanKind.RETENTION,
            owner_id=task.owner_id,
            due_on=task.due_on,
            goal=task.note,
            task=task,
            revenue_at_stake=_revenue_now(task.customer_id),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        record(
            actor=actor,
            action=AuditAction.CREATE,
            target=plan,
            customer_id=task.customer_id,
            after=snapshot(plan, PLAN_FIELDS),
            note=stored(gettext_noop("Opened from the retention task")),
        )
    return plan


# --- win-back ----------------------------------------------------------------------------------------
def _last_products(customer_ids: list[int]) -> dict[int, tuple[str, Decimal]]:
    """Per customer: the products on its last bill (names) and that month's revenue."""
    last = dict(
        CustomerMonth.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(period=Max("period"))
        .values_list("customer_id", "period")
        .order_by()
    )
    revenue = {
        (pk, period): amount
        for pk, period, amount in CustomerMonth.objects.filter(
            customer_id__in=customer_ids, period__in=set(last.values())
        ).values_list("customer_id", "period", "revenue")
    }
    names: dict[int, list[str]] = defaultdict(list)
    for pk, period, name in (
        BillingFact.objects.filter(customer_id__in=customer_ids, period__in=set(last.values()))
        .order_by("customer_id", "-revenue", "product__name")
        .values_list("customer_id", "period", "product__name")
    ):
        if last.get(pk) == period and name not in names[pk]:
            names[pk].append(name)
    return {pk: ("、".join(names[pk])[:300], revenue.get((pk, last[pk]), Decimal(0))) for pk in last}


def _lost_to(customer_ids: list[int]) -> dict[int, str]:
    """Per customer: whom it was lost to (its latest lost plan), else its most dangerous rival on record."""
    found: dict[int, str] = {}
    for pk, threat, competitor in (
        CompetitorPresence.objects.filter(customer_id__in=customer_ids)
        .order_by("customer_id", "created_at")
        .values_list("customer_id", "threat", "competitor")
    ):
        if pk not in found or RANK[threat] >= RANK[found[pk][0]]:
            found[pk] = (threat, competitor)
    result = {pk: competitor for pk, (_threat, competitor) in found.items()}
    for pk, competitor in (
        Plan.objects.filter(customer_id__in=customer_ids, status=PlanStatus.CLOSED)
        .exclude(lost_to="")
        .order_by("customer_id", "closed_on", "id")
        .values_list("customer_id", "lost_to")
    ):
        result[pk] = competitor
    return result


def winbacks_open(customer_ids: list[int], churned_on: date) -> int:
    """Put churned customers on the win-back list (one open row each; already listed ones are left)."""
    listed = set(
        WinBack.objects.filter(customer_id__in=customer_ids, won_back_on__isnull=True).values_list(
            "customer_id", flat=True
        )
    )
    ids = [pk for pk in customer_ids if pk not in listed]
    if not ids:
        return 0
    products, rivals = _last_products(ids), _lost_to(ids)
    rows = [
        WinBack(
            customer_id=pk,
            churned_on=churned_on,
            last_products=products.get(pk, ("", 0))[0],
            last_revenue=products.get(pk, ("", Decimal(0)))[1],
            competitor=rivals.get(pk, ""),
        )
        for pk in ids
    ]
    WinBack.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def winback_won(customer_id: int, won_on: date) -> bool:
    """A churned customer back in service (离网 → 在网, e.g. an order completed): counted as won back."""
    return bool(WinBack.objects.filter(customer_id=customer_id, won_back_on__isnull=True).update(won_back_on=won_on))


def winbacks_sync(today: date) -> int:
    """Churned customers not yet listed (churned before the app existed, or set so by a person while a reaction
    was pending) join the list at night, in chunks; their churn day is the day of their last status change."""
    open_rows = WinBack.objects.filter(won_back_on__isnull=True).values("customer_id")
    missing = list(
        Customer.objects.filter(status=LifecycleStatus.CHURNED)
        .exclude(pk__in=open_rows)
        .order_by("pk")
        .values_list("pk", "updated_at")
    )
    added = 0
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start : start + CHUNK]
        by_day: dict[date, list[int]] = defaultdict(list)
        for pk, updated in chunk:
            by_day[min(timezone.localtime(updated).date(), today)].append(pk)
        with transaction.atomic():
            for day, ids in by_day.items():
                added += winbacks_open(ids, day)
    return added


def can_edit(user) -> bool:
    return can(user, Role.EDIT_ROLES)
