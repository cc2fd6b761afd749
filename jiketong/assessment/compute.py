"""The monthly job: every manager's scorecard for a month, set-based, and every unit's roll-up.

Managers are taken CHUNK at a time; for each chunk a fixed handful of GROUP BY queries (customers and visits,
leads, opportunities, wins, logins, billing months, ticket ratings, survey answers) read only that chunk's
portfolios through the owner indexes, so a province of thousands of managers and a million customers costs
`8 × managers / CHUNK` aggregates, never a query per manager or per customer. The rows of a month are then
replaced in one transaction (draft rows only: a closed month's frozen copy is never touched here).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, TruncDate
from django.utils import timezone

from jiketong.analytics.periods import add_months
from jiketong.billing.models import CustomerMonth
from jiketong.customers.models import Contact, Customer, Member
from jiketong.org.models import OrgUnit, Role, Staff
from jiketong.sales.models import OPEN_LEAD_STATUSES, Lead, LeadStatus, Opportunity
from jiketong.service.models import SurveyAnswer, Ticket
from jiketong.work.models import SERVED_STATUSES, Activity, ActivityKind, VisitStandard, local_midnight

from .components import DEFAULT_CAP, default_terms, scorecard
from .models import AssessmentMonth, ManagerScore, ScoreSettings, UnitScore

CHUNK = 500
SATISFIED = 4  # a rating or a survey score of 4 or 5 (of 5) is a satisfied answer
BIG = DecimalField(max_digits=20, decimal_places=2)
FIGURES = [
    "customers",
    "visits_done",
    "visits_owed",
    "follow_ups_done",
    "follow_ups_due",
    "login_days",
    "working_days",
    "won_count",
    "won_value",
    "revenue",
    "revenue_before",
    "served_before",
    "churned",
    "satisfied",
    "rated",
    "archive_done",
    "archive_checks",
]


@dataclass
class Row:
    """One manager's (or unit's) figures while they are computed."""

    customers: int = 0
    visits_done: int = 0
    visits_owed: int = 0
    follow_ups_done: int = 0
    follow_ups_due: int = 0
    login_days: int = 0
    working_days: int = 0
    won_count: int = 0
    won_value: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    revenue_before: Decimal = Decimal(0)
    served_before: int = 0
    churned: int = 0
    satisfied: int = 0
    rated: int = 0
    archive_done: int = 0
    archive_checks: int = 0

    def add(self, other: "Row") -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def month_bounds(period: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, local time (Asia/Shanghai)."""
    return local_midnight(period), local_midnight(add_months(period, 1))


def working_days(period: date) -> int:
    """Working days of the month by the service calendar (weekends, holidays, 调休); Monday–Friday without one."""
    from jiketong.service.models import BusinessCalendar, CalendarDay

    calendar = BusinessCalendar.objects.order_by("pk").first()
    weekend = {int(d) for d in (calendar.weekend if calendar else "6,7").split(",") if d}
    end = add_months(period, 1)
    overrides = dict(CalendarDay.objects.filter(date__gte=period, date__lt=end).values_list("date", "is_workday"))
    days, day = 0, period
    while day < end:
        days += overrides.get(day, day.isoweekday() not in weekend)
        day += timedelta(days=1)
    return days


def managers() -> list[Staff]:
    """Who is assessed: active staff with a portfolio role (customer managers and inside sales)."""
    return list(
        Staff.objects.filter(roles__code__in=Role.PORTFOLIO_ROLES, user__is_active=True)
        .select_related("org_unit", "user")
        .distinct()
        .order_by("pk")
    )


def _visits_until(end: datetime):
    visits = (
        Activity.objects.filter(
            customer=OuterRef("pk"),
            kind=ActivityKind.VISIT,
            happened_at__gte=OuterRef("period_start"),
            happened_at__lt=end,
        )
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(visits), 0)


