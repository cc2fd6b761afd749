"""The front of the sales loop (DOMAIN §6): leads (线索), opportunities (商机) and their stages."""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.concurrency import VersionedModel
from jiketong.core.imports import ImportRunBase
from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.core.money import MoneyField
from jiketong.core.validators import mask_mobile, validate_uscc
from jiketong.customers.models import Competitor, Customer, CustomerSource, Grade
from jiketong.org.scope import NOTHING, customer_scope, record_scope


def _own(user, field: str) -> Q:
    """Records the user owns as an active staff member, whatever their role."""
    from jiketong.org.models import staff_of

    staff = staff_of(user)
    if staff is None or not user.is_active or not staff.is_active:
        return NOTHING
    return Q(**{field: staff.pk})


class Stage(models.Model):
    """An opportunity stage with its win probability (DOMAIN §6; admins may add, rename or reorder).

    The name is data an admin edits, like an industry's name, so it is stored as written (Chinese by default).
    """

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=30)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), validators=[MaxValueValidator(100)])
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(is_won=True) & Q(is_lost=True)),
                name="sales_stage_not_won_and_lost",
                violation_error_message=_("A stage cannot be both won and lost."),
            ),
            models.CheckConstraint(
                condition=Q(probability__lte=100),
                name="sales_stage_probability_range",
                violation_error_message=_("The win probability is a percentage from 0 to 100."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.probability}%)"

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


# The same list as a customer's source: a converted lead's source becomes the customer's.
LeadSource = CustomerSource


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("Working")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")


OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)


class LeadQuerySet(models.QuerySet):
    def visible_to(self, user):
        # A lead without a customer belongs to its region and owner; once linked, whoever sees the
        # customer sees the lead too.
        return self.filter(record_scope(user, org_unit="org_unit", owners=("owner",)) | _visible_customers(user, ""))

    def open(self):
        return self.filter(status__in=OPEN_LEAD_STATUSES)


