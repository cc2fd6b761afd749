"""Business analysis (DOMAIN §10): indicator targets, the grading scheme and the re-grade proposals it makes.

Indicators themselves are not stored: `indicators.py` computes them in the database from the billing
facts (CustomerMonth, BillingFact) and the customer archive, scoped to the user.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiketong.core.concurrency import VersionedModel
from jiketong.core.models import TimeStampedModel
from jiketong.core.money import MoneyField
from jiketong.customers.models import Grade
from jiketong.org.scope import ScopedQuerySet, record_scope


class TargetPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


def indicator_choices() -> list[tuple[str, str]]:
    """Every indicator by its name (the registry fills as the apps load), so a target's history and admin
    show 收入, not `revenue`."""
    from .indicators import REGISTRY

    return [(code, item.name) for code, item in REGISTRY.items()]


class TargetQuerySet(models.QuerySet):
    def visible_to(self, user):
        # A target belongs to an org unit, not a customer: whoever sees that subtree sees its targets.
        return self.filter(record_scope(user, org_unit="org_unit", owners=()))


class Target(TimeStampedModel, VersionedModel):
    """What an org unit should reach on one indicator in a month or a year (progress = actual / target).
    Set by analysts and admins in the browser, the API or an Excel file (services.target_save, targets_import);
    `row_version` keeps two people editing one target from overwriting each other unseen."""

    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    indicator = models.CharField(_("indicator"), max_length=40, choices=indicator_choices)
    period_type = models.CharField(_("period type"), max_length=5, choices=TargetPeriod.choices)
    period = models.DateField(_("period"), help_text=_("The first day of the month, or 1 January for a year."))
    value = models.DecimalField(_("target value"), max_digits=18, decimal_places=2)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-period", "indicator", "org_unit_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "indicator", "period_type", "period"],
                name="analytics_target_unique",
                violation_error_message=_("This org unit already has a target for this indicator and period."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period:%Y-%m}: {self.value}"


class GradeScheme(models.Model):
    """How customers are graded and typed (DOMAIN §4). The newest row is in force; without one the defaults apply.

    Each factor scores 0–100; the grade is the first whose threshold the weighted score reaches.
    """

    size_weight = models.PositiveSmallIntegerField(_("weight of size"), default=30)
    revenue_weight = models.PositiveSmallIntegerField(_("weight of revenue"), default=40)
    influence_weight = models.PositiveSmallIntegerField(_("weight of influence"), default=15)
    prospects_weight = models.PositiveSmallIntegerField(_("weight of prospects"), default=15)
    size_full = models.PositiveIntegerField(
        _("members for a full size score"), default=500, validators=[MinValueValidator(1)]
    )
    revenue_full = MoneyField(
        _("yearly revenue for a full revenue score"), default=1_000_000, validators=[MinValueValidator(1)]
    )
    a1_from = models.PositiveSmallIntegerField(_("A1 from score"), default=80, validators=[MaxValueValidator(100)])
    a2_from = models.PositiveSmallIntegerField(_("A2 from score"), default=65, validators=[MaxValueValidator(100)])
    b1_from = models.PositiveSmallIntegerField(_("B1 from score"), default=50, validators=[MaxValueValidator(100)])
    b2_from = models.PositiveSmallIntegerField(_("B2 from score"), default=40, validators=[MaxValueValidator(100)])
    c_from = models.PositiveSmallIntegerField(_("C from score"), default=25, validators=[MaxValueValidator(100)])
    # Key-account faces and the value pyramid (docs/segmentation.md).
    red_margin = models.DecimalField(
        _("red face from margin"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.5"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    white_revenue = MoneyField(_("white face from yearly revenue"), default=500_000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grading scheme")
        verbose_name_plural = _("grading schemes")
        constraints = [
            models.CheckConstraint(
                condition=Q(a1_from__gte=models.F("a2_from"))
                & Q(a2_from__gte=models.F("b1_from"))
                & Q(b1_from__gte=models.F("b2_from"))
                & Q(b2_from__gte=models.F("c_from")),
                name="analytics_gradescheme_thresholds_descending",
                violation_error_message=_("Thresholds must fall from A1 to A2, B1, B2 and C."),
            ),
            models.CheckConstraint(
                condition=Q(size_weight__gt=0)
                | Q(revenue_weight__gt=0)
                | Q(influence_weight__gt=0)
                | Q(prospects_weight__gt=0),
                name="analytics_gradescheme_some_weight",
                violation_error_message=_("At least one weight must be above zero."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d}" if self.created_at else str(_("Default scheme"))

    @classmethod
    def current(cls) -> "GradeScheme":
        return cls.objects.order_by("-created_at", "-id").first() or cls()

    def grade_for(self, score: Decimal) -> str:
        for grade, threshold in (
            (Grade.A1, self.a1_from),
            (Grade.A2, self.a2_from),
            (Grade.B1, self.b1_from),
            (Grade.B2, self.b2_from),
            (Grade.C, self.c_from),
        ):
            if score >= threshold:
                return grade
        return Grade.D


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class GradeProposal(models.Model):
    """A re-grade run's proposal to move one customer to another grade, with the reasons in words."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="grade_proposals"
    )
    old_grade = models.CharField(_("current grade"), max_length=2, choices=Grade.choices)
    new_grade = models.CharField(_("proposed grade"), max_length=2, choices=Grade.choices)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)
    reasons = models.CharField(_("reasons"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("grade proposal")
        verbose_name_plural = _("grade proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="pending"),
                name="analytics_gradeproposal_one_pending",
                violation_error_message=_("This customer already has a pending grade proposal."),
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="analytics_proposal_status")]

    def __str__(self) -> str:
        return f"{self.old_grade} → {self.new_grade}"


class SummaryMeasures(models.Model):
    """The additive measures of a set of billed customer-months (`indicators.month_measures`)."""

    period = models.DateField(_("period"))
    in_service = models.PositiveIntegerField(_("customers in service"), default=0)
    new = models.PositiveIntegerField(_("new customers"), default=0)
    churned = models.PositiveIntegerField(_("churned customers"), default=0)
    revenue = models.DecimalField(_("revenue (yuan)"), max_digits=18, decimal_places=2, default=0)
    revenue_sq = models.DecimalField(_("sum of squared revenue"), max_digits=30, decimal_places=2, default=0)
    sticky_revenue = models.DecimalField(
        _("revenue from sticky products (yuan)"), max_digits=18, decimal_places=2, default=0
    )
    members = models.PositiveBigIntegerField(_("members"), default=0)
    joined = models.PositiveBigIntegerField(_("members joined"), default=0)
    left = models.PositiveBigIntegerField(_("members left"), default=0)
    products = models.PositiveBigIntegerField(_("products in use"), default=0)
    mobile = models.PositiveIntegerField(_("mobile group customers"), default=0)
    integrated = models.PositiveIntegerField(_("integrated-service customers"), default=0)
    categorised = models.PositiveIntegerField(_("mobile or integrated-service customers"), default=0)

    class Meta:
        abstract = True


class IndicatorSummary(SummaryMeasures):
    """The month measures of the billed customers per org unit, industry and grade, so that subtree
    dashboards (a province: 1M customers) read thousands of rows instead of millions. Written only by
    `summary.refresh` (after imports and nightly); read when a table groups by industry or grade (the
    other groupings read UnitSummary). See docs/decisions/0601 and 0604. Like the other month tables (UnitSummary,
    PortfolioSummary, ProductSummary), no index and no database constraint per foreign key: every read names its
    months, which lead the unique key; the rows are derived from the customers' own (a deleted unit, product or
    manager still takes its rows with it, through the ORM), and a rebuild writes millions of rows (decision 0607)."""

    org_unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    industry = models.ForeignKey(
        "customers.Industry",
        verbose_name=_("industry"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices)

    class Meta:
        verbose_name = _("indicator summary")
        verbose_name_plural = _("indicator summaries")
        constraints = [
            models.UniqueConstraint(fields=["period", "org_unit", "industry", "grade"], name="analytics_summary_key")
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.org_unit_id}/{self.industry_id}/{self.grade}"


class UnitSummary(SummaryMeasures):
    """IndicatorSummary added up per org unit: what totals, tables by org unit and trends read (a few
    hundred rows a month, however many customers and industries). Written with IndicatorSummary."""

    org_unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("indicator summary by org unit")
        verbose_name_plural = _("indicator summaries by org unit")
        constraints = [models.UniqueConstraint(fields=["period", "org_unit"], name="analytics_unitsummary_key")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.org_unit_id}"


class PortfolioSummary(SummaryMeasures):
    """The month measures of a customer manager's portfolio (the customers they own plus those they back up:
    never both for one customer, so the two add up), for the manager's dashboard and trend, as of the last
    refresh (who owns what included). Written with IndicatorSummary."""

    staff = models.ForeignKey(
        "org.Staff",
        verbose_name=_("customer manager"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("indicator summary by portfolio")
        verbose_name_plural = _("indicator summaries by portfolio")
        constraints = [models.UniqueConstraint(fields=["period", "staff"], name="analytics_portfoliosummary_key")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.staff_id}"


class ArchiveSummary(models.Model):
    """The archive counted per org unit, industry and grade (organisations surveyed, signed customers), for the
    coverage rate of subtree users: recounted every night (`summary.refresh_archive`), so "now" means as of the
    last night (a few thousand rows instead of a province's million customers)."""

    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    industry = models.ForeignKey(
        "customers.Industry", verbose_name=_("industry"), on_delete=models.CASCADE, related_name="+"
    )
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices)
    surveyed = models.PositiveIntegerField(_("organisations surveyed"), default=0)
    signed = models.PositiveIntegerField(_("signed customers"), default=0)

    class Meta:
        verbose_name = _("archive summary")
        verbose_name_plural = _("archive summaries")
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "industry", "grade"], name="analytics_archivesummary_key")
        ]

    def __str__(self) -> str:
        return f"{self.org_unit_id}/{self.industry_id}/{self.grade}"


