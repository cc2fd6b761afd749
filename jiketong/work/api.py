"""REST endpoints for managers' work: activities, tasks, the agenda, the inbox, compliance and handovers.

Handlers only translate between JSON and queries/services: reads are scoped (out of scope answers 404
like missing), writes go through the services (rules, permissions, audit).
"""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, Page, from_attr, resolve_ids
from jiketong.customers.models import Contact, Customer
from jiketong.org.models import Role, Staff, can, staff_of
from jiketong.sales.models import Lead, Opportunity

from . import queries, services

router = Router(tags=["work"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
REPORT_ROLES = {Role.SUPERVISOR, Role.ADMIN}


def _require_reports(user) -> None:
    if not can(user, REPORT_ROLES):
        raise PermissionDenied(_("Compliance reports and handovers are for supervisors."))


# --- activities -------------------------------------------------------------------------------------
class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    happened_at: datetime
    customer: int | None = from_attr("customer_id", None)
    lead: int | None = from_attr("lead_id", None)
    opportunity: int | None = from_attr("opportunity_id", None)
    owner: int = from_attr("owner_id", description="Staff id of whoever recorded it.")
    notes: str
    outcome: str
    next_step: str


class ActivityIn(Schema):
    kind: str = "visit"
    subject: str = ""
    happened_at: datetime | None = Field(None, description="Defaults to now.")
    customer: int | None = None
    lead: int | None = None
    opportunity: int | None = None
    contacts: list[int] = Field(default_factory=list, description="Contact ids of the customer.")
    staff: list[int] = Field(default_factory=list, description="Staff ids of colleagues present.")
    notes: str = ""
    outcome: str = ""
    next_step: str = ""
    next_step_on: date | None = Field(None, description="With a date, the next step becomes a follow-up task.")


class ActivityFilterIn(Schema):
    kind: str = ""
    customer: Id | None = None
    mine: bool = False


@router.get("/activities", response={200: list[ActivityOut], 400: ErrorOut}, summary="List activities")
@paginate(Page)
def activity_list(request, filters: Query[ActivityFilterIn]):
    return queries.activity_list(request.user, kind=filters.kind, customer_id=filters.customer, mine=filters.mine)


@router.post("/activities", response={201: ActivityOut, **ERRORS}, summary="Record an activity")
def activity_create(request, payload: ActivityIn):
    user = request.user
    missing = _("There is no such record.")
    data = resolve_ids(
        payload.model_dump(),
        {
            "customer": (Customer.objects.visible_to(user), missing),
            "lead": (Lead.objects.visible_to(user), missing),
            "opportunity": (Opportunity.objects.visible_to(user), missing),
        },
    )
    data["contacts"] = list(Contact.objects.visible_to(user).filter(pk__in=data["contacts"]))
    data["staff"] = list(Staff.objects.visible_to(user).select_related("user").filter(pk__in=data["staff"]))
    return Status(201, services.activity_create(user, **data))


@router.get("/activities/{activity_id}", response={200: ActivityOut, **ERRORS}, summary="Get an activity")
def activity_get(request, activity_id: Id):
    return queries.activity_get(request.user, activity_id)


# --- tasks ------------------------------------------------------------------------------------------
class TaskOut(Schema):
    id: int
    title: str
    due_on: date
    priority: str
    status: str
    kind: str
    owner: int = from_attr("owner_id")
    customer: int | None = from_attr("customer_id", None)
    lead: int | None = from_attr("lead_id", None)
    opportunity: int | None = from_attr("opportunity_id", None)
    standard_period: date | None = Field(None, description="First day of the visit-standard period, if generated.")
    done_at: datetime | None
    done_by_activity: int | None = from_attr("done_by_activity_id", None)
    note: str


class TaskIn(Schema):
    title: str
    due_on: date
    priority: str = "normal"
    kind: str = "follow_up"
    owner: int | None = Field(None, description="Staff id; defaults to the caller. Others need a supervisor.")
    customer: int | None = None
    note: str = ""


class TaskFilterIn(Schema):
    status: str = Field("open", description="open, done, cancelled, or empty for all.")
    kind: str = ""
    due: str = Field("", description="overdue, today or week.")
    everyone: bool = Field(False, description="Everyone the caller oversees, not only the caller's own.")


class CancelIn(Schema):
    reason: str


@router.get("/tasks", response={200: list[TaskOut], 400: ErrorOut}, summary="List tasks")
@paginate(Page)
def task_list(request, filters: Query[TaskFilterIn]):
    return queries.task_list(
        request.user, status=filters.status, kind=filters.kind, due=filters.due, mine=not filters.everyone
    )


@router.post("/tasks", response={201: TaskOut, **ERRORS}, summary="Create a task")
def task_create(request, payload: TaskIn):
    user = request.user
    data = resolve_ids(
        payload.model_dump(),
        {
            "owner": (
                Staff.objects.visible_to(user).select_related("user", "org_unit"),
                _("There is no staff member with this id."),
            ),
            "customer": (Customer.objects.visible_to(user), _("There is no customer with this id.")),
        },
    )
    owner = data.pop("owner") or staff_of(user)
    return Status(201, services.task_create(user, owner=owner, **data))


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="Get a task")
def task_get(request, task_id: Id):
    return queries.task_get(request.user, task_id)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **ERRORS}, summary="Mark a task done")
