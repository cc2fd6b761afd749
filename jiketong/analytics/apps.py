from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem

# Role codes as in jiketong.org.models.Role (models cannot be imported while apps load).
ANALYSIS = frozenset({"supervisor", "analyst", "auditor", "admin"})
PORTFOLIO = frozenset({"customer_manager", "inside_sales"})


class AnalyticsConfig(AppConfig):
    name = "jiketong.analytics"
    verbose_name = _("Business analysis")
    nav = [
        NavItem(
            _("Dashboard"),
            "analytics:dashboard",
            "bi-speedometer2",
            section="analytics",
            roles=ANALYSIS | PORTFOLIO,
            order=70,
        ),
        NavItem(
            _("Targets"),
            "analytics:target_list",
            "bi-bullseye",
            section="analytics",
            roles=ANALYSIS,
            order=71,
        ),
        NavItem(
            _("Grade proposals"),
            "analytics:proposal_list",
            "bi-arrow-down-up",
            section="analytics",
            roles=ANALYSIS,
            order=72,
        ),
    ]
    customer_panels: list[str] = []
    # Replaced billing months refresh the summary as part of the import (jiketong.core.events).
    reactions = {"billing.period_replaced": ["jiketong.analytics.reactions.billing_period_replaced"]}
