from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class SalesConfig(AppConfig):
    name = "jiketong.sales"
    verbose_name = _("Sales: leads and opportunities")
    audit_scoped = ["sales.Lead"]  # a lead with no customer yet is audited without one (core.registry)
    # Menu entries and customer 360 panels: see jiketong.core.registry (one entry is active: the best URL match;
    # an opportunity's page belongs to the pipeline).
    nav = [
        NavItem(_("Leads"), "sales:lead_list", "bi-funnel", section="sales", order=20),
        NavItem(
            _("Pipeline"), "sales:board", "bi-kanban", section="sales-board", order=21, match=("/sales/opportunities/",)
        ),
        NavItem(
            _("My pipeline"),
            "sales:mine",
            "bi-person-workspace",
            section="sales-mine",
            roles=frozenset({"customer_manager", "inside_sales"}),
            order=22,
        ),
        NavItem(_("Forecast"), "sales:forecast", "bi-graph-up-arrow", section="sales-forecast", order=23),
        NavItem(_("Reference cases"), "sales:case_list", "bi-award", section="sales-cases", order=24),
    ]
    customer_panels = ["jiketong.sales.panels.customer_panel"]
    # What sales does when other apps report something (jiketong.core.events).
    reactions = {
        "order.completed": ["jiketong.sales.reactions.order_completed"],
        "customer.moved": ["jiketong.sales.reactions.customer_moved"],
    }
