"""What each app contributes to pages it does not own: entries in the main menu and panels on the
customer 360 page. An app declares them on its AppConfig, so the customers app never imports the
apps that build on it:

    class SalesConfig(AppConfig):
        nav = [NavItem(_("Leads"), "sales:lead_list", "bi-funnel", section="sales")]
        customer_panels = ["jiketong.sales.panels.customer_panel"]

A panel is `panel(request, customer) -> dict | None`: a context with at least `template` (and
optionally `column`, "main" or "side", and `order`); None hides it. Keep each panel to a few queries:
the 360 page's query count is asserted.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str = "bi-circle"
    section: str = ""  # the URL namespace that marks this entry active
    roles: frozenset[str] = field(default_factory=frozenset)  # empty: everyone with a staff record
    order: int = 100


def nav_items(user) -> list[NavItem]:
    from jiketong.org.models import can

    items = [item for config in apps.get_app_configs() for item in getattr(config, "nav", ())]
    return sorted((item for item in items if not item.roles or can(user, item.roles)), key=lambda item: item.order)


def _panel_functions() -> list[Callable]:
    return [import_string(path) for config in apps.get_app_configs() for path in getattr(config, "customer_panels", ())]


def customer_panels(request, customer) -> dict[str, list[dict]]:
    """{"main": [...], "side": [...]}: the contributed panels, in order."""
    panels: dict[str, list[dict]] = {"main": [], "side": []}
    for function in _panel_functions():
        panel = function(request, customer)
        if panel:
            panels[panel.get("column", "main")].append(panel)
    for column in panels.values():
        column.sort(key=lambda panel: panel.get("order", 100))
    return panels


def app_modules(submodule: str, exclude: tuple[str, ...] = ()) -> list:
    """`jiketong.<app>.<submodule>` for each of our installed apps that has one, in INSTALLED_APPS order
    (the demo generator's `demo`, the scope matrix's `tests.scope`)."""
    modules = []
    for config in apps.get_app_configs():
        if not config.name.startswith("jiketong.") or config.name in exclude:
            continue
        try:
            modules.append(import_module(f"{config.name}.{submodule}"))
        except ModuleNotFoundError as exc:
            if not f"{config.name}.{submodule}".startswith(exc.name or "\0"):
                raise  # the module exists but imports something missing
    return modules
