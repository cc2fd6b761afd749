"""Reads of the org tree shared by the apps (who supervises whom) and the staff administration's reads."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .filters import StaffFilter
from .models import OrgUnit, Role, Staff


def supervisors_for(org_unit_paths: set[str]) -> dict[str, list[int]]:
    """For each org unit path, the user ids of the active supervisors of the nearest unit up the tree
    (the unit itself first) that has any, in id order. One query for all paths, so a job reminding
    thousands of customers' owners asks once."""
    steplen = OrgUnit.steplen
    ancestors = {path[:i] for path in org_unit_paths for i in range(steplen, len(path) + 1, steplen)}
    by_unit: dict[str, list[int]] = {}
    rows = (
        Staff.objects.active()
        .filter(roles__code=Role.SUPERVISOR, org_unit__path__in=ancestors)
        .values_list("org_unit__path", "user_id")
        .order_by("user_id")
        .distinct()
    )
    for path, user_id in rows:
        by_unit.setdefault(path, []).append(user_id)
    result = {}
    for path in org_unit_paths:
        for end in range(len(path), 0, -steplen):
            if path[:end] in by_unit:
                result[path] = by_unit[path[:end]]
                break
        else:
            result[path] = []
    return result


def nearest_supervisors(org_unit: OrgUnit) -> list[int]:
    """The user ids of the active supervisors nearest up the tree from one unit (its own unit first)."""
    return supervisors_for({org_unit.path})[org_unit.path]


# --- staff administration (用户管理) ---------------------------------------------------------------------
def staff_visible(user) -> QuerySet[Staff]:
    """The colleagues the user may see, with what a list row shows (login, unit, roles) in a bounded number
    of queries."""
    return Staff.objects.visible_to(user).select_related("user", "org_unit").prefetch_related("roles")


def staff_list(user, params=None) -> tuple[StaffFilter, QuerySet[Staff]]:
    """The filtered, scoped staff list, by name. Returns the filter (for its form and errors) and the rows."""
    queryset = staff_visible(user).order_by("name", "user_id")
    staff_filter = StaffFilter(params or None, queryset=queryset)
    return staff_filter, staff_filter.qs


def staff_get(user, pk: int) -> Staff:
    """One colleague the user may see, or 404 (the same answer as one who does not exist)."""
    return get_object_or_404(staff_visible(user), pk=pk)
