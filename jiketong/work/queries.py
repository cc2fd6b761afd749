"""Every read of managers' work, scoped to the user: lists, the 360 timeline, coverage of the visit
standard, the care agenda, compliance reports and the orphan check."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractDay, ExtractMonth, Least
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiketong.core.models import Notification
from jiketong.core.trees import subtree
from jiketong.customers.models import CompetitorPresence, Contact, ContactDate, Customer
from jiketong.deals import queries as deals_queries
from jiketong.org.models import Role, Staff, staff_of
from jiketong.sales.models import Lead, Opportunity
from jiketong.service.models import Ticket

from .holidays import holidays_between
from .models import (
    SERVED_STATUSES,
    Activity,
    CoverageSummary,
    Handover,
    Task,
    TaskStatus,
    VisitStandard,
    local_midnight,
    visits_since,
)

# DOMAIN §6: every open lead and opportunity gets a follow-up each month; users log in at least every
# two weeks.
FOLLOW_UP_DAYS = 30
NO_LOGIN_DAYS = 14
AGENDA_DAYS = 30


# --- activities and tasks ---------------------------------------------------------------------------
def activities_visible(user) -> QuerySet[Activity]:
    return Activity.objects.visible_to(user)


def activity_list(user, *, kind: str = "", customer_id: int | None = None, mine: bool = False):
    activities = activities_visible(user).select_related("customer", "owner", "lead", "opportunity")
    if kind:
        activities = activities.filter(kind=kind)
    if customer_id:
        activities = activities.filter(customer_id=customer_id)
    if mine:
        activities = activities.filter(owner_id=user.pk)
    return activities.order_by("-happened_at", "-id")


def activity_get(user, pk: int) -> Activity:
    return get_object_or_404(
        activities_visible(user).select_related("customer", "owner", "lead", "opportunity", "created_by"), pk=pk
    )


def lead_get(user, pk: int) -> Lead:
    return get_object_or_404(Lead.objects.visible_to(user).select_related("customer"), pk=pk)


def opportunity_get(user, pk: int) -> Opportunity:
    return get_object_or_404(Opportunity.objects.visible_to(user).select_related("customer"), pk=pk)


def tasks_visible(user) -> QuerySet[Task]:
    return Task.objects.visible_to(user)


def task_list(user, *, status: str = TaskStatus.OPEN, kind: str = "", due: str = "", mine: bool = True):
    """A manager's own tasks by default; supervisors may widen to everyone they see (`mine=False`)."""
    today = timezone.localdate()
    tasks = tasks_visible(user).select_related("customer", "owner")
    if mine:
        tasks = tasks.filter(owner_id=user.pk)
    if status:
        tasks = tasks.filter(status=status)
    if kind:
        tasks = tasks.filter(kind=kind)
    if due == "overdue":
        tasks = tasks.filter(due_on__lt=today, status=TaskStatus.OPEN)
    elif due == "today":
        tasks = tasks.filter(due_on=today)
    elif due == "week":
        tasks = tasks.filter(due_on__range=(today, today + timedelta(days=7)))
    return tasks.order_by("due_on", "id")


def task_get(user, pk: int) -> Task:
    return get_object_or_404(tasks_visible(user).select_related("customer", "owner", "done_by_activity"), pk=pk)


def customer_timeline(user, customer: Customer, limit: int = 10) -> tuple[list[Activity], list[Task]]:
    """The 360 panel: latest activities and open tasks of one (already visible) customer, two queries."""
    activities = list(
        activities_visible(user).filter(customer=customer).select_related("owner").order_by("-happened_at")[:limit]
    )
    tasks = list(tasks_visible(user).open().filter(customer=customer).select_related("owner")[:limit])
    return activities, tasks


def customer_contacts(user, customer_id: int) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).filter(customer_id=customer_id)


