from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkConfig(AppConfig):
    name = "jiketong.work"
    verbose_name = _("Managers' work")
    # Menu entries and customer 360 panels: see jiketong.core.registry.
    nav: list = []
    customer_panels: list[str] = []
