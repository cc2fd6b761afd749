from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChurnConfig(AppConfig):
    name = "jiketong.churn"
    verbose_name = _("Churn early warning")
    # Menu entries and customer 360 panels: see jiketong.core.registry.
    nav: list = []
    customer_panels: list[str] = []