# --- coverage of the visit standard -----------------------------------------------------------------
@dataclass
class Coverage:
    owner_id: int
    owner_name: str
    owed: int
    done: int

    @property
    def rate(self) -> float | None:
        return self.done / self.owed if self.owed else None

    @property
    def percent(self) -> str:
        return f"{self.rate * 100:.1f}" if self.owed else ""


def coverage(owners: QuerySet[Staff], today: date) -> list[Coverage]:
    """Visits done / visits owed in each grade's current period, per manager, in one query: each served
    customer owes its grade's visits; a visit beyond what is owed does not make up for another customer."""
    standards = list(VisitStandard.objects.all())
    if not standards:
        return []
    period_start = Case(
        *[When(grade=s.grade, then=Value(local_midnight(s.period(today)[0]))) for s in standards],
        output_field=DateTimeField(),
    )
    owed = Case(*[When(grade=s.grade, then=Value(s.visits)) for s in standards], default=0, output_field=IntegerField())
    rows = (
        Customer.objects.filter(owner__in=owners.values("pk"), status__in=SERVED_STATUSES)
        .annotate(period_start=period_start, owes=owed, visits=visits_since(OuterRef("period_start")))
        .order_by()
        .values("owner", "owner__name")
        .annotate(owed=Sum("owes"), done=Sum(Least("visits", "owes")))
        .order_by("owner__name")
    )
    return [Coverage(row["owner"], row["owner__name"], row["owed"] or 0, row["done"] or 0) for row in rows]


def coverage_kept(owners: QuerySet[Staff]):
    """The coverage page's rows from the kept figures (CoverageSummary: one row per manager, decision 0605),
    by manager name, as `Coverage` rows; None when they were never computed (then the page counts live)."""
    if not CoverageSummary.objects.exists():
        return None
    rows = (
        CoverageSummary.objects.filter(owner__in=owners.values("pk"))
        .order_by("owner__name", "owner_id")
        .values_list("owner_id", "owner__name", "owed", "done")
    )
    return KeptCoverage(rows)


class KeptCoverage:
    """A lazily sliced sequence of Coverage rows for the paginator: it counts and reads one page of managers."""

    def __init__(self, rows):
        self.rows = rows

    def count(self) -> int:
        return self.rows.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        picked = self.rows[index]
        if isinstance(index, slice):
            return [Coverage(*row) for row in picked]
        return Coverage(*picked)

    def as_of(self):
        return CoverageSummary.objects.order_by("refreshed_at").values_list("refreshed_at", flat=True).first()


def overseen_staff(user) -> QuerySet[Staff]:
    """Colleagues in the user's org subtree (everyone for admins and HQ): whose work a supervisor sees."""
    staff = staff_of(user)
    everyone = Staff.objects.all()
    if user.is_superuser or (staff and (Role.ADMIN in staff.role_codes or staff.org_unit.is_root())):
        return everyone
    if staff is None or not staff.has_any_role(Role.SUBTREE_ROLES):
        return everyone.filter(pk=getattr(staff, "pk", None))
    return everyone.filter(subtree(staff.org_unit.path, "org_unit__path"))


# --- the care calendar ------------------------------------------------------------------------------
@dataclass
class AgendaItem:
    day: date
    kind: str  # birthday, date, anniversary, holiday, contract, competitor, task, overdue
    title: str
    url: str = ""
    customer: str = ""


def _month_days(start: date, end: date) -> list[int]:
    """month*100+day for every date in the window; 29 Feb birthdays fall on 28 Feb in other years."""
    days = []
    day = start
    while day <= end:
        days.append(day.month * 100 + day.day)
        if day.month == 2 and day.day == 28 and (day + timedelta(days=1)).month == 3:
            days.append(229)
        day += timedelta(days=1)
    return days


def _on(anniversary: date, start: date, end: date) -> date:
    """The date in the window on which a yearly date recurs."""
    for year in range(start.year, end.year + 1):
        try:
            candidate = anniversary.replace(year=year)
        except ValueError:  # 29 Feb in a common year
            candidate = date(year, 2, 28)
        if start <= candidate <= end:
            return candidate
    return start


