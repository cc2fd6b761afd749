"""Every write of campaigns: create, build the list, launch (split to managers), record responses, close.

A list is built set-based: one INSERT … SELECT per slice of customer ids (`BUILD_SLICE`), the progress kept on
the campaign between slices; past `CAMPAIGN_INLINE_TARGETS` customers the build runs in the task worker
(`build_task`). Launching gives each manager one task carrying all their targets of the campaign (decision
0901 says why not one per customer). A response is recorded by the target's manager or a supervisor; with it,
an interested customer becomes a lead (sales.services.lead_create) and a converted one an order (a quote at
the standard price, approved within the manager's own authority, then deals.services.order_create_from_quote),
in the same transaction.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, IntegerField, Max, Min, Sum, Value
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from jiketong.catalog.models import Product
from jiketong.core.audit import record, snapshot
from jiketong.core.models import AuditAction
from jiketong.core.money import yuan
from jiketong.core.notify import notify
from jiketong.customers.models import Customer, CustomerSource
from jiketong.org.models import Role, Staff, can, staff_of
from jiketong.org.queries import supervisors_for

from . import targeting
from .models import (
    Audience,
    Campaign,
    CampaignAssignment,
    CampaignResponse,
    CampaignStatus,
    CampaignTarget,
    MemberRule,
    TargetStatus,
)

CAMPAIGN_FIELDS = ["name", "goal", "starts_on", "ends_on", "budget", "owner", "org_unit", "audience", "criteria"]
# Campaigns are planned by supervisors (and admins) for the customers they oversee; managers work them.
PLAN_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
BUILD_SLICE = 20_000  # customer ids per INSERT … SELECT: the progress step of a big build
OUTCOMES = (TargetStatus.CONTACTED, TargetStatus.INTERESTED, TargetStatus.DECLINED, TargetStatus.CONVERTED)


def inline_targets() -> int:
    return getattr(settings, "CAMPAIGN_INLINE_TARGETS", 5000)


def require_planner(actor) -> Staff:
    staff = staff_of(actor)
    if staff is None or not can(actor, PLAN_ROLES):
        raise PermissionDenied(_("Only a supervisor can plan campaigns."))
    return staff


def _visible(actor, campaign: Campaign, *, for_update: bool = False) -> Campaign:
    queryset = Campaign.objects.visible_to(actor)
    if for_update:
        queryset = queryset.select_for_update()
    found = queryset.filter(pk=campaign.pk).first()
    if found is None:
        raise Http404(_("Not found."))
    return found


def _check_criteria(actor, audience: str, criteria: dict) -> dict:
    unknown = set(criteria) - set(targeting.CUSTOMER_KEYS) - set(targeting.EXTRA_KEYS)
    if unknown:
        raise ValidationError({"criteria": [_("Unknown filter: %(keys)s") % {"keys": ", ".join(sorted(unknown))}]})
    criteria = {key: value for key, value in criteria.items() if value not in (None, "")}
    if audience == Audience.MEMBERS:
        criteria.setdefault("member_rule", MemberRule.OFF_NET)
        if criteria["member_rule"] not in MemberRule.values:
            raise ValidationError({"member_rule": [_("Choose which members the campaign reaches.")]})
    else:
        criteria.pop("member_rule", None)
    try:
        targeting.customers(actor, criteria, audience)
    except (ValueError, LookupError) as exc:
        raise ValidationError({"criteria": [_("This filter is not valid: %(what)s") % {"what": exc}]}) from exc
    return criteria


@transaction.atomic
def campaign_create(
    *,
    actor,
    name: str,
    starts_on: date,
    ends_on: date,
    goal: str = "",
    budget: Decimal | int = 0,
    audience: str = Audience.CUSTOMERS,
    criteria: dict | None = None,
    products=(),
) -> Campaign:
    """A draft campaign owned by the planner, in their own org unit; its list is built by `targets_build`."""
    staff = require_planner(actor)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Give the campaign a name.")]
    if audience not in Audience.values:
        errors["audience"] = [_("Choose whom the campaign reaches.")]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("The campaign cannot end before it starts.")]
    if Decimal(budget or 0) < 0:
        errors["budget"] = [_("The budget cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    criteria = _check_criteria(actor, audience, dict(criteria or {}))
    campaign = Campaign(
        name=name.strip(), goal=goal.strip(), starts_on=starts_on, ends_on=ends_on, budget=yuan(Decimal(budget or 0)),
        owner=staff, org_unit=staff.org_unit, audience=audience, criteria=criteria, created_by=actor,
    )  # fmt: skip
    campaign.full_clean()
    campaign.save()
    campaign.products.set(products)
    record(actor=actor, action=AuditAction.CREATE, target=campaign, customer_id=None,
           after=snapshot(campaign, CAMPAIGN_FIELDS) | {"products": sorted(p.pk for p in products)})  # fmt: skip
    return campaign


# --- the list ---------------------------------------------------------------------------------------
def targets_build(*, actor, campaign: Campaign) -> bool:
    """Build (or rebuild) a draft's list. Small lists are built here and now (True); past
    CAMPAIGN_INLINE_TARGETS customers the task worker builds it and the page shows the progress (False)."""
    with transaction.atomic():
        campaign = _planned(actor, campaign)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.READY):
            raise ValidationError({"status": [_("The list of a launched campaign cannot be rebuilt.")]})
        selected = targeting.customers(campaign.owner.user, campaign.criteria, campaign.audience)
        big = selected.values("pk")[: inline_targets() + 1].count() > inline_targets()
        campaign.status, campaign.progress, campaign.message = CampaignStatus.BUILDING, 0, ""
        campaign.save(update_fields=["status", "progress", "message", "updated_at"])
        record(actor=actor, action=AuditAction.STATUS, target=campaign, customer_id=None,
               after={"status": CampaignStatus.BUILDING})  # fmt: skip
    if big:
        build_task.enqueue(campaign.pk)
        return False
    run_build(campaign.pk)
    return True


def _planned(actor, campaign: Campaign) -> Campaign:
    """The campaign locked, if the actor may plan it: its owner, or a planner above its org unit."""
    staff = require_planner(actor)
    campaign = _visible(actor, campaign, for_update=True)
    if campaign.owner_id != staff.pk and not (
        actor.is_superuser or Role.ADMIN in staff.role_codes or campaign.org_unit.path.startswith(staff.org_unit.path)
    ):
        raise PermissionDenied(_("Only the campaign's owner or a supervisor above it can change it."))
    return campaign


def _insert_slice(campaign: Campaign, low: int, high: int) -> None:
    """INSERT … SELECT the selected customers with ids in [low, high): one statement, no row in Python."""
    selected = targeting.customers(campaign.owner.user, campaign.criteria, campaign.audience)
    rows = (
        selected.filter(pk__gte=low, pk__lt=high)
        .annotate(
            t_campaign=Value(campaign.pk, output_field=IntegerField()),
            t_status=Value(TargetStatus.PENDING),
            t_revenue=Value(0, output_field=IntegerField()),
        )
        .values_list("t_campaign", "pk", "owner_id", "org_unit_id", "reached", "t_status", "t_revenue")
    )
    sql, params = rows.query.sql_with_params()
    table = CampaignTarget._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, customer_id, manager_id, org_unit_id, members, status, revenue) {sql}",
            params,
        )


# Declared next to the work it runs, so targets_build queues it without importing a module that imports this one
# back (docs/developing.md); campaigns.tasks.build keeps the path that builds queued before stay under.
@task()
def build_task(campaign_id: int) -> int:
    """A big target list, built by the task worker, never in a request."""
    campaign = run_build(campaign_id)
    return campaign.targets_count if campaign is not None else 0


def run_build(campaign_id: int) -> Campaign | None:
    """Build the list in slices of customer ids (the progress between them), then give unowned customers to
    the nearest supervisor of their unit. Idempotent: the draft's old list goes first."""
    campaign = Campaign.objects.select_related("owner__user", "org_unit").filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.BUILDING:
        return campaign
    try:
        with transaction.atomic():
            CampaignTarget.objects.filter(campaign=campaign).delete()
        selected = targeting.customers(campaign.owner.user, campaign.criteria, campaign.audience)
        span = selected.aggregate(low=Min("pk"), high=Max("pk"))
        if span["low"] is not None:
            low, high = span["low"], span["high"] + 1
            for start in range(low, high, BUILD_SLICE):
                with transaction.atomic():
                    _insert_slice(campaign, start, min(start + BUILD_SLICE, high))
                    done = min(99, (min(start + BUILD_SLICE, high) - low) * 100 // max(high - low, 1))
                    Campaign.objects.filter(pk=campaign.pk).update(progress=done, updated_at=timezone.now())
        with transaction.atomic():
            _assign_unowned(campaign)
            totals = CampaignTarget.objects.filter(campaign=campaign).aggregate(n=Count("pk"), members=Sum("members"))
            Campaign.objects.filter(pk=campaign.pk).update(
                status=CampaignStatus.READY, progress=100, targets_count=totals["n"] or 0,
                members_count=totals["members"] or 0, updated_at=timezone.now(),
            )  # fmt: skip
    except Exception as exc:
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DRAFT, message=str(exc)[:2000])
        raise
    campaign.refresh_from_db()
    return campaign


