"""Who holds which role, asked by the kernel without importing the app that knows (decision 0023).

The kernel gates a few things by role (the event outbox is the administrators', an import run its uploader's and
the administrators', a menu entry may name roles) and names people (who changed a record you were editing), but
staff, roles and the org tree are the org app's, and the kernel imports no app. So the org app names the module
that answers on its AppConfig, as apps name their menu entries and panels (core.registry):

    class OrgConfig(AppConfig):
        access = "jiketong.org.access"

That module has `can(user, roles) -> bool` (superusers hold every role), `holders(roles)` (the ids of the active
users holding one of them) and `person_text(user, *, unit, cache) -> str` (李晓红 (天河区分公司)).
"""

from collections.abc import Iterable
from functools import cache
from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

# Role codes the kernel itself gates by (org.models.Role has them all).
ADMIN = "admin"
AUDITOR = "auditor"


@cache
def rules() -> ModuleType:
    paths = [config.access for config in apps.get_app_configs() if getattr(config, "access", "")]
    if len(paths) != 1:
        raise ImproperlyConfigured(f"exactly one installed app must name its access module, found {paths}")
    return import_module(paths[0])


def can(user, roles: Iterable[str]) -> bool:
    """Does the user hold one of these roles?"""
    return rules().can(user, roles)


def holders(roles: Iterable[str]):
    """The ids of the active users holding one of these roles (a values_list, to filter on or iterate)."""
    return rules().holders(roles)


def person_text(user, *, unit: bool = True, cache: dict | None = None) -> str:
    """A person as colleagues know them: their staff name (and unit), not their login."""
    return rules().person_text(user, unit=unit, cache=cache)
