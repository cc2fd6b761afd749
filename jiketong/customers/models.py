"""Group customers (DOMAIN §4): the archive, its hierarchy, relations, key persons and members."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from jiketong.core.concurrency import VersionedModel
from jiketong.core.imports import ImportRunBase
from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.core.validators import validate_uscc
from jiketong.org.scope import ScopedQuerySet, customer_scope


class IndustryApproach(models.TextChoices):
    """How an industry is won (a property of the industry)."""

    CENTRALISED = "centralised", _("Centrally managed: win the regulator or head office")
    CLOSED = "closed", _("Closed: start from members' own services")
    FRAGMENTED = "fragmented", _("Fragmented: win the flagship first")


class Industry(models.Model):
    """An industry of the default list (DOMAIN §4); admins may add or rename."""

    code = models.CharField(_("code"), max_length=20, primary_key=True)
    name = models.CharField(_("name"), max_length=30)
    approach = models.CharField(_("approach"), max_length=12, choices=IndustryApproach.choices)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return self.name


class CustomerType(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    GOVERNMENT = "government", _("Government body")
    INSTITUTION = "institution", _("Public institution")
    SOCIAL = "social", _("Social organisation")
    MILITARY = "military", _("Military")


class Grade(models.TextChoices):
    A1 = "A1", "A1"
    A2 = "A2", "A2"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C = "C", "C"
    D = "D", "D"


class LifecycleStatus(models.TextChoices):
    # The customer lifecycle's words (潜在 → 在网 → 预警 → 离网); a contract's "active" is another word.
    PROSPECT = "prospect", pgettext_lazy("customer lifecycle", "Prospect")
    ACTIVE = "active", pgettext_lazy("customer lifecycle", "Active")
    AT_RISK = "at_risk", _("At risk")
    DORMANT = "dormant", _("Dormant")
    CHURNED = "churned", _("Churned")


class ServiceLevel(models.TextChoices):
    GOLD = "gold", pgettext_lazy("service level", "Gold")
    SILVER = "silver", pgettext_lazy("service level", "Silver")
    BRONZE = "bronze", pgettext_lazy("service level", "Bronze")
    STANDARD = "standard", pgettext_lazy("service level", "Standard")


class CustomerSource(models.TextChoices):
    GRID_SURVEY = "grid_survey", _("Grid survey")
    VISIT = "visit", _("Visit")
    REFERRAL = "referral", _("Referral")
    HOTLINE = "hotline", _("Hotline")
    CAMPAIGN = "campaign", _("Campaign")
    PARTNER = "partner", _("Partner")
    INSIDE_SALES = "inside_sales", _("Inside-sales call")
    IMPORT = "import", pgettext_lazy("customer source", "Import")


class CustomerQuerySet(MP_NodeQuerySet):
    def visible_to(self, user):
        return self.filter(customer_scope(user))


class CustomerManager(MP_NodeManager):
    def get_queryset(self):
        return CustomerQuerySet(self.model, using=self._db).order_by("path")

    def visible_to(self, user):
        return self.get_queryset().visible_to(user)


class Customer(ConstraintFieldsMixin, MP_Node, TimeStampedModel, VersionedModel):
    """A group customer (集团客户). The tree path carries the group hierarchy: a headquarters and its
    member units, which may sit in other provinces and other managers' portfolios."""

    CONSTRAINT_FIELDS = {"customers_customer_backup_not_owner": "backup_owner"}

    # Audit keys holding member numbers (members_bulk_add / _remove), masked like Member.phone.
    PERSONAL_FIELDS = ("members_added", "members_removed")

    number = models.CharField(
        _("customer number"),
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        error_messages={"unique": _("A customer with this customer number already exists.")},
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    uscc = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_uscc],
        error_messages={"unique": _("A customer with this unified social credit code already exists.")},
    )
    type = models.CharField(_("customer type"), max_length=12, choices=CustomerType.choices)
    industry = models.ForeignKey(Industry, verbose_name=_("industry"), on_delete=models.PROTECT, related_name="+")
    size = models.PositiveIntegerField(_("size (headcount)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # These three are indexed through Meta.indexes (customers_org_name has org_unit first), not twice: each
    # index is paid for by every insert (decision 0021).
    org_unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("owning org unit"),
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,
    )
    owner = models.ForeignKey(
        "org.Staff",
        verbose_name=_("customer manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        db_index=False,
    )
    backup_owner = models.ForeignKey(
        "org.Staff",
        verbose_name=_("backup manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="backed_up_customers",
        db_index=False,
    )
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices, default=Grade.D)
    status = models.CharField(
        _("lifecycle status"), max_length=10, choices=LifecycleStatus.choices, default=LifecycleStatus.PROSPECT
    )
    service_level = models.CharField(
        _("service level"), max_length=10, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD
    )
    source = models.CharField(_("source"), max_length=15, choices=CustomerSource.choices, blank=True)
    cooperation_since = models.DateField(_("cooperation since"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # Lower-case name, short name, number, USCC and pinyin (full and initials, every reading), kept by
    # the service on each write; trigram-indexed on PostgreSQL so substring search stays fast at 1M rows.
    search_text = models.TextField(_("search text"), editable=False, default="")

    steplen = 5  # 36^5 ≈ 60M top-level groups
    objects = CustomerManager()

    class Meta:
        verbose_name = _("group customer")
        verbose_name_plural = _("group customers")
        indexes = [
            models.Index(fields=["owner"], name="customers_owner"),
            models.Index(fields=["backup_owner"], name="customers_backup_owner"),
            models.Index(fields=["org_unit", "name"], name="customers_org_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=True) | ~Q(owner=F("backup_owner")),
                name="customers_customer_backup_not_owner",
                violation_error_message=_("The backup manager must be someone other than the customer manager."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def grade_letter(self) -> str:
        return self.grade[0]


class GradeChange(models.Model):
    """One re-grade of a customer: who, when, old → new, and why."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="grade_changes"
    )
    old_grade = models.CharField(_("old grade"), max_length=2, choices=Grade.choices, blank=True)
    new_grade = models.CharField(_("new grade"), max_length=2, choices=Grade.choices)
    reason = models.CharField(_("reason"), max_length=200)
    # Who, as the audit trail's actor: no database constraint (decision 0021); the ORM sets it NULL.
    changed_by = models.ForeignKey(
        "auth.User",
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("grade change")
        verbose_name_plural = _("grade changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_grade or '—'} → {self.new_grade}"


class AffiliationKind(models.TextChoices):
    EQUITY = "equity", _("Control by equity")
    DECISION = "decision", _("Control by decision")
    COMMON = "common", _("Common control by a third party")
    KEY_PERSONS = "key_persons", _("Same key persons or their close family")


class AffiliationDirection(models.TextChoices):
    CONTROLS = "controls", _("controls")
    CONTROLLED_BY = "controlled_by", _("is controlled by")
    MUTUAL = "mutual", _("mutual")


class Affiliation(ConstraintFieldsMixin, TimeStampedModel):
    """关联关系: affiliated customers form one risk and one relationship."""

    CONSTRAINT_FIELDS = {"customers_affiliation_not_self": "related"}

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="affiliations"
    )
    related = models.ForeignKey(
        Customer, verbose_name=_("related customer"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("relation"), max_length=12, choices=AffiliationKind.choices)
    direction = models.CharField(_("direction"), max_length=14, choices=AffiliationDirection.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "related", "kind"],
                name="customers_affiliation_unique",
                violation_error_message=_("This relation is already recorded."),
            ),
            models.CheckConstraint(
                condition=~Q(customer=F("related")),
                name="customers_affiliation_not_self",
                violation_error_message=_("A customer cannot be affiliated with itself."),
            ),
        ]


class Competitor(models.TextChoices):
    TELECOM = "china_telecom", _("China Telecom")
    UNICOM = "china_unicom", _("China Unicom")
    BROADNET = "china_broadnet", _("China Broadnet")
    OTHER = "other", _("Other")


class ThreatLevel(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class CompetitorPresence(TimeStampedModel):
    """Which competitor provides what to this customer, until when, and how dangerous it is (保网)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="competitors"
    )
    competitor = models.CharField(_("competitor"), max_length=16, choices=Competitor.choices)
    products = models.CharField(_("their products"), max_length=200)
    contract_end = models.DateField(_("their contract ends"), null=True, blank=True)
    threat = models.CharField(_("threat level"), max_length=8, choices=ThreatLevel.choices, default=ThreatLevel.MEDIUM)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("competitor presence")
        verbose_name_plural = _("competitor presence")
        ordering = ["contract_end"]


class DecisionRole(models.TextChoices):
    DECIDER = "decider", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    PURCHASER = "purchaser", _("Purchaser")
    TECHNICAL = "technical", _("Technical gatekeeper")


class Contact(TimeStampedModel, VersionedModel):
    """A key person or contact at the customer. Personal data (PIPL): the mobile shows masked."""

    # Masked wherever shown outside the record (core.validators.mask_personal); "dates" is the audit key of
    # the important dates (customers.services.contact_set_dates).
    PERSONAL_FIELDS = ("mobile", "email", "birthday", "dates")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=40)
    title = models.CharField(pgettext_lazy("person", "title"), max_length=40, blank=True)  # 职务, not 标题
    department = models.CharField(_("department"), max_length=60, blank=True)
    decision_role = models.CharField(_("decision role"), max_length=12, choices=DecisionRole.choices, blank=True)
    is_key_person = models.BooleanField(_("key person"), default=False)
    # Two-level system: HQ receives this contact's name and title (never the mobile) when the group is shared.
    is_shareable = models.BooleanField(
        _("shareable with HQ"),
        default=False,
        db_default=False,  # the bulk writers (archive import, demo generator) may leave the column out
        help_text=_("A head-office contact's name and title go to HQ with the shared group; never the mobile."),
    )
    mobile = models.CharField(_("mobile"), max_length=11, blank=True)
    email = models.EmailField(_("email"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferences = models.CharField(_("preferences"), max_length=200, blank=True)
    closeness = models.PositiveSmallIntegerField(
        _("closeness (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    notes = models.TextField(_("notes"), blank=True)
    # The person left the customer (离职): kept for the history, greyed on the map, never a known decision maker.
    left_on = models.DateField(_("left the customer on"), null=True, blank=True)
    # 高层对高层: who on our side keeps the relationship with this person (someone who can see the customer).
    counterpart = models.ForeignKey(
        "org.Staff",
        verbose_name=_("our counterpart"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="counterpart_contacts",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_key_person", "name"]
        # The nightly risk alerts look for key persons who left recently (churn detector).
        indexes = [models.Index(fields=["left_on"], name="customers_contact_left_on")]

    def __str__(self) -> str:
        return self.name


class RelationKind(models.TextChoices):
    REPORTS_TO = "reports_to", pgettext_lazy("key persons", "reports to")  # 汇报给
    INFLUENCES = "influences", pgettext_lazy("key persons", "influences")  # 影响


class ContactRelation(ConstraintFieldsMixin, TimeStampedModel):
    """How two key persons of one customer relate on the key-person map: `from_contact` reports to, or
    influences, `to_contact`. Both belong to `customer` (kept on the row for the scope and the map's one
    query); reports-to links never form a cycle (customers.services.contact_relation_add)."""

    CONSTRAINT_FIELDS = {"customers_contactrelation_not_self": "to_contact"}

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contact_relations"
    )
    from_contact = models.ForeignKey(
        Contact, verbose_name=_("person"), on_delete=models.CASCADE, related_name="relations_out"
    )
    to_contact = models.ForeignKey(
        Contact, verbose_name=_("related person"), on_delete=models.CASCADE, related_name="relations_in"
    )
    kind = models.CharField(_("relation"), max_length=12, choices=RelationKind.choices)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("key-person relation")
        verbose_name_plural = _("key-person relations")
        ordering = ["kind", "id"]
        indexes = [models.Index(fields=["customer", "kind"], name="customers_contactrel_customer")]
        constraints = [
            models.UniqueConstraint(
                fields=["from_contact", "to_contact", "kind"],
                name="customers_contactrelation_unique",
                violation_error_message=_("This relation is already recorded."),
            ),
            models.CheckConstraint(
                condition=~Q(from_contact=F("to_contact")),
                name="customers_contactrelation_not_self",
                violation_error_message=_("A person cannot be related to themselves."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_contact} → {self.to_contact} ({self.get_kind_display()})"


class GapKind(models.TextChoices):
    NO_DECIDER = "no_decider", _("No known decision maker")
    UNMET_DECIDER = "unmet_decider", _("Decision maker not met in 90 days")


class KeyPersonGap(models.Model):
    """A kept fact (decision 0020): a customer without a known decision maker, or a decision maker of a
    customer nobody met in the last 90 days, as of `computed_on`. Rebuilt every night (customers.keypersons,
    set-based) and for one customer when its contacts change, so a supervisor's list reads these rows only."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=14, choices=GapKind.choices)
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices)  # copied: the list's order
    last_met_at = models.DateTimeField(_("last met"), null=True, blank=True)
    computed_on = models.DateField(_("computed on"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("key-person gap")
        verbose_name_plural = _("key-person gaps")
        # The supervisor's list, biggest customers first: a page reads its rows off this index.
        indexes = [
            models.Index(fields=["kind", "grade", "customer"], name="customers_kpgap_list"),
            models.Index(fields=["customer"], name="customers_kpgap_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.get_kind_display()}"


class ContactDateQuerySet(ScopedQuerySet):
    customer_path = "contact__customer__"


class ContactDate(models.Model):
    """An important date of a contact other than the birthday (wedding, joined the company, ...)."""

    PERSONAL_FIELDS = ("date",)

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="dates")
    label = models.CharField(_("occasion"), max_length=40)
    date = models.DateField(_("date"))

    objects = ContactDateQuerySet.as_manager()

    class Meta:
        verbose_name = _("important date")
        verbose_name_plural = _("important dates")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.label} {self.date:%m-%d}"


class PaidBy(models.TextChoices):
    GROUP = "group", _("Paid by the group")
    SELF = "self", _("Paid by the member")


class Network(models.TextChoices):
    ON_NET = "on_net", _("On our network")
    OFF_NET = "off_net", _("Other operator")


class MemberQuerySet(ScopedQuerySet):
    def current(self):
        return self.filter(left_on__isnull=True)


class Member(ConstraintFieldsMixin, models.Model):
    """A subscriber (phone number) belonging to the group. Personal data: the phone shows masked."""

    PERSONAL_FIELDS = ("phone",)

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="members")
    phone = models.CharField(_("phone number"), max_length=11)
    department = models.CharField(_("department"), max_length=60, blank=True)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    paid_by = models.CharField(_("paid by"), max_length=6, choices=PaidBy.choices, default=PaidBy.SELF)
    network = models.CharField(_("network"), max_length=8, choices=Network.choices, default=Network.ON_NET)
    short_number = models.CharField(_("V-net short number"), max_length=8, blank=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-joined_on", "id"]
        indexes = [models.Index(fields=["customer", "left_on"], name="customers_member_current")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "phone"],
                condition=Q(left_on__isnull=True),
                name="customers_member_phone_current",
                violation_error_message=_("This number is already a current member of the group."),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="customers_member_leave_after_join",
                violation_error_message=_("The leave date cannot be before the join date."),
            ),
        ]

    def __str__(self) -> str:
        from jiketong.core.validators import mask_mobile

        return mask_mobile(self.phone)


class ImportMatch(models.TextChoices):
    USCC = "uscc", _("By unified social credit code")
    NUMBER = "number", _("By customer number (集团编号)")


class ImportAction(models.TextChoices):
    UPSERT = "upsert", _("Update the customers found, create the others")
    CREATE = "create", _("Create new customers only")
    UPDATE = "update", _("Update existing customers only")


class CustomerImportRun(ImportRunBase):
    """An archive import (customers.imports): a survey sheet or a BOSS customer master with key persons and
    members, matched to the archive by USCC or customer number. Progress, heartbeat and outcome come from
    core.imports.ImportRunBase; `counts` says what landed (customers created/updated, contacts, members)."""

    match = models.CharField(_("match by"), max_length=6, choices=ImportMatch.choices, default=ImportMatch.USCC)
    action = models.CharField(_("action"), max_length=6, choices=ImportAction.choices, default=ImportAction.UPSERT)
    allow_same_name = models.BooleanField(
        _("allow names like existing customers'"),
        default=False,
        help_text=_("Create a customer even when one with the same name (legal-form suffixes aside) exists."),
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)

    class Meta(ImportRunBase.Meta):
        verbose_name = _("archive import")
        verbose_name_plural = _("archive imports")
