from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class FederationConfig(AppConfig):
    name = "jiketong.federation"
    verbose_name = _("Two-level system")
    customer_panels = ["jiketong.federation.panels.customer_panel"]

    @property
    def nav(self) -> list:
        """HQ's national pages (docs/federation.md): in the menu of HQ and of a single instance, not a province's."""
        from . import instance

        if not instance.serves_national_views():
            return []
        return [
            NavItem(_("National groups"), "federation:groups", "bi-globe2", section="federation",
                    roles=frozenset({"admin", "analyst"}), order=90, match=("/federation/",)),
        ]  # fmt: skip

    @property
    def reactions(self) -> dict:
        """A province sends a shared group again when one of its units changes state (the nightly collection
        sends everything else, the indicator cells included). Only a province instance collects. A property:
        core.events (which defines Reaction) imports models, so it cannot be imported while apps load."""
        from jiketong.core.events import Reaction

        from . import instance

        if not instance.is_province():
            return {}  # no handlings nor tasks for nothing on HQ and on a single instance
        group = Reaction("jiketong.federation.reactions.group_changed", background=True)
        return {
            "customer.lifecycle_changed": [group],
            "churn.level_changed": [group],
            "billing.period_replaced": [Reaction("jiketong.federation.reactions.months_replaced", background=True)],
        }