def _assign_unowned(campaign: Campaign) -> None:
    """A customer without a manager goes to the nearest supervisor up its unit's tree (org.queries)."""
    from jiketong.org.models import OrgUnit

    units = dict(
        OrgUnit.objects.filter(
            pk__in=CampaignTarget.objects.filter(campaign=campaign, manager__isnull=True).values("org_unit_id")
        ).values_list("pk", "path")
    )
    nearest = supervisors_for(set(units.values()))
    for unit_id, path in units.items():
        if nearest.get(path):  # a supervisor's staff row is keyed by their user id
            CampaignTarget.objects.filter(campaign=campaign, manager__isnull=True, org_unit_id=unit_id).update(
                manager_id=nearest[path][0]
            )


# --- launch -----------------------------------------------------------------------------------------
@transaction.atomic
def campaign_launch(*, actor, campaign: Campaign) -> int:
    """Start the campaign: each manager on the list gets one task with all their targets, due at the
    campaign's end, and a notification. Answers how many managers got one."""
    from jiketong.work.models import TaskKind, TaskPriority
    from jiketong.work.services import task_create

    campaign = _planned(actor, campaign)
    if campaign.status != CampaignStatus.READY:
        raise ValidationError({"status": [_("Build the list before launching the campaign.")]})
    if not campaign.targets_count:
        raise ValidationError({"status": [_("The list is empty: change the filter and build it again.")]})
    shares = list(
        CampaignTarget.objects.filter(campaign=campaign, manager__isnull=False)
        .values("manager_id").annotate(n=Count("pk")).order_by("manager_id")
    )  # fmt: skip
    managers = Staff.objects.in_bulk([share["manager_id"] for share in shares])
    url = reverse("campaigns:detail", args=[campaign.pk])
    due = max(campaign.ends_on, timezone.localdate())
    assignments = []
    for share in shares:
        manager = managers[share["manager_id"]]
        title = _("Campaign %(name)s: %(n)d customers to contact") % {"name": campaign.name, "n": share["n"]}
        task = None
        if manager.is_active:
            task = task_create(
                actor, owner=manager, title=title, due_on=due, kind=TaskKind.OTHER, priority=TaskPriority.NORMAL,
                note=f"{campaign.goal}\n{url}?mine=1".strip(),
            )  # fmt: skip
        assignments.append(CampaignAssignment(campaign=campaign, manager=manager, targets=share["n"], task=task))
    CampaignAssignment.objects.bulk_create(assignments)
    for assignment in assignments:
        notify([assignment.manager.user_id], kind="campaign", url=f"{url}?mine=1", key=f"campaign:{campaign.pk}",
               title=_("New campaign for you: %(name)s (%(n)d customers)") % {
                   "name": campaign.name, "n": assignment.targets})  # fmt: skip
    campaign.status, campaign.launched_at = CampaignStatus.ACTIVE, timezone.now()
    campaign.save(update_fields=["status", "launched_at", "updated_at"])
    after = {"status": CampaignStatus.ACTIVE, "managers": len(shares)}
    record(actor=actor, action=AuditAction.STATUS, target=campaign, customer_id=None,
           before={"status": CampaignStatus.READY}, after=after)  # fmt: skip
    return len(shares)


