from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class DefenceConfig(AppConfig):
    name = "jiketong.defence"
    verbose_name = _("Defence and retention")
    nav = [
        NavItem(
            _("Defence board"),
            "defence:board",
            "bi-shield-exclamation",
            section="defence",
            roles=frozenset({"customer_manager", "inside_sales", "supervisor", "analyst", "admin"}),
            order=62,
            match=("/defence/",),
        )
    ]
    customer_panels = ["jiketong.defence.panels.customer_panel", "jiketong.defence.panels.group_panel"]
    # A rival recorded (the archive's presence or our attack log) or a rival's contract ending puts the customer
    # on the board and, for a high threat, tells its manager and supervisor; a lifecycle change to or from
    # 离网 keeps the win-back list; the one-click retention task opens its case (jiketong.core.events).
    reactions = {
        "competitor.threat_recorded": ["jiketong.defence.reactions.threat_recorded"],
        "competitor.contract_ending": ["jiketong.defence.reactions.contract_ending"],
        "customer.lifecycle_changed": ["jiketong.defence.reactions.lifecycle_changed"],
        "churn.retention_opened": ["jiketong.defence.reactions.retention_opened"],
    }

    def ready(self) -> None:
        from jiketong.core.events import Reaction  # its module defines models: importable once apps are loaded

        from . import indicators  # noqa: F401 - registers the defence indicators with analytics

        # One group, one risk (decision 0802): a unit's warning starting or ending rolls its group and affiliated
        # set up again, by the task worker (the nightly scoring may warn thousands at once; the nightly roll-up
        # follows it anyway). Declared here: core.events defines models, importable once the apps are loaded.
        self.reactions = {
            **self.reactions,
            "churn.level_changed": [Reaction("jiketong.defence.reactions.churn_level_changed", background=True)],
        }