class ProductDimension(models.TextChoices):
    """How a ProductSummary row is split beyond its org unit."""

    NONE = "", _("Org unit only")
    INDUSTRY = "industry", _("Industry")
    GRADE = "grade", _("Grade")


class ProductSummary(models.Model):
    """Customers of an org unit using a product in a month (billed revenue or members on it), for the
    penetration figures: per unit, and per unit and industry or grade (`dimension`, `key`). Bounded by the
    org tree and the catalog, never by the number of customers. Written with IndicatorSummary."""

    period = models.DateField(_("period"))
    org_unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    dimension = models.CharField(_("split by"), max_length=8, choices=ProductDimension.choices, blank=True)
    key = models.CharField(_("industry or grade"), max_length=40, blank=True)
    customers = models.PositiveIntegerField(_("customers using it"), default=0)

    class Meta:
        verbose_name = _("product summary")
        verbose_name_plural = _("product summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "dimension", "org_unit", "product", "key"], name="analytics_productsummary_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.org_unit_id} {self.product_id} {self.dimension}={self.key}"


class SummaryPeriod(models.Model):
    """A month the summary holds, and when it was computed."""

    period = models.DateField(_("period"), unique=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"), auto_now=True)

    class Meta:
        verbose_name = _("summarised month")
        verbose_name_plural = _("summarised months")
        ordering = ["period"]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}"