def _portfolio_figures(ids: list[int], period: date, rows: dict[int, Row]) -> None:
    """Visits against the standard and the archive checks, over the served customers each manager owns."""
    start, end = month_bounds(period)
    last_day = add_months(period, 1) - timedelta(days=1)
    standards = list(VisitStandard.objects.all())
    period_start = Case(
        *[When(grade=s.grade, then=Value(local_midnight(s.period(last_day)[0]))) for s in standards],
        default=Value(start),
        output_field=DateTimeField(),
    )
    owes = Case(*[When(grade=s.grade, then=Value(s.visits)) for s in standards], default=0, output_field=IntegerField())
    key_person = Exists(Contact.objects.filter(customer=OuterRef("pk"), is_key_person=True, left_on__isnull=True))
    members = Exists(Member.objects.filter(customer=OuterRef("pk"), left_on__isnull=True))
    found = (
        Customer.objects.filter(owner__in=ids, status__in=SERVED_STATUSES)
        .annotate(period_start=period_start, owes=owes, visits=_visits_until(end))
        .annotate(
            has_kp=_one_if(key_person),
            has_members=_one_if(members),
            has_uscc=_one_if(Q(uscc__isnull=False) & ~Q(uscc="")),
        )
        .order_by()
        .values("owner")
        .annotate(
            n=Count("pk"),
            owed=Sum("owes"),
            done=Sum(Least("visits", "owes")),
            checks=Sum(F("has_kp") + F("has_members") + F("has_uscc")),
        )
    )
    for row in found:
        figures = rows[row["owner"]]
        figures.customers = row["n"]
        figures.visits_owed, figures.visits_done = row["owed"] or 0, row["done"] or 0
        figures.archive_done, figures.archive_checks = row["checks"] or 0, 3 * row["n"]


def _one_if(condition) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _follow_ups(ids: list[int], period: date, rows: dict[int, Row]) -> None:
    """Open leads and opportunities at the month's end, and those with an activity in the month."""
    start, end = month_bounds(period)
    lead_open = Q(status__in=OPEN_LEAD_STATUSES) | Q(status=LeadStatus.CONVERTED, converted_at__gte=end)
    lead_followed = Exists(Activity.objects.filter(lead=OuterRef("pk"), happened_at__gte=start, happened_at__lt=end))
    leads = (
        Lead.objects.filter(lead_open, owner__in=ids, created_at__lt=end)
        .annotate(followed=lead_followed)
        .order_by()
        .values("owner")
        .annotate(due=Count("pk"), done=Count("pk", filter=Q(followed=True)))
    )
    last_day = add_months(period, 1) - timedelta(days=1)
    opp_open = Q(stage__is_won=False, stage__is_lost=False) | Q(closed_on__gt=last_day)
    opp_followed = Exists(
        Activity.objects.filter(opportunity=OuterRef("pk"), happened_at__gte=start, happened_at__lt=end)
    )
    opportunities = (
        Opportunity.objects.filter(opp_open, owner__in=ids, created_at__lt=end)
        .annotate(followed=opp_followed)
        .order_by()
        .values("owner")
        .annotate(due=Count("pk"), done=Count("pk", filter=Q(followed=True)))
    )
    for row in [*leads, *opportunities]:
        figures = rows[row["owner"]]
        figures.follow_ups_due += row["due"]
        figures.follow_ups_done += row["done"]


def _wins(ids: list[int], period: date, rows: dict[int, Row]) -> None:
    value = Sum(F("amount_once") + F("amount_monthly") * 12, output_field=BIG)
    won = (
        Opportunity.objects.filter(
            owner__in=ids, stage__is_won=True, closed_on__gte=period, closed_on__lt=add_months(period, 1)
        )
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"), value=value)
    )
    for row in won:
        rows[row["owner"]].won_count = row["n"]
        rows[row["owner"]].won_value = row["value"] or Decimal(0)


def _logins(staff: list[Staff], period: date, rows: dict[int, Row], days: int) -> None:
    """Distinct local days with a successful login (django-axes' access log of every login)."""
    from axes.models import AccessLog

    start, end = month_bounds(period)
    by_name = {person.user.username: person.pk for person in staff}
    found = (
        AccessLog.objects.filter(username__in=list(by_name), attempt_time__gte=start, attempt_time__lt=end)
        .annotate(day=TruncDate("attempt_time", tzinfo=ZoneInfo("Asia/Shanghai")))
        .order_by()
        .values("username")
        .annotate(n=Count("day", distinct=True))
    )
    for person in staff:
        rows[person.pk].working_days = days
    for row in found:
        rows[by_name[row["username"]]].login_days = row["n"]