def task_complete(request, task_id: Id):
    return services.task_complete(request.user, task=queries.task_get(request.user, task_id))


@router.post("/tasks/{task_id}/cancel", response={200: TaskOut, **ERRORS}, summary="Cancel a task")
def task_cancel(request, task_id: Id, payload: CancelIn):
    return services.task_cancel(request.user, task=queries.task_get(request.user, task_id), reason=payload.reason)


# --- agenda -----------------------------------------------------------------------------------------
class AgendaItemOut(Schema):
    day: date
    kind: str = Field(..., description="birthday, date, anniversary, holiday, contract, task or overdue.")
    title: str
    url: str
    customer: str


@router.get("/agenda", response={200: list[AgendaItemOut], **ERRORS}, summary="The caller's care agenda")
def agenda(request, start: date | None = None, days: int = 30):
    days = max(1, min(days, 92))
    grouped = queries.agenda(request.user, start or timezone.localdate(), days)
    return [item for _day, items in grouped for item in items]


# --- notifications ----------------------------------------------------------------------------------
class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    customer_id: int | None
    created_at: datetime
    read_at: datetime | None


class ReadAllOut(Schema):
    marked: int


@router.get("/notifications", response={200: list[NotificationOut]}, summary="The caller's inbox")
@paginate(Page)
def notification_list(request, unread: bool = False):
    return queries.notifications_of(request.user, unread=unread)


@router.post(
    "/notifications/{notification_id}/read", response={200: NotificationOut, **ERRORS}, summary="Mark one read"
)
def notification_read(request, notification_id: Id):
    return services.notification_read(request.user, pk=notification_id)


@router.post("/notifications/read-all", response={200: ReadAllOut}, summary="Mark the whole inbox read")
def notification_read_all(request):
    return {"marked": services.notifications_read_all(request.user)}


# --- compliance -------------------------------------------------------------------------------------
class CoverageOut(Schema):
    owner_id: int
    owner_name: str
    owed: int
    done: int
    rate: float | None


class StaleOut(Schema):
    kind: str
    id: int
    name: str
    owner: int | None


class AbsentOut(Schema):
    id: int = from_attr("user_id")
    name: str
    username: str = from_attr("user.username")
    last_login: datetime | None = from_attr("user.last_login")
    last_seen: datetime


@router.get("/compliance/coverage", response={200: list[CoverageOut], **ERRORS}, summary="Visit coverage")
def coverage(request):
    _require_reports(request.user)
    return queries.coverage(queries.overseen_staff(request.user), timezone.localdate())


@router.get("/compliance/follow-ups", response={200: list[StaleOut], **ERRORS}, summary="Follow-ups overdue")
@paginate(Page)
def follow_ups(request):
    _require_reports(request.user)
    now = timezone.now()
    leads = [
        {"kind": "lead", "id": lead.pk, "name": lead.name, "owner": lead.owner_id}
        for lead in queries.stale_leads(request.user, now)
    ]
    opportunities = [
        {"kind": "opportunity", "id": opp.pk, "name": opp.name, "owner": opp.owner_id}
        for opp in queries.stale_opportunities(request.user, now)
    ]
    return leads + opportunities


@router.get("/compliance/logins", response={200: list[AbsentOut], **ERRORS}, summary="No login for two weeks")
@paginate(Page)
def absent_users(request):
    _require_reports(request.user)
    return queries.absent_users(request.user, timezone.now())


# --- handovers --------------------------------------------------------------------------------------
class HandoverOut(Schema):
    id: int
    old_owner: int = from_attr("old_owner_id")
    new_owner: int = from_attr("new_owner_id")
    note: str
    counts: dict[str, int]
    all_customers: bool
    account_disabled: bool
    created_at: datetime


class HandoverIn(Schema):
    old_owner: int
    new_owner: int
    customer_ids: list[int] | None = Field(None, description="Only these customers; null for the whole portfolio.")
    note: str = ""
    disable_account: bool = True


class OrphansOut(Schema):
    counts: dict[str, int]


@router.get("/handovers", response={200: list[HandoverOut]}, summary="List handovers")
@paginate(Page)
def handover_list(request):
    return queries.handovers_visible(request.user)


@router.post("/handovers", response={201: HandoverOut, **ERRORS}, summary="Hand a portfolio over")
def handover_create(request, payload: HandoverIn):
    _require_reports(request.user)
    staff = queries.overseen_staff(request.user).select_related("user", "org_unit")
    message = _("There is no staff member with this id.")
    owners = resolve_ids(
        payload.model_dump(include={"old_owner", "new_owner"}),
        {"old_owner": (staff, message), "new_owner": (staff, message)},
    )
    result = services.handover(
        request.user,
        **owners,
        customer_ids=payload.customer_ids,
        note=payload.note,
        disable_account=payload.disable_account,
    )
    return Status(201, result)


@router.get("/handovers/orphans", response={200: OrphansOut, **ERRORS}, summary="Records left with leavers")
def orphans(request):
    _require_reports(request.user)
    return {"counts": {name: queryset.count() for name, queryset in queries.orphans(request.user).items()}}
