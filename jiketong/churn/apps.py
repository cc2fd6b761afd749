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
        ),
        NavItem(
            _("Risk alerts"),
            "churn:alerts",
            "bi-bell",
            section="churn",
            roles=frozenset({"customer_manager", "inside_sales", "supervisor", "analyst", "admin"}),
            order=61,
        ),
    ]
    customer_panels = ["jiketong.churn.panels.customer_panel"]
    # What the churn app does when a warning starts or ends (jiketong.core.events).
    # A risk alert raised by the nightly detector is told to the same people, once per alert.
    reactions = {
        "churn.level_changed": ["jiketong.churn.reactions.notify_level_changed"],
        "churn.alert_raised": ["jiketong.churn.reactions.notify_alert_raised"],
        # The alerts keep a copy of their customer's unit for the inbox's scope (decision 0706).
        "customer.moved": ["jiketong.churn.reactions.customer_moved"],
    }
