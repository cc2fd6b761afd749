from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "jiketong.service"
    verbose_name = _("Service tickets and satisfaction")
    # Menu entries and customer 360 panels: see jiketong.core.registry.
    nav: list = []
    customer_panels: list[str] = []
