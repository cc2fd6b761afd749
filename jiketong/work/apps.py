from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem

SUPERVISORS = frozenset({"supervisor", "admin"})


class WorkConfig(AppConfig):
    name = "jiketong.work"
    verbose_name = _("Managers' work")
    # One namespace for every page: only the agenda entry lights up on work pages.
    nav = [
        NavItem(_("Agenda"), "work:agenda", "bi-calendar-week", section="work", order=40),
        NavItem(_("Tasks"), "work:task_list", "bi-check2-square", section="-", order=41),
        NavItem(_("Activities"), "work:activity_list", "bi-person-walking", section="-", order=42),
        NavItem(_("Inbox"), "work:notifications", "bi-bell", section="-", order=43),
        NavItem(
            _("Compliance"),
            "work:coverage",
            "bi-clipboard-check",
            section="work-compliance",
            roles=SUPERVISORS,
            order=44,
        ),
        NavItem(
            _("Handovers"),
            "work:handovers",
            "bi-arrow-left-right",
            section="work-handovers",
            roles=SUPERVISORS,
            order=45,
        ),
    ]
    customer_panels = ["jiketong.work.panels.customer_panel"]
    # What managers' work does when other apps report something (jiketong.core.events).
    reactions = {
        "competitor.contract_ending": ["jiketong.work.reactions.competitor_contract_ending"],
        # A customer leaving or returning to service changes what its manager owes (CoverageSummary, 0605).
        "customer.lifecycle_changed": ["jiketong.work.reactions.coverage_of_customer"],
    }
