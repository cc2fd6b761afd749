from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from .registry import NavItem


class CoreConfig(AppConfig):
    name = "jiketong.core"
    verbose_name = _("Core")
    nav = [NavItem(_("Events"), "events:list", "bi-broadcast", section="events", roles=frozenset({"admin"}), order=95)]

    def ready(self) -> None:
        from django.apps import apps

        from .validators import install_text_validators

        # Every app's models are loaded before any ready() runs.
        install_text_validators(model for model in apps.get_models() if model.__module__.startswith("jiketong."))