def _billing(ids: list[int], period: date, rows: dict[int, Row]) -> None:
    """Revenue of the owned customers in the month and the month before; churned = billed the month before −
    billed now + new now (every customer billed now was billed before or is new: no anti-join)."""
    before = add_months(period, -1)
    now, then = Q(period=period), Q(period=before)
    found = (
        CustomerMonth.objects.filter(customer__owner__in=ids, period__in=[period, before])
        .order_by()
        .values("customer__owner")
        .annotate(
            r_now=Sum("revenue", filter=now, output_field=BIG),
            r_before=Sum("revenue", filter=then, output_field=BIG),
            billed=Count("pk", filter=now),
            billed_before=Count("pk", filter=then),
            new=Count("pk", filter=now & Q(is_new=True)),
        )
    )
    for row in found:
        figures = rows[row["customer__owner"]]
        figures.revenue, figures.revenue_before = row["r_now"] or Decimal(0), row["r_before"] or Decimal(0)
        figures.served_before = row["billed_before"]
        figures.churned = max(row["billed_before"] - row["billed"] + row["new"], 0)


def _satisfaction(ids: list[int], period: date, rows: dict[int, Row]) -> None:
    start, end = month_bounds(period)
    tickets = (
        Ticket.objects.filter(customer__owner__in=ids, rating__isnull=False, rated_at__gte=start, rated_at__lt=end)
        .order_by()
        .values("customer__owner")
        .annotate(n=Count("pk"), ok=Count("pk", filter=Q(rating__gte=SATISFIED)))
    )
    answers = (
        SurveyAnswer.objects.filter(
            survey__customer__owner__in=ids,
            survey__surveyed_on__gte=period,
            survey__surveyed_on__lt=add_months(period, 1),
        )
        .order_by()
        .values("survey__customer__owner")
        .annotate(n=Count("pk"), ok=Count("pk", filter=Q(satisfaction__gte=SATISFIED)))
    )
    for row in tickets:
        rows[row["customer__owner"]].rated += row["n"]
        rows[row["customer__owner"]].satisfied += row["ok"]
    for row in answers:
        rows[row["survey__customer__owner"]].rated += row["n"]
        rows[row["survey__customer__owner"]].satisfied += row["ok"]


def figures_for(staff: list[Staff], period: date) -> dict[int, Row]:
    """Every figure of these managers for the month: a fixed number of queries per CHUNK managers."""
    rows: dict[int, Row] = {person.pk: Row() for person in staff}
    days = working_days(period)
    for start in range(0, len(staff), CHUNK):
        chunk = staff[start : start + CHUNK]
        ids = [person.pk for person in chunk]
        _portfolio_figures(ids, period, rows)
        _follow_ups(ids, period, rows)
        _wins(ids, period, rows)
        _logins(chunk, period, rows, days)
        _billing(ids, period, rows)
        _satisfaction(ids, period, rows)
    return rows


# --- weights and targets -------------------------------------------------------------------------------
class Terms:
    """The settings valid in a month, resolved per manager (own, else nearest unit, else defaults) and per unit."""

    def __init__(self, period: date):
        latest: dict[tuple, ScoreSettings] = {}
        for row in ScoreSettings.objects.filter(valid_from__lte=period).order_by("version"):
            latest[("staff", row.staff_id) if row.staff_id else ("unit", row.org_unit_id)] = row
        self.staff = {key[1]: row for key, row in latest.items() if key[0] == "staff"}
        unit_ids = {key[1]: row for key, row in latest.items() if key[0] == "unit"}
        paths = dict(OrgUnit.objects.filter(pk__in=list(unit_ids)).values_list("pk", "path"))
        self.units = {paths[pk]: row for pk, row in unit_ids.items() if pk in paths}

    def for_unit_path(self, path: str) -> tuple[dict, Decimal, int | None]:
        for length in range(len(path), 0, -OrgUnit.steplen):
            row = self.units.get(path[:length])
            if row is not None:
                return _merged(row.terms), row.cap, row.pk
        return default_terms(), DEFAULT_CAP, None

    def for_staff(self, person: Staff) -> tuple[dict, Decimal, int | None]:
        row = self.staff.get(person.pk)
        if row is not None:
            return _merged(row.terms), row.cap, row.pk
        return self.for_unit_path(person.org_unit.path)


