"""Every read of service data, scoped to the user. Views, the API, jobs and the churn model call these."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from jiketong.org.models import OrgUnit, Role, Staff, can
from jiketong.org.queries import supervisors_for  # noqa: F401 - the escalation reads it from here
from jiketong.org.scope import beyond_subtree, customer_scope, kept_scope

from .calendar import WorkCalendar, add_working_time
from .filters import SurveyFilter, TicketFilter
from .models import (
    OPEN_STATUSES,
    BusinessCalendar,
    CalendarDay,
    Dimension,
    SatisfactionFact,
    SlaPolicy,
    Survey,
    SurveyAnswer,
    Ticket,
    TicketEvent,
)

TICKET_RELATED = ["customer", "owner", "transfer_to"]
BOARD_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
# "About to breach": the next deadline is within this much working time.
BREACH_HORIZON_MINUTES = 30


def business_calendar() -> WorkCalendar:
    """The configured calendar as a pure `WorkCalendar` (three small queries)."""
    calendar = BusinessCalendar.objects.prefetch_related("periods").order_by("pk").first()
    if calendar is None:
        raise BusinessCalendar.DoesNotExist("no business calendar configured")
    return WorkCalendar(
        periods=tuple((p.start, p.end) for p in calendar.periods.all()),
        tz=ZoneInfo(calendar.timezone),
        weekend=frozenset(int(d) for d in calendar.weekend.split(",") if d),
        overrides=dict(CalendarDay.objects.values_list("date", "is_workday")),
    )


def calendar_overview(today: date) -> dict:
    """What the calendar page shows: the hours, this year's exceptions onwards, and the SLA policies."""
    return {
        "calendar": BusinessCalendar.objects.prefetch_related("periods").order_by("pk").first(),
        "days": list(CalendarDay.objects.filter(date__gte=today.replace(month=1, day=1))[:200]),
        "policies": list(SlaPolicy.objects.all()),
    }


def sla_for(ticket_type: str, grade: str) -> SlaPolicy:
    """The policy for this type and the customer's grade: the exact grade (A1), else its family (A),
    else the type's default (blank grade)."""
    candidates = [grade, grade[:1], ""]
    policies = {p.grade: p for p in SlaPolicy.objects.filter(ticket_type=ticket_type, grade__in=candidates)}
    policy = next((policies[g] for g in candidates if g in policies), None)
    if policy is None:
        raise SlaPolicy.DoesNotExist(f"no SLA policy for {ticket_type}")
    return policy


# --- tickets ----------------------------------------------------------------------------------------
def tickets_visible(user) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user)


def ticket_list(user, params=None) -> tuple[TicketFilter, QuerySet[Ticket]]:
    queryset = tickets_visible(user).select_related(*TICKET_RELATED).order_by("-opened_at", "-id")
    ticket_filter = TicketFilter(params or None, queryset=queryset, user=user)
    return ticket_filter, ticket_filter.qs


def ticket_get(user, pk: int) -> Ticket:
    """One ticket the user may see, or 404 (the same answer as a missing one)."""
    related = [*TICKET_RELATED, "received_by", "contact", "product", "customer__org_unit"]
    return get_object_or_404(tickets_visible(user).select_related(*related), pk=pk)


