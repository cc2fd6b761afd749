from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "jiketong.billing"
    verbose_name = _("Billing data from BOSS")
    # Menu entries and customer 360 panels: see jiketong.core.registry.
    nav: list = []
    customer_panels: list[str] = []
