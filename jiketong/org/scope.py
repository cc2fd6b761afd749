"""Data scope: the one rule that decides which customers a user may see.

A customer manager or inside-sales user sees the customers they own or back up; a supervisor,
analyst or auditor sees their org unit's subtree (materialised-path prefix); admins and HQ see all.
Every scoped model reaches a customer, so every scoped read is `Model.objects.visible_to(user)`.
"""

from django.db import models
from django.db.models import Q

from jiketong.core.trees import subtree

from .models import OrgUnit, Role, staff_of

NOTHING = Q(pk__in=[])
# "Everything" must survive being OR-ed with another condition: Django drops an empty Q() from
# `Q() | Q(owner=…)`, which would shrink an admin's scope to their own records. NOT(nothing) compiles to
# no WHERE clause at all.
EVERYTHING = ~NOTHING


def customer_scope(user, prefix: str = "") -> Q:
    """A Q over customers (through `prefix`, e.g. "customer__") that the user may see."""
    return record_scope(user, org_unit=f"{prefix}org_unit", owners=(f"{prefix}owner", f"{prefix}backup_owner"))


def record_scope(user, *, org_unit: str, owners: tuple[str, ...]) -> Q:
    """The scope rule for any record with an org unit and owners (a customer, or a lead that has no
    customer yet): portfolio roles see what they own, subtree roles their org subtree, admins and HQ all."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    staff = staff_of(user)
    if staff is None or not staff.is_active:
        return NOTHING
    roles = staff.role_codes
    if Role.ADMIN in roles or (roles & Role.SUBTREE_ROLES and staff.org_unit.is_root()):
        return EVERYTHING
    scope = NOTHING
    if roles & Role.SUBTREE_ROLES:
        # A subquery over the small org table keeps the scoped side on its org_unit index.
        units = OrgUnit.objects.filter(subtree(staff.org_unit.path)).values("pk")
        scope |= Q(**{f"{org_unit}__in": units})
    if roles & Role.PORTFOLIO_ROLES:
        for owner in owners:
            scope |= Q(**{owner: staff.pk})
    return scope


class ScopedQuerySet(models.QuerySet):
    """Base queryset for anything that belongs to a customer. Subclasses set `customer_path`."""

    customer_path = "customer__"

    def visible_to(self, user):
        return self.filter(customer_scope(user, self.customer_path))


# --- reads from kept figures (decision 0606) ------------------------------------------------------------
def kept_scope(user, org_unit: str = "org_unit") -> Q | None:
    """The part of the user's scope that figures kept per org unit can answer, as a Q over their `org_unit`
    (EVERYTHING for admins and HQ); None for portfolio-only users, who read live (a portfolio is small)."""
    scope = record_scope(user, org_unit=org_unit, owners=())
    return None if scope == NOTHING else scope


def beyond_subtree(user, prefix: str = "") -> Q:
    """Customers (through `prefix`) in the user's scope outside their org subtree: those a supervisor who also
    holds a portfolio role owns or backs up elsewhere. What a read from kept figures counts live on top."""
    subtree_part = kept_scope(user, f"{prefix}org_unit")
    staff = staff_of(user)
    if (
        subtree_part is None
        or subtree_part == EVERYTHING
        or staff is None
        or not staff.role_codes & Role.PORTFOLIO_ROLES
    ):
        return NOTHING
    return (Q(**{f"{prefix}owner": staff.pk}) | Q(**{f"{prefix}backup_owner": staff.pk})) & ~subtree_part