def ticket_history(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor", "from_staff", "to_staff").order_by("at", "id")


def open_tickets_of(user, customer_id: int, limit: int = 10) -> tuple[list[Ticket], int]:
    """The customer's open tickets (newest first, at most `limit`) and how many there are: two queries."""
    queryset = tickets_visible(user).filter(customer_id=customer_id, status__in=OPEN_STATUSES)
    rows = list(queryset.select_related("owner").order_by("-opened_at")[:limit])
    count = len(rows) if len(rows) < limit else queryset.count()
    return rows, count


def breach_board(user, now: datetime, calendar: WorkCalendar) -> QuerySet[Ticket]:
    """Open tickets in the user's scope that have breached a deadline or will within the horizon of
    working time, the most urgent first. The board is for supervisors (and admins)."""
    if not can(user, BOARD_ROLES):
        raise PermissionDenied(_("The breach board is for supervisors."))
    horizon = add_working_time(now, BREACH_HORIZON_MINUTES, calendar)
    return (
        Ticket.objects.filter(customer_scope(user, "customer__"))
        .filter(next_due__lte=horizon)
        .select_related(*TICKET_RELATED)
        .order_by("next_due", "id")
    )


def staff_choices(user) -> QuerySet[Staff]:
    """Colleagues a ticket may be transferred to (the staff directory's scope, active only)."""
    return Staff.objects.visible_to(user).active().select_related("org_unit").order_by("name")


# --- satisfaction -----------------------------------------------------------------------------------
def survey_list(user, params=None) -> tuple[SurveyFilter, QuerySet[Survey]]:
    queryset = Survey.objects.visible_to(user).select_related("customer", "surveyed_by").order_by("-surveyed_on", "-id")
    survey_filter = SurveyFilter(params or None, queryset=queryset)
    return survey_filter, survey_filter.qs


def survey_get(user, pk: int) -> Survey:
    return get_object_or_404(Survey.objects.visible_to(user).select_related("customer", "surveyed_by"), pk=pk)


ADVANTAGE, KEEP, ADJUST, FIX_FIRST = "advantage", "keep", "adjust", "fix_first"


@dataclass
class QuadrantPoint:
    dimension: str
    label: str
    importance: float
    satisfaction: float
    answers: int
    quadrant: str = ""


@dataclass
class Quadrant:
    points: list[QuadrantPoint]
    importance_threshold: float | None
    satisfaction_threshold: float | None
    surveys: int


def classify(points: list[QuadrantPoint]) -> tuple[float | None, float | None]:
    """Put each dimension in its quadrant. The thresholds are the means of the dimension averages
    (data-centred importance–performance analysis): an average at the threshold counts as high."""
    if not points:
        return None, None
    importance = sum(p.importance for p in points) / len(points)
    satisfaction = sum(p.satisfaction for p in points) / len(points)
    for point in points:
        high_importance = point.importance >= importance
        high_satisfaction = point.satisfaction >= satisfaction
        if high_importance and high_satisfaction:
            point.quadrant = ADVANTAGE
        elif high_satisfaction:
            point.quadrant = KEEP
        elif high_importance:
            point.quadrant = FIX_FIRST
        else:
            point.quadrant = ADJUST
    return importance, satisfaction


def satisfaction_quadrant(user, periods: list[str] | None = None, org_unit: OrgUnit | None = None) -> Quadrant:
    """Average importance and satisfaction per dimension over the surveys in the user's scope (and the
    chosen periods and org subtree), classified into the four quadrants. For the subtree part of a scope from
    the kept sums (SatisfactionFact, decision 0606), the rest counted live; a few queries at any size."""
    totals: dict[str, list[int]] = {}  # dimension → [answers, importance sum, satisfaction sum]; "" → surveys
    answers, surveys = SurveyAnswer.objects.visible_to(user), Survey.objects.visible_to(user)
    subtree_part = kept_scope(user)
    if subtree_part is not None and SatisfactionFact.objects.exists():
        kept = SatisfactionFact.objects.filter(subtree_part)
        if periods:
            kept = kept.filter(period__in=periods)
        if org_unit is not None:
            kept = kept.filter(org_unit__path__startswith=org_unit.path)
        for row in kept.values("dimension").annotate(
            n=Sum("answers"), importance=Sum("importance_sum"), satisfaction=Sum("satisfaction_sum")
        ):
            totals[row["dimension"]] = [row["n"], row["importance"], row["satisfaction"]]
        answers = SurveyAnswer.objects.filter(beyond_subtree(user, "survey__customer__"))
        surveys = Survey.objects.filter(beyond_subtree(user, "customer__"))
    if periods:
        answers, surveys = answers.filter(survey__period__in=periods), surveys.filter(period__in=periods)
    if org_unit is not None:
        answers = answers.filter(survey__customer__org_unit__path__startswith=org_unit.path)
        surveys = surveys.filter(customer__org_unit__path__startswith=org_unit.path)
    for row in answers.values("dimension").annotate(
        n=Count("pk"), importance=Sum("importance"), satisfaction=Sum("satisfaction")
    ):
        total = totals.setdefault(row["dimension"], [0, 0, 0])
        for i, key in enumerate(("n", "importance", "satisfaction")):
            total[i] += row[key]
    labels = dict(Dimension.choices)
    points = [
        QuadrantPoint(
            dimension=dimension,
            label=str(labels.get(dimension, dimension)),
            importance=importance / n,
            satisfaction=satisfaction / n,
            answers=n,
        )
        for dimension, (n, importance, satisfaction) in sorted(totals.items())
        if dimension and n
    ]
    importance, satisfaction = classify(points)
    surveys_n = totals.get("", [0])[0] + surveys.count() if points else 0
    return Quadrant(points, importance, satisfaction, surveys_n)
