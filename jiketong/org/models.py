"""The org tree (HQ → province → city → county → grid), staff, roles and API tokens."""

import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from treebeard.mp_tree import MP_Node

from jiketong.core.concurrency import VersionedModel
from jiketong.core.models import TimeStampedModel
from jiketong.core.trees import subtree


class OrgLevel(models.TextChoices):
    HQ = "hq", _("HQ")
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County / district")
    GRID = "grid", _("Grid")


class OrgUnit(MP_Node):
    """A node of the operator's org tree. Province, city and county codes are GB/T 2260 division codes
    (44 / 4401 / 440106, written as six digits); a grid extends its county's code with three digits.

    The materialised path is what data scope filters on: a subtree is one indexed prefix query.
    """

    code = models.CharField(
        _("code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^\d{6}(\d{3})?$", _("Use a 6-digit GB/T 2260 code, or 9 digits for a grid."))],
    )
    name = models.CharField(_("name"), max_length=60)
    level = models.CharField(_("level"), max_length=10, choices=OrgLevel.choices)

    steplen = 4

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")

    def __str__(self) -> str:
        return self.name

    @property
    def parent_id(self) -> int | None:
        parent = self.get_parent()
        return parent.pk if parent else None


class Role(models.Model):
    """A role of DOMAIN §2. Stored as rows so a staff member may hold several and admins can see them."""

    CUSTOMER_MANAGER = "customer_manager"
    INSIDE_SALES = "inside_sales"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMIN = "admin"
    AUDITOR = "auditor"
    CHOICES = [
        (CUSTOMER_MANAGER, _("Customer manager")),
        (INSIDE_SALES, _("Inside sales")),
        (SUPERVISOR, _("Supervisor")),
        (ANALYST, _("Analyst")),
        (ADMIN, _("System administrator")),
        (AUDITOR, _("Auditor")),
    ]
    # Who sees what (jiketong.org.scope): a portfolio, or the org subtree.
    PORTFOLIO_ROLES = frozenset({CUSTOMER_MANAGER, INSIDE_SALES})
    SUBTREE_ROLES = frozenset({SUPERVISOR, ANALYST, AUDITOR})
    # Who may reveal a masked mobile or phone number (each reveal is logged).
    REVEAL_ROLES = frozenset({CUSTOMER_MANAGER, INSIDE_SALES, SUPERVISOR})
    # Who may create and change customer records, contacts, members and subscriptions.
    EDIT_ROLES = frozenset({CUSTOMER_MANAGER, INSIDE_SALES, SUPERVISOR, ADMIN})

    code = models.CharField(_("code"), max_length=20, primary_key=True, choices=CHOICES)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return str(self.get_code_display())


class Rank(models.TextChoices):
    """Customer-manager ranks (a field, not a role)."""

    SERVICE_REP = "service_rep", _("Customer service representative")
    MANAGER = "manager", _("Customer manager")
    INDUSTRY_MANAGER = "industry_manager", _("Industry customer manager")
    KEY_ACCOUNT_MANAGER = "key_account_manager", _("Key account manager")
    SENIOR_INDUSTRY_MANAGER = "senior_industry_manager", _("Senior industry customer manager")
    SENIOR_MANAGER = "senior_manager", _("Senior customer manager")
    PRINCIPAL_MANAGER = "principal_manager", _("Principal customer manager")
    CHIEF_MANAGER = "chief_manager", _("Chief customer manager")


class StaffQuerySet(models.QuerySet):
    def active(self):
        return self.filter(user__is_active=True)

    def visible_to(self, user):
        """Staff directory scope: everyone sees colleagues in their own province (to pick a backup
        manager or a handover target); HQ and admins see all."""
        staff = staff_of(user)
        if user.is_superuser or (staff and (Role.ADMIN in staff.role_codes or staff.org_unit.is_root())):
            return self
        if staff is None or not staff.is_active:
            return self.none()
        province_path = staff.org_unit.path[: OrgUnit.steplen * 2]
        return self.filter(subtree(province_path, "org_unit__path"))


class Staff(VersionedModel, TimeStampedModel):
    """A person who works in the system: their org unit, rank and roles. Shares its id with the user.

    Versioned (core.concurrency): two administrators editing one colleague must not overwrite each other."""

    PERSONAL_FIELDS = ("mobile",)  # masked wherever shown outside the record (core.validators.mask_personal)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), primary_key=True, on_delete=models.CASCADE
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=40)
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="staff")
    rank = models.CharField(_("rank"), max_length=30, choices=Rank.choices, blank=True)
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), related_name="staff")
    mobile = models.CharField(_("mobile"), max_length=11, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def id(self) -> int:
        return self.user_id

    @property
    def is_active(self) -> bool:
        return self.user.is_active

    @cached_property
    def role_codes(self) -> frozenset[str]:
        return frozenset(role.code for role in self.roles.all())

    def has_any_role(self, roles) -> bool:
        return bool(self.role_codes & set(roles))


def staff_of(user) -> Staff | None:
    """The user's staff record with org unit and roles, loaded once per request and cached on the user."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_jiketong_staff"):
        staff = Staff.objects.select_related("org_unit").prefetch_related("roles").filter(user=user).first()
        if staff is not None:
            staff.user = user
        user._jiketong_staff = staff
    return user._jiketong_staff


def can(user, roles) -> bool:
    """Does the user hold one of these roles? Superusers hold all."""
    if user.is_superuser:
        return True
    staff = staff_of(user)
    return bool(staff and staff.is_active and staff.has_any_role(roles))


class ApiToken(models.Model):
    """A bearer token for the REST API. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
