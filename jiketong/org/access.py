"""The org app's answers to the kernel's questions about people and roles (core.access, decision 0023)."""

from collections.abc import Iterable

from . import models
from .templatetags import people


def can(user, roles: Iterable[str]) -> bool:
    return models.can(user, roles)


def holders(roles: Iterable[str]):
    staff = models.Staff.objects.filter(roles__code__in=list(roles), user__is_active=True)
    return staff.values_list("user_id", flat=True).distinct()


def person_text(user, *, unit: bool = True, cache: dict | None = None) -> str:
    return people.person_text(user, unit=unit, cache=cache)
