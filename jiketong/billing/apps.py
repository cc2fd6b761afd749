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
        )
    ]
    customer_panels = ["jiketong.billing.panels.customer_panel"]
