from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class CampaignsConfig(AppConfig):
    name = "jiketong.campaigns"
    verbose_name = _("Campaigns")
    nav = [
        NavItem(
            _("Campaigns"),
            "campaigns:list",
            "bi-megaphone",
            section="campaigns",
            roles=frozenset({"customer_manager", "inside_sales", "supervisor", "analyst", "admin", "auditor"}),
            order=55,
        ),
        NavItem(
            _("Whitespace"),
            "campaigns:whitespace",
            "bi-grid-3x3-gap",
            section="campaigns",
            roles=frozenset({"supervisor", "analyst", "admin"}),
            order=56,
        ),
    ]
    customer_panels = ["jiketong.campaigns.panels.customer_panel"]
    # A lead a campaign produced, once its opportunity is won, converts the campaign's target.
    reactions = {"opportunity.stage_changed": ["jiketong.campaigns.reactions.opportunity_won"]}
