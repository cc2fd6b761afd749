from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "jiketong.catalog"
    verbose_name = _("Catalog and subscriptions")
    # Members who leave come off member-level subscriptions (jiketong.core.events).
    reactions = {"member.left": ["jiketong.catalog.reactions.member_left"]}
