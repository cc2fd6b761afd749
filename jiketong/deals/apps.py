from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem

# Role codes as strings: org.models cannot be imported while the app registry loads.
# Auditors and analysts read; the roles that sell and approve act.
DEAL_ROLES = frozenset({"customer_manager", "inside_sales", "supervisor", "admin", "auditor", "analyst"})
APPROVER_ROLES = frozenset({"supervisor", "admin"})


class DealsConfig(AppConfig):
    name = "jiketong.deals"
    verbose_name = _("Quotes, contracts and orders")
    nav = [
        NavItem(_("Quotes"), "deals:quote_list", "bi-receipt", section="deals", roles=DEAL_ROLES, order=30),
        NavItem(
            _("Approvals"),
            "deals:approval_queue",
            "bi-check2-square",
            section="deals",
            roles=APPROVER_ROLES,
            order=31,
        ),
        NavItem(
            _("Contracts"), "deals:contract_list", "bi-file-earmark-text", section="deals", roles=DEAL_ROLES, order=32
        ),
        NavItem(_("Orders"), "deals:order_list", "bi-cart-check", section="deals", roles=DEAL_ROLES, order=33),
    ]
    customer_panels = ["jiketong.deals.panels.customer_panel"]
    # Who hears about a quote's approval (jiketong.core.events).
    reactions = {
        "quote.submitted": ["jiketong.deals.reactions.quote_submitted"],
        "quote.decided": ["jiketong.deals.reactions.quote_decided"],
    }
