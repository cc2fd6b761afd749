from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class ChurnConfig(AppConfig):
    name = "jiketong.churn"
    verbose_name = _("Churn early warning")
    nav = [
        NavItem(
            _("Churn warnings"),
            "churn:warnings",
            "bi-graph-down-arrow",
            section="churn",
            roles=frozenset({"customer_manager", "inside_sales", "supervisor", "analyst", "admin"}),
            order=60,
        )
    ]
    customer_panels = ["jiketong.churn.panels.customer_panel"]
    # What the churn app does when a warning starts or ends (jiketong.core.events).
    reactions = {"churn.level_changed": ["jiketong.churn.reactions.notify_level_changed"]}
