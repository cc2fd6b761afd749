"""Every read of the scorecards, scoped: a customer manager sees their own scorecard and their unit's; a
supervisor, analyst or auditor the managers and units of their subtree; admins and HQ everyone. A month shows
its frozen copy once it is closed, its draft rows before. Each page reads a bounded number of rows: one
manager, one unit and a page of its ranking (the managers of a subtree, never its customers)."""

from datetime import date

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import Rank
from django.http import Http404

from jiketong.analytics.periods import add_months, month_start, parse_period
from jiketong.core.trees import subtree
from jiketong.org.models import OrgUnit, Role, Staff, can, staff_of
from jiketong.org.scope import record_scope

from .components import COMPONENTS
from .models import AssessmentMonth, ManagerScore, MonthStatus, ScoreSettings, UnitScore

SETTINGS_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def months() -> list[AssessmentMonth]:
    """Every computed month, newest first (a few dozen rows)."""
    return list(AssessmentMonth.objects.exclude(computed_at=None).order_by("-period"))


def month_of(text: str | None) -> date:
    """The month asked for (`YYYY-MM`), else the newest computed one, else last month."""
    if text:
        try:
            return parse_period(text)
        except ValueError:
            pass
    newest = AssessmentMonth.objects.exclude(computed_at=None).order_by("-period").values_list("period", flat=True)
    return newest.first() or add_months(month_start(date.today()), -1)


def is_closed(period: date) -> bool:
    return AssessmentMonth.objects.filter(period=period, status=MonthStatus.CLOSED).exists()


def manager_scores(user, period: date, closed: bool | None = None) -> QuerySet[ManagerScore]:
    closed = is_closed(period) if closed is None else closed
    scope = record_scope(user, org_unit="org_unit", owners=("staff",))
    return ManagerScore.objects.filter(scope, period=period, closed=closed)


def unit_scope(user) -> Q:
    """The units whose scorecard the user reads: their subtree (subtree roles), their own unit (managers)."""
    scope = record_scope(user, org_unit="org_unit", owners=())
    staff = staff_of(user)
    if staff is not None and staff.is_active and staff.role_codes & Role.PORTFOLIO_ROLES:
        scope |= Q(org_unit=staff.org_unit_id)
    return scope


def unit_scores(user, period: date, closed: bool | None = None) -> QuerySet[UnitScore]:
    closed = is_closed(period) if closed is None else closed
    return UnitScore.objects.filter(unit_scope(user), period=period, closed=closed)


def my_scorecard(user, period: date, closed: bool | None = None) -> ManagerScore | None:
    return manager_scores(user, period, closed).filter(staff_id=user.pk).select_related("staff", "org_unit").first()


def manager_scorecard(user, period: date, staff_id: int) -> ManagerScore:
    """One manager's scorecard the user may read; 404 for anyone else (as for an unknown id)."""
    found = manager_scores(user, period).filter(staff_id=staff_id).select_related("staff", "org_unit").first()
    if found is None:
        raise Http404
    return found


def manager_visible(user, staff_id: int) -> Staff:
    """A manager whose scorecards the user may read (even a month without one): 404 otherwise."""
    found = ManagerScore.objects.filter(record_scope(user, org_unit="org_unit", owners=("staff",)), staff_id=staff_id)
    if not found.exists():
        raise Http404
    return Staff.objects.get(pk=staff_id)


def home_unit(user) -> OrgUnit:
    staff = staff_of(user)
    return staff.org_unit if staff is not None else OrgUnit.get_first_root_node()


def unit_get(user, unit_id: int | None) -> OrgUnit:
    """The unit asked for when the user may read it, else 404; without one, the user's own unit."""
    if unit_id is None:
        return home_unit(user)
    unit = OrgUnit.objects.filter(pk=unit_id).first()
    if unit is None or not UnitScore.objects.filter(unit_scope(user), org_unit=unit).exists() and not _over(user, unit):
        raise Http404
    return unit


def _over(user, unit: OrgUnit) -> bool:
    if user.is_superuser:
        return True
    staff = staff_of(user)
    if staff is None or not staff.has_any_role(Role.SUBTREE_ROLES | {Role.ADMIN}):
        return False
    return Role.ADMIN in staff.role_codes or unit.path.startswith(staff.org_unit.path)


def unit_scorecard(user, period: date, unit: OrgUnit) -> UnitScore | None:
    return unit_scores(user, period).filter(org_unit=unit).select_related("org_unit").first()


def ranking(user, period: date, unit: OrgUnit) -> QuerySet[ManagerScore]:
    """The managers of the unit's subtree the user may read, best total first, with their rank in the unit
    (equal totals share a rank). One query over the month's rows of those managers (index period, unit, total)."""
    units = OrgUnit.objects.filter(subtree(unit.path)).values("pk")
    rows = manager_scores(user, period).filter(org_unit__in=units).select_related("staff", "org_unit")
    position = Window(Rank(), order_by=F("total").desc(nulls_last=True))
    return rows.annotate(position=position).order_by(F("total").desc(nulls_last=True), "staff__name", "staff_id")


def children(user, period: date, unit: OrgUnit) -> list[UnitScore]:
    """The scorecards of the unit's child units (the drill-down), a few rows."""
    below = Q(org_unit__path__startswith=unit.path, org_unit__depth=unit.depth + 1)
    return list(
        unit_scores(user, period).filter(below).select_related("org_unit").order_by(F("total").desc(nulls_last=True))
    )


def component_rows(score) -> list[dict]:
    """The components of a scorecard as the pages show them: name, definition, figures, actual, target, score."""
    rows = []
    for component in COMPONENTS:
        term = (score.terms or {}).get(component.code, {})
        rows.append({"component": component, **term})
    return rows


def history(user, staff_id: int, period: date, months_back: int = 12) -> list[ManagerScore]:
    """A manager's totals of the last twelve months (closed copies for closed months)."""
    first = add_months(period, -(months_back - 1))
    closed = set(
        AssessmentMonth.objects.filter(status=MonthStatus.CLOSED, period__gte=first).values_list("period", flat=True)
    )
    rows = ManagerScore.objects.filter(
        record_scope(user, org_unit="org_unit", owners=("staff",)),
        staff_id=staff_id,
        period__gte=first,
        period__lte=period,
    ).only("period", "closed", "total", "rank_in_unit")
    return sorted((r for r in rows if r.closed == (r.period in closed)), key=lambda r: r.period)


# --- settings ------------------------------------------------------------------------------------------------
def can_configure(user) -> bool:
    return can(user, SETTINGS_ROLES)


def settings_of(*, org_unit=None, staff=None) -> QuerySet[ScoreSettings]:
    """Every version of one subject's settings, newest first."""
    if staff is not None:
        return ScoreSettings.objects.filter(staff=staff).order_by("-version")
    return ScoreSettings.objects.filter(org_unit=org_unit, staff=None).order_by("-version")


def configurable_staff(user) -> QuerySet[Staff]:
    """Managers whose weights and targets the user may set: those of their subtree (all for admins and HQ)."""
    from jiketong.work.queries import overseen_staff

    return overseen_staff(user).filter(roles__code__in=Role.PORTFOLIO_ROLES, user__is_active=True).distinct()