def _merged(terms: dict) -> dict:
    return default_terms() | {code: term for code, term in (terms or {}).items() if code in default_terms()}


def _ranks(scores: list[ManagerScore]) -> None:
    """Rank within each manager's unit by total, best first; equal totals share a rank (1, 1, 3)."""
    by_unit: dict[int, list[ManagerScore]] = defaultdict(list)
    for score in scores:
        by_unit[score.org_unit_id].append(score)
    for unit_scores in by_unit.values():
        ordered = sorted(unit_scores, key=lambda s: (s.total is None, -(s.total or 0), s.staff_id))
        for position, score in enumerate(ordered, start=1):
            if score.total is None:
                score.rank_in_unit = None
            elif position > 1 and ordered[position - 2].total == score.total:
                score.rank_in_unit = ordered[position - 2].rank_in_unit
            else:
                score.rank_in_unit = position


def month_compute(period: date) -> AssessmentMonth:
    """Compute (or recompute) a month's draft scorecards for every manager and unit. A closed month's frozen
    copy is left as it is: the pages of a closed month read that copy."""
    period = period.replace(day=1)
    now = timezone.now()
    staff = managers()
    rows = figures_for(staff, period)
    terms = Terms(period)
    scores = []
    for person in staff:
        figures = rows[person.pk]
        weights, cap, settings_id = terms.for_staff(person)
        total, scoring = scorecard(figures, weights, cap)
        scoring["settings"] = settings_id
        scores.append(
            ManagerScore(
                period=period,
                staff=person,
                org_unit_id=person.org_unit_id,
                total=total,
                terms=scoring,
                computed_at=now,
                **{name: getattr(figures, name) for name in FIGURES},
            )
        )
    _ranks(scores)
    units = _unit_rows(staff, rows, period, terms, now)
    with transaction.atomic():
        ManagerScore.objects.filter(period=period, closed=False).delete()
        UnitScore.objects.filter(period=period, closed=False).delete()
        ManagerScore.objects.bulk_create(scores, batch_size=1000)
        UnitScore.objects.bulk_create(units, batch_size=1000)
        month, _created = AssessmentMonth.objects.get_or_create(period=period)
        month.computed_at, month.managers = now, len(scores)
        month.save(update_fields=["computed_at", "managers"])
    return month


def _unit_rows(staff: list[Staff], rows: dict[int, Row], period: date, terms: Terms, now) -> list[UnitScore]:
    """Each unit with managers in its subtree: the sums of their figures, scored with the unit's settings."""
    sums: dict[str, Row] = defaultdict(Row)
    counts: dict[str, int] = defaultdict(int)
    for person in staff:
        path = person.org_unit.path
        for length in range(OrgUnit.steplen, len(path) + 1, OrgUnit.steplen):
            sums[path[:length]].add(rows[person.pk])
            counts[path[:length]] += 1
    ids = dict(OrgUnit.objects.filter(path__in=list(sums)).values_list("path", "pk"))
    units = []
    for path, figures in sums.items():
        weights, cap, settings_id = terms.for_unit_path(path)
        total, scoring = scorecard(figures, weights, cap, managers=counts[path])
        scoring["settings"] = settings_id
        units.append(
            UnitScore(
                period=period,
                org_unit_id=ids[path],
                managers=counts[path],
                total=total,
                terms=scoring,
                computed_at=now,
                **{name: getattr(figures, name) for name in FIGURES},
            )
        )
    return units
