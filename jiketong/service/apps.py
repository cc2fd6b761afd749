from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class ServiceConfig(AppConfig):
    name = "jiketong.service"
    verbose_name = _("Service tickets and satisfaction")
    nav = [
        NavItem(_("Tickets"), "service:ticket_list", "bi-headset", section="service", order=60),
        NavItem(
            _("SLA breaches"),
            "service:breach_board",
            "bi-alarm",
            section="service",
            roles=frozenset({"supervisor", "admin"}),
            order=61,
        ),
        NavItem(
            _("Satisfaction"),
            "service:quadrant",
            "bi-emoji-smile",
            section="service",
            order=62,
            match=("/service/surveys/",),
        ),
    ]
    customer_panels = ["jiketong.service.panels.customer_panel"]
    # The kept satisfaction figures are per customer's unit: a customer moved recounts both units (decision 0606).
    reactions = {"customer.moved": ["jiketong.service.satisfaction.customer_moved"]}
