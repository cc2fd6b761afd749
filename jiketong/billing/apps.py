from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class BillingConfig(AppConfig):
    name = "jiketong.billing"
    verbose_name = _("Billing data from BOSS")
    # Imports are an analyst's or an admin's job (decision 0501); points show on the customer 360 page.
    nav = [
        NavItem(
            _("Billing imports"),
            "billing:import_list",
            "bi-cloud-upload",
            section="billing",
            roles=frozenset({"analyst", "admin"}),
            order=80,
        ),
        # BOSS takes the month's redemptions off the bills; supervisors see their subtree's.
        NavItem(
            _("Points redemptions"),
            "billing:redemption_list",
            "bi-gift",
            section="billing",
            roles=frozenset({"supervisor", "analyst", "admin"}),
            order=81,
        ),
        NavItem(_("Club benefits"), "billing:benefit_list", "bi-award", section="billing", order=82),
    ]
    customer_panels = ["jiketong.billing.panels.customer_panel"]
