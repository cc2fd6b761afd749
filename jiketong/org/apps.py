from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "jiketong.org"
    verbose_name = _("Organisation and staff")
    audit_scoped = ["org.Staff"]  # a colleague's history is read by whoever may see them (core.registry)
