from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class AssessmentConfig(AppConfig):
    name = "jiketong.assessment"
    verbose_name = _("Manager assessment")
    # The rank (职级) limits the grades a manager may own: checked wherever an owner is set (core.registry).
    owner_checks = ["jiketong.assessment.rules.owner_errors"]
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
        from jiketong.core.events import Reaction  # its module defines models: importable once apps are loaded

        from . import indicators  # noqa: F401 - registers the loyalty and satisfaction indicators with analytics

        # The loyalty and satisfaction counts kept per unit follow what changes them (summary.py, decision 1002),
        # by the task worker: a unit's month is a few hundred ms at 100k, not for the request that saved a rating.
        recount = "jiketong.assessment.summary.satisfaction_answered"
        self.reactions = {
            "ticket.rated": [Reaction(recount, background=True)],
            "survey.recorded": [Reaction(recount, background=True)],
            "customer.moved": [Reaction("jiketong.assessment.summary.customer_moved", background=True)],
        }
