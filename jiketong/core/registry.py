"""What each app contributes to pages it does not own: entries in the main menu and panels on the
customer 360 page. An app declares them on its AppConfig, so the customers app never imports the
apps that build on it:

    class SalesConfig(AppConfig):
        nav = [NavItem(_("Leads"), "sales:lead_list", "bi-funnel", section="sales")]
        customer_panels = ["jiketong.sales.panels.customer_panel"]

An app whose records are audited without a customer (a lead before it has one) names their models in
`audit_scoped = ["sales.Lead"]`: the audit log then shows those events to whoever the model's own
`visible_to` lets see the record (customers.queries.audit_events).

A panel is `panel(request, customer) -> dict | None`: a context with at least `template` (and
optionally `column`, "main" or "side", and `order`); None hides it. Keep each panel to a few queries:
the 360 page's query count is asserted.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from . import access


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str = "bi-circle"
    # No longer decides which entry is active (see `active_entry`); kept so the apps' declarations stand.
    section: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)  # empty: everyone with a staff record
    order: int = 100
    # Paths (or url names) of pages that belong to this entry although its own URL is not their prefix,
    # e.g. an opportunity's page under the pipeline: `match=("/sales/opportunities/",)`.
    match: tuple[str, ...] = ()


def nav_items(user) -> list[NavItem]:
    items = [item for config in apps.get_app_configs() for item in getattr(config, "nav", ())]
    allowed = (item for item in items if not item.roles or access.can(user, item.roles))
    return sorted(allowed, key=lambda item: item.order)


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _stem(url_name: str) -> tuple[str, str]:
    """("deals", "quote") for "deals:quote_create": the namespace and the kind of record a page is about."""
    namespace, _sep, name = url_name.rpartition(":")
    return namespace, name.split("_", 1)[0]


def active_entry(path: str, view_name: str, url_names: list[str], matches: dict[str, tuple] | None = None) -> str:
    """Which menu entry (by url name) the page at `path` belongs to; "" for none. Exactly one entry wins:

    1. the entry whose url name is the page's, or which lists the page's path or url name in its `match`;
    2. else the entry whose URL is the longest prefix of the path (the root URL only matches itself);
    3. else an entry of the same app about the same kind of record (deals:quote_create → deals:quote_list);
    4. else the entry sharing the most leading path segments (same app at least), the first in menu order.
    """
    best, best_score = "", (0, 0)
    current = _segments(path)
    for url_name in url_names:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        extra = (matches or {}).get(url_name, ())
        if url_name == view_name or view_name in extra or any(path.startswith(p) for p in extra if "/" in p):
            score = (4, len(url))
        elif url != "/" and path.startswith(url):
            score = (3, len(url))
        elif url != "/" and ":" in view_name and _stem(url_name) == _stem(view_name):
            score = (2, 0)
        else:
            shared = 0
            for mine, theirs in zip(current, _segments(url), strict=False):
                if mine != theirs:
                    break
                shared += 1
            score = (1, shared) if shared else (0, 0)
        if score > best_score:
            best, best_score = url_name, score
    return best


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


def owner_checks(person, grades, *, field: str) -> dict[str, list[str]]:
    """What the apps say against giving customers of these grades to `person` (a Staff): each app's
    `AppConfig.owner_checks` lists dotted paths of `check(person, grades, *, field) -> {field: [messages]}`
    (the assessment app's rank limits, 职级). Called where an owner is set: a customer saved, a handover."""
    errors: dict[str, list[str]] = {}
    for config in apps.get_app_configs():
        for path in getattr(config, "owner_checks", ()):
            for name, messages in import_string(path)(person, grades, field=field).items():
                errors.setdefault(name, []).extend(messages)
    return errors


def audit_scoped_models() -> list:
    """The models whose customer-less audit events are scoped by the record's own `visible_to`."""
    return [apps.get_model(label) for config in apps.get_app_configs() for label in getattr(config, "audit_scoped", ())]


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
