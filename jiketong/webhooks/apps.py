from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class WebhooksConfig(AppConfig):
    name = "jiketong.webhooks"
    verbose_name = _("Webhooks")
    nav = [NavItem(_("Webhooks"), "webhooks:list", "bi-send", section="webhooks", roles=frozenset({"admin"}), order=96)]
    # Every event goes out to the endpoints that want it (decision 0011).
    reactions = {"*": ["jiketong.webhooks.reactions.fan_out"]}