class Lead(ConstraintFieldsMixin, TimeStampedModel, VersionedModel):
    """A lead (线索): an organisation that may become a customer or buy more, before it is qualified."""

    CONSTRAINT_FIELDS = {"sales_lead_disqualify_reason": "disqualify_reason"}

    PERSONAL_FIELDS = ("contact_mobile",)  # masked wherever shown outside the record (core.validators.mask_personal)

    source = models.CharField(_("source"), max_length=15, choices=LeadSource.choices)
    name = models.CharField(_("prospect name"), max_length=100)
    # normalise_org_name(name), kept by the service: the duplicate check looks it up through an index.
    name_key = models.CharField(_("normalised name"), max_length=100, editable=False, db_index=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, validators=[validate_uscc], db_index=True
    )
    # Indexed through sales_lead_unit_status (org_unit first), not on its own: decision 0021.
    org_unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("region"), on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    industry = models.ForeignKey(
        "customers.Industry",
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    expected_size = models.PositiveIntegerField(_("expected size (headcount)"), null=True, blank=True)
    grade_hint = models.CharField(_("expected grade"), max_length=2, choices=Grade.choices, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=40, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=11, blank=True)
    # A bulk writer (the demo) that names its columns may leave this one out: the database fills it in.
    contact_title = models.CharField(_("contact's job title"), max_length=40, blank=True, default="", db_default="")
    need = models.TextField(_("need"), blank=True)
    # Indexed through sales_lead_owner_status (owner first).
    owner = models.ForeignKey(
        "org.Staff",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    disqualify_reason = models.CharField(_("disqualification reason"), max_length=200, blank=True)
    # Set only once a lead is converted: indexed where set (sales_lead_customer, sales_lead_opportunity).
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    # Who created it, as the audit trail's actor: no database constraint (decision 0021); the ORM sets it NULL.
    created_by = models.ForeignKey(
        "auth.User",
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Lists: a region's or an owner's leads by status, newest first.
            models.Index(fields=["org_unit", "status", "-created_at"], name="sales_lead_unit_status"),
            models.Index(fields=["owner", "status", "-created_at"], name="sales_lead_owner_status"),
            models.Index(fields=["-created_at", "-id"], name="sales_lead_created"),
            # Only converted leads have these: an import (every lead new) maintains neither (decision 0021).
            models.Index(fields=["customer"], condition=Q(customer__isnull=False), name="sales_lead_customer"),
            models.Index(fields=["opportunity"], condition=Q(opportunity__isnull=False), name="sales_lead_opportunity"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.DISQUALIFIED) | ~Q(disqualify_reason=""),
                name="sales_lead_disqualify_reason",
                violation_error_message=_("Say why the lead is disqualified."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LEAD_STATUSES

    @property
    def contact_mobile_masked(self) -> str:
        return mask_mobile(self.contact_mobile)


def _portfolio_only(user) -> bool:
    from jiketong.org.models import Role, staff_of

    staff = staff_of(user)
    return bool(staff and not user.is_superuser and not staff.role_codes & (Role.SUBTREE_ROLES | {Role.ADMIN}))


def _visible_customers(user, prefix: str) -> Q:
    """customer_scope through `prefix`, written for the planner. A portfolio is a few hundred customers found
    through the owner and backup indexes: as a subquery PostgreSQL reads just those, where the join it
    needs to OR a customer's owner with the record's own owner scanned the whole archive. Subtree users see
    most of the archive, and a join lets capped lists stop early."""
    if _portfolio_only(user):
        return Q(**{f"{prefix}customer__in": Customer.objects.filter(customer_scope(user)).values("pk")})
    return customer_scope(user, f"{prefix}customer__")


def opportunity_scope(user, prefix: str = "") -> Q:
    """Opportunities (through `prefix`) the user may see: those of visible customers, and their own, even
    on a customer outside their portfolio (an inside-sales user who converted a lead for another's customer)."""
    return _visible_customers(user, prefix) | _own(user, f"{prefix}owner")


class OpportunityQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(opportunity_scope(user))

    def open(self):
        return self.filter(stage__is_won=False, stage__is_lost=False)


class Opportunity(ConstraintFieldsMixin, TimeStampedModel, VersionedModel):
    """An opportunity (商机): a chance to sell to a customer, moving through the stages to won or lost."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        "org.Staff", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="opportunities"
    )
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    expected_close = models.DateField(_("expected close"))
    amount_monthly = MoneyField(_("monthly amount (yuan)"), default=0)
    amount_once = MoneyField(_("one-time amount (yuan)"), default=0)
    competitor = models.CharField(_("competitor"), max_length=16, choices=Competitor.choices, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=200, blank=True)
    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close", "id"]
        indexes = [
            # Board and forecast: open opportunities by stage, closing soonest first.
            models.Index(fields=["stage", "expected_close", "id"], name="sales_opp_stage_close"),
            models.Index(fields=["owner", "stage", "expected_close"], name="sales_opp_owner_stage"),
            models.Index(fields=["customer", "stage"], name="sales_opp_customer_stage"),
            # The opportunity list's order: its first page comes off the index at any scope (0605).
            models.Index(fields=["expected_close", "id"], name="sales_opp_close"),
            # The board's won and lost columns: the last month's closes, newest first (decision 0606).
            models.Index(fields=["-closed_on", "-id"], name="sales_opp_closed", condition=Q(closed_on__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_monthly__gte=0) & Q(amount_once__gte=0),
                name="sales_opportunity_amounts_positive",
                violation_error_message=_("Amounts cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityChildQuerySet(models.QuerySet):
    """Lines and stage changes are visible with their opportunity."""

    def visible_to(self, user):
        return self.filter(opportunity_scope(user, "opportunity__"))


class OpportunityProduct(ConstraintFieldsMixin, models.Model):
    """A product line of an opportunity; when lines exist the opportunity's amounts are their totals."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    amount_monthly = MoneyField(_("monthly amount (yuan)"), default=0)
    amount_once = MoneyField(_("one-time amount (yuan)"), default=0)

    objects = OpportunityChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity product")
        verbose_name_plural = _("opportunity products")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_monthly__gte=0) & Q(amount_once__gte=0),
                name="sales_opportunityproduct_amounts_positive",
                violation_error_message=_("Amounts cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.product_id)


class StageChange(models.Model):
    """One stage change of an opportunity (阶段升迁): who moved it, when, from where to where."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from stage"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        "auth.User", verbose_name=_("changed by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = OpportunityChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["opportunity", "changed_at"], name="sales_stagechange_opp")]

    def __str__(self) -> str:
        return f"{self.from_stage_id or '—'} → {self.to_stage_id}"


class AssignmentRule(models.Model):
    """Who gets a new lead (DOMAIN §4: A-grade and big prospects go to outside sales, the rest to inside
    sales). Rules are tried in order; the first whose conditions all hold decides the role, and the lead
    goes to the least-loaded active staff member with that role in the lead's region (or the nearest
    ancestor unit that has one). An empty condition always holds."""

    order = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=60)
    grade_hints = models.CharField(
        _("expected grades"), max_length=30, blank=True, help_text=_("Comma-separated, e.g. A1,A2; empty for any.")
    )
    min_size = models.PositiveIntegerField(_("minimum size (headcount)"), null=True, blank=True)
    role = models.ForeignKey("org.Role", verbose_name=_("assign to role"), on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    def grades(self) -> set[str]:
        return {g.strip().upper() for g in self.grade_hints.split(",") if g.strip()}

    def matches(self, *, grade_hint: str, size: int | None) -> bool:
        grades = self.grades()
        if grades and grade_hint not in grades:
            return False
        return self.min_size is None or (size is not None and size >= self.min_size)


class LeadImportRun(ImportRunBase):
    """A lead file too large to import in the request (core.imports.ImportRunBase: progress, heartbeat, outcome);
    files of up to IMPORT_INLINE_ROWS rows are imported at once and leave no run."""

    class Meta(ImportRunBase.Meta):
        verbose_name = _("lead import")
        verbose_name_plural = _("lead imports")


def case_scope(user) -> Q:
    """Reference cases are shared across the province (so a star project is replicated in other counties):
    every active staff member reads the cases of their own province; HQ, admins and superusers all of them.
    Who may read the *customer's name* on a case is the customer's scope (ReferenceCaseQuerySet.for_reader)."""
    from jiketong.core.trees import subtree
    from jiketong.org.models import OrgUnit, Role, staff_of
    from jiketong.org.scope import EVERYTHING

    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    staff = staff_of(user)
    if staff is None or not staff.is_active:
        return NOTHING
    if Role.ADMIN in staff.role_codes or staff.org_unit.is_root():
        return EVERYTHING
    province = staff.org_unit.path[: OrgUnit.steplen * 2]
    return Q(org_unit__in=OrgUnit.objects.filter(subtree(province)).values("pk"))


class ReferenceCaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(case_scope(user))

    def for_reader(self, user):
        """`names_customer`: whether this reader may see the customer (its scope), so the page names it;
        everyone else reads the published anonymised name. One EXISTS per row, on the customer's pk; the
        name itself (`customer_name`) is read through the same scope, so a reader outside it never loads it."""
        visible = Customer.objects.filter(customer_scope(user), pk=models.OuterRef("customer_id"))
        return self.annotate(
            names_customer=models.Exists(visible),
            customer_name=models.Subquery(visible.values("name")[:1]),
        )


class ReferenceCase(TimeStampedModel):
    """A won opportunity published as a reference case (标杆案例): industry, products, value, what won it and
    where, for managers elsewhere in the province to replicate. The customer is named only to readers who
    may see it; everyone else reads `public_name` (decision 0106)."""

    opportunity = models.OneToOneField(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="reference_case"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=100)
    industry = models.ForeignKey(
        "customers.Industry", verbose_name=_("industry"), on_delete=models.PROTECT, related_name="+"
    )
    products = models.ManyToManyField("catalog.Product", verbose_name=_("products"), related_name="+")
    value = MoneyField(
        _("value (yuan)"), help_text=_("First-year value of the won opportunity: monthly amount × 12 + one-time.")
    )
    what_won = models.TextField(_("what won it"))
    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    public_name = models.CharField(
        _("anonymised customer name"),
        max_length=60,
        blank=True,
        help_text=_("What readers who may not see the customer read instead of its name, e.g. 某市属三甲医院."),
    )
    published_by = models.ForeignKey(
        "org.Staff",
        verbose_name=pgettext_lazy("reference case", "published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ReferenceCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("reference case")
        verbose_name_plural = _("reference cases")
        ordering = ["-value", "-id"]
        indexes = [
            # An opportunity's "cases in the same industry" (top N by value) and the list filtered by industry.
            models.Index(fields=["industry", "-value", "-id"], name="sales_case_industry_value"),
            models.Index(fields=["-value", "-id"], name="sales_case_value"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def customer_label(self) -> str:
        """The customer as this reader may read it (through `for_reader`): its name inside their scope, the
        anonymised name outside it (or, when none was given, "a 教育 customer in 天河区")."""
        if getattr(self, "names_customer", False):
            return self.customer_name
        return self.public_name or _("A %(industry)s customer in %(region)s") % {
            "industry": self.industry.name,
            "region": self.org_unit.name,
        }


class PipelineFact(models.Model):
    """The open pipeline kept as figures (decisions 0605, 0606): per owner, customer's org unit, stage and
    month of expected close, how many open opportunities and their amounts. What the board's stage totals
    and the forecast read for a supervisor, a few rows per manager instead of every open opportunity in
    scope. Rebuilt each night and, for the owners concerned, after every change of an opportunity
    (`pipeline.refresh_later`); `pipeline.aggregate` is the definition both use. Amounts are unweighted: the
    forecast multiplies by the stage's probability when it reads, so a changed probability shows at once."""

    owner = models.ForeignKey("org.Staff", verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+")
    org_unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))
    count = models.PositiveIntegerField(_("count"), default=0)
    amount_monthly = MoneyField(_("monthly amount (yuan)"), default=0)
    amount_once = MoneyField(_("one-time amount (yuan)"), default=0)

    class Meta:
        verbose_name = _("pipeline figure")
        verbose_name_plural = _("pipeline figures")
        constraints = [
            models.UniqueConstraint(fields=["owner", "org_unit", "stage", "month"], name="sales_pipeline_fact_key")
        ]
        # A subtree's rows: the unit is the scope's condition.
        indexes = [models.Index(fields=["org_unit", "month"], name="sales_pipeline_fact_unit")]

    def __str__(self) -> str:
        return f"{self.owner_id}/{self.org_unit_id}/{self.stage_id} {self.month:%Y-%m}: {self.count}"