class GroupSpread(models.Model):
    """A group whose units were billed in several provinces over the 12 months to the period, with what the
    group brought in: written with the summary, read for the cross-province and national counts."""

    period = models.DateField(_("period"))
    head = models.ForeignKey(
        "customers.Customer", verbose_name=_("group head"), on_delete=models.CASCADE, related_name="+"
    )
    revenue = models.DecimalField(_("revenue in 12 months (yuan)"), max_digits=18, decimal_places=2)
    provinces = models.PositiveSmallIntegerField(_("provinces"))

    class Meta:
        verbose_name = _("group spread")
        verbose_name_plural = _("group spreads")
        constraints = [models.UniqueConstraint(fields=["period", "head"], name="analytics_groupspread_key")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.head_id}"


class SegmentPeriod(models.Model):
    """A month whose customer segments are materialised (CustomerSegment), and when they were computed."""

    period = models.DateField(_("period"), unique=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"), auto_now=True)

    class Meta:
        verbose_name = _("segmented month")
        verbose_name_plural = _("segmented months")
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}"


class CustomerSegment(models.Model):
    """One customer's segments for the 12 months to a period, computed by `segments.refresh` (nightly, after
    imports, on request in the background) so the segment pages read rows instead of a year of bills.

    The figures (RFM, revenue, estimated profit, net value, face) are the customer's own. Quintiles, value
    tiers and MVC / MGC / BZ rank a customer among the others of a scope: they are kept for the scope of
    each org level (`r1`… = among everyone, `r2`… = within the customer's province, then city, county, grid),
    which is what a supervisor, analyst or HQ user sees; a manager's portfolio is ranked when the page is
    asked for (a few thousand rows). docs/segmentation.md, docs/decisions/0604."""

    period = models.DateField(_("period"))
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices)
    in_rfm = models.BooleanField(_("billed in the 12 months"), default=False)
    in_value = models.BooleanField(_("signed customer"), default=False)
    last_billed = models.DateField(_("last billed"), null=True, blank=True)
    frequency = models.PositiveSmallIntegerField(_("months billed"), default=0)
    monetary = MoneyField(_("revenue in 12 months (yuan)"), default=0)
    revenue_recent = MoneyField(_("revenue of the last 6 months"), default=0)
    revenue_earlier = MoneyField(_("revenue of the 6 months before"), default=0)
    revenue_last3 = MoneyField(_("revenue of the last 3 months"), default=0)
    revenue_prior3 = MoneyField(_("revenue of the 3 months before"), default=0)
    members_now = models.PositiveIntegerField(_("members billed in the month"), null=True, blank=True)
    profit = MoneyField(_("estimated profit"), default=0)
    net_value = MoneyField(_("net value"), default=0)
    face = models.CharField(_("face"), max_length=5, blank=True)
    # Quintiles (1–5) and value classes within the scope of each org level (see the docstring).
    r1 = models.PositiveSmallIntegerField(null=True)
    f1 = models.PositiveSmallIntegerField(null=True)
    m1 = models.PositiveSmallIntegerField(null=True)
    tier1 = models.CharField(max_length=10, blank=True)
    value1 = models.CharField(max_length=3, blank=True)
    r2 = models.PositiveSmallIntegerField(null=True)
    f2 = models.PositiveSmallIntegerField(null=True)
    m2 = models.PositiveSmallIntegerField(null=True)
    tier2 = models.CharField(max_length=10, blank=True)
    value2 = models.CharField(max_length=3, blank=True)
    r3 = models.PositiveSmallIntegerField(null=True)
    f3 = models.PositiveSmallIntegerField(null=True)
    m3 = models.PositiveSmallIntegerField(null=True)
    tier3 = models.CharField(max_length=10, blank=True)
    value3 = models.CharField(max_length=3, blank=True)
    r4 = models.PositiveSmallIntegerField(null=True)
    f4 = models.PositiveSmallIntegerField(null=True)
    m4 = models.PositiveSmallIntegerField(null=True)
    tier4 = models.CharField(max_length=10, blank=True)
    value4 = models.CharField(max_length=3, blank=True)
    r5 = models.PositiveSmallIntegerField(null=True)
    f5 = models.PositiveSmallIntegerField(null=True)
    m5 = models.PositiveSmallIntegerField(null=True)
    tier5 = models.CharField(max_length=10, blank=True)
    value5 = models.CharField(max_length=3, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer segment")
        verbose_name_plural = _("customer segments")
        constraints = [models.UniqueConstraint(fields=["period", "customer"], name="analytics_segment_key")]
        indexes = [
            # The lists' orders: RFM by revenue, value by net value, biggest first, one month at a time.
            models.Index(fields=["period", "-monetary"], name="analytics_segment_monetary"),
            models.Index(fields=["period", "-net_value"], name="analytics_segment_net_value"),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.customer_id}"


class RunKind(models.TextChoices):
    SEGMENTS = "segments", _("Customer segments")
    REGRADE = "regrade", _("Re-grade")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class AnalyticsRun(models.Model):
    """A piece of business analysis run by the task worker, never in a request: the segments of a month, or a
    re-grade of the starter's scope. Its page polls `status` and `progress`."""

    kind = models.CharField(_("kind"), max_length=10, choices=RunKind.choices)
    period = models.DateField(_("period"))
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    result = models.PositiveIntegerField(_("result"), default=0, help_text=_("Proposals made, or rows written."))
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("analysis run")
        verbose_name_plural = _("analysis runs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status", "period"], name="analytics_run_kind_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period:%Y-%m}"

    @property
    def is_done(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)
