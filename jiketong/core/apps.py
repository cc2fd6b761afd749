from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from .registry import NavItem


class CoreConfig(AppConfig):
    name = "jiketong.core"
    verbose_name = _("Core")
    nav = [NavItem(_("Events"), "events:list", "bi-broadcast", section="events", roles=frozenset({"admin"}), order=95)]