@transaction.atomic
def campaign_close(*, actor, campaign: Campaign) -> Campaign:
    campaign = _planned(actor, campaign)
    if campaign.status == CampaignStatus.CLOSED:
        return campaign
    before = campaign.status
    campaign.status = CampaignStatus.CLOSED
    campaign.save(update_fields=["status", "updated_at"])
    record(actor=actor, action=AuditAction.STATUS, target=campaign, customer_id=None,
           before={"status": before}, after={"status": CampaignStatus.CLOSED})  # fmt: skip
    return campaign


# --- responses --------------------------------------------------------------------------------------
def _target_for_update(actor, target: CampaignTarget) -> CampaignTarget:
    found = (
        CampaignTarget.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("campaign", "customer__org_unit")
        .filter(pk=target.pk)
        .first()
    )
    if found is None:
        raise Http404(_("Not found."))
    staff = staff_of(actor)
    if staff is None or not can(actor, Role.EDIT_ROLES):
        raise PermissionDenied(_("Your role may view campaigns but not record contacts."))
    if (
        found.manager_id != staff.pk
        and not can(actor, PLAN_ROLES)
        and found.customer.owner_id != staff.pk
        and (found.customer.backup_owner_id != staff.pk)
    ):
        raise PermissionDenied(_("Only the target's manager or a supervisor records its contacts."))
    return found


