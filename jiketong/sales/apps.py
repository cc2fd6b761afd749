from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "jiketong.sales"
    verbose_name = _("Sales: leads and opportunities")
    # Menu entries and customer 360 panels: see jiketong.core.registry.
    nav: list = []
    customer_panels: list[str] = []
