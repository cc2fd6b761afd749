from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class AssessmentConfig(AppConfig):
    name = "jiketong.assessment"
    verbose_name = _("Manager assessment")
    # The rank (职级) limits the grades a manager may own: checked wherever an owner is set (core.registry).
    owner_checks = ["jiketong.assessment.rules.owner_errors"]
    # The loyalty and satisfaction counts kept per unit follow what changes them (summary.py, decision 1002).
    reactions = {
        "ticket.rated": ["jiketong.assessment.summary.satisfaction_answered"],
        "survey.recorded": ["jiketong.assessment.summary.satisfaction_answered"],
        "customer.moved": ["jiketong.assessment.summary.customer_moved"],
    }
    nav = [
        NavItem(
            _("My scorecard"),
            "assessment:mine",
            "bi-clipboard-data",
            section="assessment",
            roles=frozenset({"customer_manager", "inside_sales"}),
            order=66,
        ),
        NavItem(
            _("Scorecards"),
            "assessment:unit",
            "bi-trophy",
            section="assessment",
            roles=frozenset({"supervisor", "analyst", "admin", "auditor"}),
            order=67,
            match=("/assessment/",),
        ),
    ]

    def ready(self) -> None:
        from . import indicators  # noqa: F401 - registers the loyalty and satisfaction indicators with analytics
