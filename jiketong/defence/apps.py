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
        "customer.moved": ["jiketong.defence.reactions.customer_moved"],
    }

    def ready(self) -> None:
        from jiketong.core.events import Reaction  # its module defines models: importable once apps are loaded

        from . import indicators  # noqa: F401 - registers the defence indicators with analytics

        # One group, one risk (decision 0802): a unit's warning starting or ending, a threat recorded or its
        # lifecycle changing rolls its group and affiliated set up again, by the task worker (a group may have
        # thousands of units; the nightly scoring may warn thousands at once; the nightly roll-up follows anyway).
        # Declared here: core.events defines models, importable once the apps are loaded.
        roll_up = Reaction("jiketong.defence.reactions.sets_roll_up", background=True)
        reactions = {name: list(paths) for name, paths in self.reactions.items()}
        for name in ("churn.level_changed", "competitor.threat_recorded", "customer.lifecycle_changed"):
            reactions.setdefault(name, []).append(roll_up)
        self.reactions = reactions
