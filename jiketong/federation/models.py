"""The two-level system (decision 1101, docs/federation.md).

HQ side: what the provinces send, keyed (province, natural key, period) so a batch sent twice lands once:
national groups by identity (USCC, 集团编号), their units in each province, the units' months, and each
province's monthly indicator cells (org unit × industry × grade). HQ never holds member phone numbers,
key persons or their mobiles: no table here has a column for them, and the batch schema refuses any other key.
HQ's own directives (national account assignments, national targets) go back to the provinces from `Directive`.

Province side: the federation outbox (`OutboxRow`: the latest state of every row HQ should hold, its id the
sequence number), the cursor (`SyncState`), the groups this province shares with HQ (`SharedGroup`) and the
assignments HQ made (`NationalAssignment`).
"""

import hashlib
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.money import MoneyField


class Kind(models.TextChoices):
    """What one synced row is."""

    GROUP = "group", _("National group")
    UNIT = "unit", _("Unit of a national group")
    UNIT_MONTH = "unit_month", _("Unit's month")
    INDICATOR = "indicator", _("Indicator cell")
    CONTACT = "contact", _("Head-office contact")


# --- HQ side ----------------------------------------------------------------------------------------------
class Province(models.Model):
    """A province instance known to HQ: its credential (only the SHA-256 of the token is kept) and how its
    sync is doing, for the freshness panel."""

    code = models.CharField(_("province code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=40)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    token_prefix = models.CharField(_("token prefix"), max_length=12)
    last_batch_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_seq = models.PositiveBigIntegerField(_("last sequence number received"), default=0)
    batches = models.PositiveIntegerField(_("batches received"), default=0)
    rows = models.PositiveBigIntegerField(_("rows received"), default=0)
    pending = models.PositiveIntegerField(_("rows waiting in the province"), default=0)
    failures = models.PositiveIntegerField(_("failed attempts reported"), default=0)
    last_error = models.CharField(_("last error reported"), max_length=500, blank=True)
    refused = models.PositiveIntegerField(_("batches refused"), default=0)
    national_groups = models.PositiveIntegerField(
        _("national group customers with units here"), default=0, help_text=_("Kept as batches arrive.")
    )
    last_refused_at = models.DateTimeField(_("last refused"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("province instance")
        verbose_name_plural = _("province instances")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        return "fed_" + secrets.token_urlsafe(32)


class NationalGroup(models.Model):
    """A national or cross-province group as one customer: its identity (the head's USCC, else its 集团编号),
    and figures HQ keeps up to date as the units' months arrive (decision 1102): the 12 months to the latest
    month any province sent, the provinces with revenue in them, and 全国性 (≥ 2 provinces, > 1,000,000 yuan)."""

    key = models.CharField(_("identity"), max_length=40, unique=True, help_text=_("USCC, or code:<group code>."))
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True, db_index=True)
    group_code = models.CharField(_("group code"), max_length=20, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    industry = models.CharField(_("industry"), max_length=20, blank=True)
    as_of = models.DateField(_("figures as of"), null=True, blank=True)
    revenue_12m = MoneyField(_("revenue in 12 months (yuan)"), default=0)
    provinces_12m = models.PositiveSmallIntegerField(_("provinces with revenue"), default=0)
    is_national = models.BooleanField(_("national group customer"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("national group")
        verbose_name_plural = _("national groups")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["-revenue_12m"], name="federation_group_revenue"),
            models.Index(
                fields=["is_national"], condition=models.Q(is_national=True), name="federation_group_national"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProvinceRow(models.Model):
    """What every received row carries: the province that sent it and the sequence number it had there. A row
    with a lower sequence number than the stored one is an old replay and changes nothing."""

    province = models.CharField(_("province code"), max_length=6)
    seq = models.PositiveBigIntegerField(_("sequence number"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now=True)

    class Meta:
        abstract = True


class GroupUnit(ProvinceRow):
    """A unit of a national group in one province (the head too, where it sits in that province)."""

    group = models.ForeignKey(
        NationalGroup, verbose_name=_("national group"), on_delete=models.CASCADE, related_name="units"
    )
    key = models.CharField(_("unit key"), max_length=40, help_text=_("USCC, or code:<customer number>."))
    name = models.CharField(_("name"), max_length=100)
    is_head = models.BooleanField(_("head office"), default=False)
    org_unit_code = models.CharField(_("org unit code"), max_length=12)
    org_unit_name = models.CharField(_("org unit"), max_length=60)
    owner_name = models.CharField(_("customer manager"), max_length=40, blank=True)
    grade = models.CharField(_("grade"), max_length=2, blank=True)
    status = models.CharField(_("lifecycle status"), max_length=10, blank=True)
    products = models.JSONField(_("products"), default=list, blank=True)
    at_risk = models.BooleanField(_("churn warning"), default=False)
    risk_reasons = models.CharField(_("risk reasons"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("unit of a national group")
        verbose_name_plural = _("units of national groups")
        ordering = ["province", "-is_head", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "key"],
                name="federation_groupunit_key",
                violation_error_message=_("This province already sent this unit."),
            )
        ]
        indexes = [models.Index(fields=["group", "province"], name="federation_unit_group")]

    def __str__(self) -> str:
        return self.name


class GroupContact(ProvinceRow):
    """A head-office contact the province marked shareable with HQ: a name and a title, nothing else (no
    mobile, e-mail or birthday: HQ has no column for them and the batch schema refuses them)."""

    group = models.ForeignKey(
        NationalGroup, verbose_name=_("national group"), on_delete=models.CASCADE, related_name="contacts"
    )
    key = models.CharField(_("contact key"), max_length=80)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=40)
    title = models.CharField(pgettext_lazy("person", "title"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("head-office contact")
        verbose_name_plural = _("head-office contacts")
        ordering = ["province", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "key"],
                name="federation_groupcontact_key",
                violation_error_message=_("This province already sent this contact."),
            )
        ]
        indexes = [models.Index(fields=["group", "province"], name="federation_contact_group")]

    def __str__(self) -> str:
        return self.name


class NationalTally(models.Model):
    """HQ's one row of national counts kept as batches arrive (decision 1102): 全国性集团客户 counted once."""

    national_groups = models.PositiveIntegerField(_("national group customers"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("national tally")
        verbose_name_plural = _("national tally")

    def __str__(self) -> str:
        return str(self.national_groups)


class UnitMonth(ProvinceRow):
    """A unit's billing month as its province reported it: revenue, members (a count), arrears."""

    group = models.ForeignKey(
        NationalGroup, verbose_name=_("national group"), on_delete=models.CASCADE, related_name="months"
    )
    key = models.CharField(_("unit key"), max_length=40)
    period = models.DateField(pgettext_lazy("billing", "period"))
    revenue = MoneyField(_("revenue (yuan)"), default=0)
    members = models.PositiveIntegerField(_("members"), default=0)
    arrears = models.BooleanField(_("arrears"), default=False)

    class Meta:
        verbose_name = _("unit's month")
        verbose_name_plural = _("units' months")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "key", "period"],
                name="federation_unitmonth_key",
                violation_error_message=_("This province already sent this unit's month."),
            )
        ]
        indexes = [models.Index(fields=["group", "period"], name="federation_month_group")]

    def __str__(self) -> str:
        return f"{self.key} {self.period:%Y-%m}"


class Measures(models.Model):
    """The measures of the analytics summary (`MEASURES`): one cell's, or a province's month added up."""

    in_service = models.PositiveIntegerField(_("customers in service"), default=0)
    new = models.PositiveIntegerField(_("new customers"), default=0)
    churned = models.PositiveIntegerField(_("churned customers"), default=0)
    revenue = models.DecimalField(_("revenue (yuan)"), max_digits=18, decimal_places=2, default=0)
    members = models.PositiveBigIntegerField(_("members"), default=0)
    mobile = models.PositiveIntegerField(_("mobile group customers"), default=0)
    integrated = models.PositiveIntegerField(_("integrated-service customers"), default=0)
    categorised = models.PositiveIntegerField(_("mobile or integrated-service customers"), default=0)

    class Meta:
        abstract = True


MEASURES = ("in_service", "new", "churned", "revenue", "members", "mobile", "integrated", "categorised")


class IndicatorCell(ProvinceRow, Measures):
    """One province's month for one org unit × industry × grade: the measures of the analytics summary."""

    period = models.DateField(pgettext_lazy("billing", "period"))
    org_unit_code = models.CharField(_("org unit code"), max_length=12)
    org_unit_name = models.CharField(_("org unit"), max_length=60)
    industry = models.CharField(_("industry"), max_length=20)
    grade = models.CharField(_("grade"), max_length=2)

    class Meta:
        verbose_name = _("indicator cell")
        verbose_name_plural = _("indicator cells")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "period", "org_unit_code", "industry", "grade"],
                name="federation_cell_key",
                violation_error_message=_("This province already sent this cell."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.period:%Y-%m} {self.org_unit_code}"


class ProvinceMonth(Measures):
    """A province's month added up from its cells, kept as batches arrive (decision 1102): what the national
    indicator page reads, 31 rows a month instead of every cell."""

    province = models.CharField(_("province code"), max_length=6)
    period = models.DateField(pgettext_lazy("billing", "period"))

    class Meta:
        verbose_name = _("province's month")
        verbose_name_plural = _("provinces' months")
        constraints = [models.UniqueConstraint(fields=["province", "period"], name="federation_provincemonth_key")]
        ordering = ["period", "province"]

    def __str__(self) -> str:
        return f"{self.province} {self.period:%Y-%m}"


class AccountAssignment(models.Model):
    """A national account assignment: the lead province and the national account manager and team. HQ keeps
    its own (`NationalAccount`); a province keeps the one HQ sent it (`NationalAssignment`)."""

    lead_province = models.CharField(_("lead province"), max_length=6)
    manager_name = models.CharField(_("national account manager"), max_length=40)
    team = models.JSONField(_("national account team"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("national account assignment")
        verbose_name_plural = _("national account assignments")
        abstract = True

    def assigned(self) -> dict:
        """What the audit trail records of an assignment."""
        return {"lead_province": self.lead_province, "manager_name": self.manager_name, "team": self.team}


class NationalAccount(AccountAssignment):
    """HQ's assignment of a national group: the lead province and the national account manager and team."""

    group = models.OneToOneField(
        NationalGroup, verbose_name=_("national group"), on_delete=models.CASCADE, related_name="account"
    )

    def __str__(self) -> str:
        return f"{self.group} → {self.lead_province}"


class NationalTarget(models.Model):
    """A target HQ sets for a province on one indicator and month or year; the province applies it to its
    province org unit through the analytics targets service."""

    province = models.CharField(_("province code"), max_length=6)
    indicator = models.CharField(_("indicator"), max_length=40)
    period_type = models.CharField(_("period type"), max_length=5)
    period = models.DateField(_("period"))
    value = models.DecimalField(_("target value"), max_digits=18, decimal_places=2)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("national target")
        verbose_name_plural = _("national targets")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "indicator", "period_type", "period"],
                name="federation_target_key",
                violation_error_message=_("This province already has this target."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.indicator} {self.period:%Y-%m}"


class DirectiveKind(models.TextChoices):
    ACCOUNT = "account", _("National account assignment")
    TARGET = "target", _("National target")
    CATALOG = "catalog", _("National catalog")
    DISCOUNT = "discount", _("HQ discount rule")


class CatalogItemKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    PACKAGE = "package", _("Solution package")


class NationalCatalogEntry(models.Model):
    """A product or solution package of HQ's catalog marked national: its content as last published goes to
    every province as a `catalog` directive (a package's products go first)."""

    kind = models.CharField(_("kind"), max_length=10, choices=CatalogItemKind.choices)
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    published_at = models.DateTimeField(_("published at"), auto_now=True)

    class Meta:
        verbose_name = _("national catalog entry")
        verbose_name_plural = _("national catalog")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code"],
                name="federation_catalog_key",
                violation_error_message=_("This item is already in the national catalog."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}"


class NationalDiscountRule(models.Model):
    """An HQ-level discount approval rule for one product category (empty: the default): how deep each level
    may grant in every province. Provinces apply it to their discount approval policy (deals)."""

    category = models.CharField(_("product category"), max_length=20, blank=True, unique=True)
    manager_max = models.DecimalField(_("customer manager may grant (%)"), max_digits=5, decimal_places=2)
    city_max = models.DecimalField(_("city supervisor may grant (%)"), max_digits=5, decimal_places=2)
    province_max = models.DecimalField(_("province supervisor may grant (%)"), max_digits=5, decimal_places=2)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("HQ discount rule")
        verbose_name_plural = _("HQ discount rules")
        ordering = ["category"]

    def __str__(self) -> str:
        return self.category or "default"


class Directive(models.Model):
    """HQ's outbox towards the provinces: every assignment and target as it was set, in order. A province
    reads the ones after its cursor (`GET /federation/directives?after=`), for it or for every province."""

    kind = models.CharField(_("kind"), max_length=10, choices=DirectiveKind.choices)
    province = models.CharField(_("province code"), max_length=6, blank=True, help_text=_("Empty: every province."))
    key = models.CharField(_("key"), max_length=80)
    payload = models.JSONField(_("content"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("directive to the provinces")
        verbose_name_plural = _("directives to the provinces")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


# --- province side ----------------------------------------------------------------------------------------
class OutboxRow(models.Model):
    """The latest state of one row HQ should hold. Collecting a changed row deletes the old one and inserts it
    again, so its id (the sequence number) moves past the cursor and it is sent again; an unchanged row keeps
    its id and is not sent twice. `scope` is the group a unit belongs to (to notice units that left it)."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    key = models.CharField(_("key"), max_length=80)
    period = models.CharField(pgettext_lazy("billing", "period"), max_length=7, blank=True)
    scope = models.CharField(_("group"), max_length=40, blank=True)
    payload = models.JSONField(_("content"), default=dict)
    digest = models.CharField(_("digest"), max_length=64)
    created_at = models.DateTimeField(_("collected at"), auto_now_add=True)

    class Meta:
        verbose_name = _("federation outbox row")
        verbose_name_plural = _("federation outbox rows")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key", "period"],
                name="federation_outbox_key",
                violation_error_message=_("This row is already in the outbox."),
            )
        ]
        indexes = [models.Index(fields=["kind", "scope"], name="federation_outbox_scope")]

    def __str__(self) -> str:
        return f"{self.pk} {self.kind} {self.key} {self.period}"


class SyncState(models.Model):
    """The province's one row: how far the outbox was sent (the cursor), the directives read, and the retry
    clock. Writers to the outbox lock it first, so ids commit in order and the sender never skips one."""

    sent_through = models.PositiveBigIntegerField(_("sent through"), default=0)
    directives_through = models.PositiveBigIntegerField(_("directives read through"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync state")

    def __str__(self) -> str:
        return f"sent through {self.sent_through}"


class SharedGroup(models.Model):
    """A group of this province that HQ sees: named by HQ (a national account assignment whose identity
    matches the head) or shared by the province's supervisor or administrator."""

    customer = models.OneToOneField(
        "customers.Customer", verbose_name=_("head of the group"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(
        _("reason"), max_length=10, choices=[("hq", _("Named by HQ")), ("province", _("Shared by the province"))]
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("group shared with HQ")
        verbose_name_plural = _("groups shared with HQ")

    def __str__(self) -> str:
        return str(self.customer_id)


class NationalAssignment(AccountAssignment):
    """HQ's national account assignment of a group, as this province applied it (audited)."""

    group_key = models.CharField(_("identity"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("head of the group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return self.group_key