def portfolio(user, manager: Staff | None = None) -> QuerySet[Customer]:
    """The customers a manager owns or backs up, as far as the user may see them."""
    person = manager or staff_of(user)
    pk = getattr(person, "pk", None)
    return Customer.objects.visible_to(user).filter(Q(owner_id=pk) | Q(backup_owner_id=pk))


def agenda(user, start: date, days: int = AGENDA_DAYS, manager: Staff | None = None) -> list[tuple[date, list]]:
    """What is due for a manager from `start` on: key persons' birthdays and important dates, cooperation
    anniversaries, holidays, contract expiries (ours and competitors') and tasks (overdue ones on the first
    day). A fixed number of queries, whatever the portfolio's size."""
    end = start + timedelta(days=days - 1)
    person = manager or staff_of(user)
    customers = portfolio(user, person)
    month_days = _month_days(start, end)
    items: list[AgendaItem] = []

    def month_day(field: str):
        return ExtractMonth(field) * 100 + ExtractDay(field)

    contacts = (
        Contact.objects.filter(customer__in=customers.values("pk"), birthday__isnull=False)
        .annotate(md=month_day("birthday"))
        .filter(md__in=month_days)
        .select_related("customer")
    )
    for contact in contacts:
        items.append(
            AgendaItem(
                _on(contact.birthday, start, end),
                "birthday",
                _("Birthday of %(name)s (%(title)s)") % {"name": contact.name, "title": contact.title or "—"},
                reverse("customers:detail", args=[contact.customer_id]),
                contact.customer.name,
            )
        )
    dates = (
        ContactDate.objects.filter(contact__customer__in=customers.values("pk"))
        .annotate(md=month_day("date"))
        .filter(md__in=month_days)
        .select_related("contact__customer")
    )
    for contact_date in dates:
        items.append(
            AgendaItem(
                _on(contact_date.date, start, end),
                "date",
                f"{contact_date.contact.name}: {contact_date.label}",
                reverse("customers:detail", args=[contact_date.contact.customer_id]),
                contact_date.contact.customer.name,
            )
        )
    anniversaries = (
        customers.filter(cooperation_since__isnull=False, cooperation_since__lt=start)
        .annotate(md=month_day("cooperation_since"))
        .filter(md__in=month_days)
        .only("pk", "name", "cooperation_since")
    )
    for customer in anniversaries:
        day = _on(customer.cooperation_since, start, end)
        items.append(
            AgendaItem(
                day,
                "anniversary",
                _("%(years)d years of cooperation") % {"years": day.year - customer.cooperation_since.year},
                reverse("customers:detail", args=[customer.pk]),
                customer.name,
            )
        )
    items += [AgendaItem(day, "holiday", name) for day, name in holidays_between(start, end)]
    for contract in contracts_expiring(user, start, end, customers):
        items.append(
            AgendaItem(
                contract.end_on,
                "contract",
                _("Contract %(number)s expires") % {"number": contract.number},
                reverse("customers:detail", args=[contract.customer_id]),
                contract.customer.name,
            )
        )
    rivals = (
        CompetitorPresence.objects.filter(customer__in=customers.values("pk"), contract_end__range=(start, end))
        .select_related("customer")
        .order_by("contract_end", "pk")
    )
    for presence in rivals:
        items.append(
            AgendaItem(
                presence.contract_end,
                "competitor",
                _("%(competitor)s's contract ends (%(products)s)")
                % {"competitor": presence.get_competitor_display(), "products": presence.products},
                reverse("customers:detail", args=[presence.customer_id]),
                presence.customer.name,
            )
        )
    tasks = (
        Task.objects.visible_to(user)
        .open()
        .filter(owner_id=getattr(person, "pk", None), due_on__lte=end)
        .select_related("customer")
        .order_by("due_on", "id")
    )
    for task in tasks:
        overdue = task.due_on < start
        items.append(
            AgendaItem(
                start if overdue else task.due_on,
                "overdue" if overdue else "task",
                task.title,
                reverse("work:task_detail", args=[task.pk]),
                task.customer.name if task.customer else "",
            )
        )
    by_day: dict[date, list[AgendaItem]] = defaultdict(list)
    for item in items:
        by_day[item.day].append(item)
    return sorted(by_day.items())