@transaction.atomic
def response_record(
    *,
    actor,
    target: CampaignTarget,
    outcome: str,
    note: str = "",
    make_lead: bool = False,
    products=(),
    quantity: int | None = None,
) -> CampaignResponse:
    """Record a contact and what the customer said. `make_lead` with an interested customer opens a lead
    (source 营销活动) for the manager; a converted customer orders the given products (default: the
    campaign's) at the standard price, `quantity` each (default: the members the campaign reaches, at
    least 1). Converted is final: a later contact is recorded but does not move the target back."""
    target = _target_for_update(actor, target)
    campaign = target.campaign
    staff = staff_of(actor)
    if campaign.status != CampaignStatus.ACTIVE:
        raise ValidationError({"outcome": [_("Contacts are recorded while the campaign runs.")]})
    if outcome not in OUTCOMES:
        raise ValidationError({"outcome": [_("Choose what the customer said.")]})
    if make_lead and outcome != TargetStatus.INTERESTED:
        raise ValidationError({"outcome": [_("A lead comes from an interested customer.")]})
    if make_lead and target.lead_id:
        raise ValidationError({"outcome": [_("This target already has a lead.")]})
    if outcome == TargetStatus.CONVERTED and target.order_id:
        raise ValidationError({"outcome": [_("This target has already ordered.")]})
    response = CampaignResponse.objects.create(target=target, outcome=outcome, note=note.strip()[:500],
                                               recorded_by=staff)  # fmt: skip
    before = {"status": target.status}
    now = timezone.now()
    target.contacted_at = target.contacted_at or now
    if target.status != TargetStatus.CONVERTED:
        target.status = outcome
    if make_lead:
        target.lead = _lead_for(actor, target, note)
    if outcome == TargetStatus.CONVERTED:
        order, value = _order_for(actor, target, list(products), quantity)
        target.order, target.revenue, target.converted_at = order, value, now
    target.save()
    after = {"status": target.status, "outcome": outcome, "lead": target.lead_id, "order": target.order_id}
    record(actor=actor, action=AuditAction.STATUS, target=target, customer_id=target.customer_id,
           before=before, after=after, note=note[:200])  # fmt: skip
    return response


def _lead_for(actor, target: CampaignTarget, note: str):
    from jiketong.sales.services import lead_create

    customer: Customer = target.customer
    campaign = target.campaign
    names = "、".join(campaign.products.values_list("name", flat=True))
    need = _("Campaign %(name)s: %(products)s") % {"name": campaign.name, "products": names or campaign.goal}
    owner = target.manager if target.manager_id and target.manager_id != getattr(staff_of(actor), "pk", None) else None
    fields = {"owner": owner} if owner is not None and can(actor, PLAN_ROLES) else {}
    return lead_create(
        actor=actor, confirm_duplicates=True, source=CustomerSource.CAMPAIGN, name=customer.name,
        org_unit=customer.org_unit, industry=customer.industry, expected_size=customer.size,
        need=f"{need}\n{note}".strip(), **fields,
    )  # fmt: skip


def _order_for(actor, target: CampaignTarget, products: list[Product], quantity: int | None):
    """A quote at the standard price (within the manager's own authority, so approved at once) and its order."""
    from jiketong.deals import services as deals

    products = products or list(target.campaign.products.filter(is_active=True))
    if not products:
        raise ValidationError({"products": [_("Say which products the customer ordered.")]})
    quantity = quantity or max(target.members, 1)
    quote = deals.quote_create(actor=actor, customer=target.customer,
                               title=_("Campaign %(name)s") % {"name": target.campaign.name})  # fmt: skip
    for product in products:
        per_member = product.billing_unit == "per_member"
        deals.quote_line_save(actor=actor, quote=quote, product=product, quantity=quantity if per_member else 1,
                              offered_price=product.standard_price)  # fmt: skip
    quote = deals.quote_submit(actor=actor, quote=quote)
    if quote.status != "approved":
        raise ValidationError({"products": [_("The order needs a discount approval: make it through a quote.")]})
    order = deals.order_create_from_quote(actor=actor, quote=quote)
    return order, yuan(quote.total)


def opportunity_won(*, opportunity_id: int, amount_monthly) -> int:
    """A lead from a campaign became an opportunity that was won: its target counts as converted with the
    opportunity's monthly amount (campaigns.reactions). Answers the targets changed (idempotent)."""
    from jiketong.sales.models import Lead

    leads = Lead.objects.filter(opportunity_id=opportunity_id).values("pk")
    targets = list(
        CampaignTarget.objects.select_for_update().filter(lead__in=leads).exclude(status=TargetStatus.CONVERTED)
    )
    now = timezone.now()
    for target in targets:
        before = {"status": target.status}
        target.status, target.revenue, target.converted_at = TargetStatus.CONVERTED, yuan(Decimal(amount_monthly)), now
        target.save(update_fields=["status", "revenue", "converted_at"])
        record(actor=None, action=AuditAction.STATUS, target=target, customer_id=target.customer_id, before=before,
               after={"status": TargetStatus.CONVERTED, "opportunity": opportunity_id})  # fmt: skip
    return len(targets)
