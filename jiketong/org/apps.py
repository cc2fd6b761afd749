from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiketong.core.registry import NavItem


class OrgConfig(AppConfig):
    name = "jiketong.org"
    verbose_name = _("Organisation and staff")
    access = "jiketong.org.access"  # who holds which role, for the kernel (core.access)
    audit_scoped = ["org.Staff"]  # a colleague's history is read by whoever may see them (core.registry)
    nav = [
        NavItem(
            _("User management"),
            "org:staff_list",
            "bi-person-gear",
            section="org",
            roles=frozenset({"admin"}),
            order=90,
        ),  # fmt: skip
    ]

    def ready(self) -> None:
        from django.contrib import admin

        # Django admin stays the superuser's tool (staff accounts are kept in 用户管理, through the services).
        admin.site.site_header = _("Jiketong administration")
        admin.site.site_title = _("Jiketong administration")
        admin.site.has_permission = _superusers_only


def _superusers_only(request) -> bool:
    """Django admin writes bypass the services and their audit: only a superuser (the operator) uses it."""
    return request.user.is_active and request.user.is_superuser