def contracts_expiring(user, start: date, end: date, customers: QuerySet[Customer]) -> list:
    """Contracts of the portfolio ending in the window (the deals app's reminder list)."""
    return list(deals_queries.contracts_expiring(user, start, end).filter(customer__in=customers.values("pk")))


# --- notifications ----------------------------------------------------------------------------------
def notifications_of(user, *, unread: bool = False) -> QuerySet[Notification]:
    inbox = Notification.objects.filter(recipient=user)
    return inbox.unread() if unread else inbox


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user).unread().count()


# --- compliance (supervisors) -----------------------------------------------------------------------
def stale_leads(user, now: datetime):
    """Open leads the user sees with no follow-up activity in the last month, oldest first: the order of the
    primary key, so a page reads its rows off the index and stops (never sorts every stale lead, 0605)."""
    recent = Activity.objects.filter(lead=OuterRef("pk"), happened_at__gte=now - timedelta(days=FOLLOW_UP_DAYS))
    return (
        Lead.objects.visible_to(user)
        .open()
        .filter(~Exists(recent))
        .select_related("owner", "org_unit", "customer")
        .order_by("id")
    )


def stale_opportunities(user, now: datetime):
    """Open opportunities the user sees with no follow-up activity in the last month, oldest first (as leads)."""
    recent = Activity.objects.filter(opportunity=OuterRef("pk"), happened_at__gte=now - timedelta(days=FOLLOW_UP_DAYS))
    return (
        Opportunity.objects.visible_to(user)
        .open()
        .filter(~Exists(recent))
        .select_related("owner", "customer")
        .order_by("id")
    )


def absent_users(user, now: datetime) -> QuerySet[Staff]:
    """Active colleagues in the user's subtree with no login for two weeks; one who never logged in
    counts from the day the account was opened."""
    cutoff = now - timedelta(days=NO_LOGIN_DAYS)
    return (
        overseen_staff(user)
        .filter(user__is_active=True)
        .annotate(last_seen=Coalesce("user__last_login", "user__date_joined"))
        .filter(last_seen__lt=cutoff)
        .select_related("org_unit", "user")
        .order_by("last_seen", "name")
    )


# --- handovers and orphans --------------------------------------------------------------------------
def handovers_visible(user) -> QuerySet[Handover]:
    return Handover.objects.visible_to(user).select_related("old_owner", "new_owner", "created_by")


def orphans(user) -> dict[str, QuerySet]:
    """Records the user sees that still sit with someone whose account is closed: what a handover missed."""
    gone = Q(user__is_active=False)
    leavers = Staff.objects.filter(gone).values("pk")
    found: dict[str, QuerySet] = {
        "customers": Customer.objects.visible_to(user)
        .filter(Q(owner__in=leavers) | Q(backup_owner__in=leavers))
        .select_related("owner", "backup_owner"),
        "tasks": tasks_visible(user).open().filter(owner__in=leavers).select_related("owner", "customer"),
    }
    found["leads"] = Lead.objects.visible_to(user).open().filter(owner__in=leavers).select_related("owner")
    found["opportunities"] = (
        Opportunity.objects.visible_to(user).open().filter(owner__in=leavers).select_related("owner")
    )
    found["tickets"] = Ticket.objects.visible_to(user).open().filter(owner__in=leavers).select_related("owner")
    return found


def customers_by_numbers(user, numbers: list[str]) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).filter(number__in=numbers).only("pk", "number")
