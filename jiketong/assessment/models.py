"""Manager assessment (考核, DOMAIN §6, §7, §12): the monthly scorecards of every manager and unit, the weights and
targets they are scored with, the month's state (open or closed) and which customer grades each rank may own.

The scorecards are facts computed set-based for a whole month by `compute.month_compute` (the monthly job, a few
aggregates per chunk of managers) and read one row per manager or unit by the pages: a page never aggregates
customers. A closed month has a second, frozen copy of its rows (`closed=True`) that no recomputation touches.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.models import ConstraintFieldsMixin
from jiketong.core.money import MoneyField
from jiketong.customers.models import Grade
from jiketong.org.models import Rank


class MonthStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("assessment month", "Open")
    CLOSED = "closed", pgettext_lazy("assessment month", "Closed")


class AssessmentMonth(models.Model):
    """One assessment month: when its figures were last computed and whether it is closed (frozen)."""

    period = models.DateField(_("month"), unique=True)
    status = models.CharField(_("status"), max_length=8, choices=MonthStatus.choices, default=MonthStatus.OPEN)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    managers = models.PositiveIntegerField(_("managers"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("assessment month", "closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assessment month")
        verbose_name_plural = _("assessment months")
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}"

    @property
    def is_closed(self) -> bool:
        return self.status == MonthStatus.CLOSED


class ScoreSettings(ConstraintFieldsMixin, models.Model):
    """Weights and targets of the scorecard, for a unit (the default of every manager in its subtree) or for one
    manager, from a month on. Never edited in place: every save is a new version (history kept, audited), and a
    month is scored with the newest version valid in it (the manager's own, else the nearest unit's, else the
    built-in defaults of `components.COMPONENTS`)."""

    CONSTRAINT_FIELDS = {"assessment_scoresettings_one_subject": "staff"}

    org_unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("org unit"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    staff = models.ForeignKey(
        "org.Staff",
        verbose_name=_("customer manager"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    valid_from = models.DateField(_("valid from (month)"))
    version = models.PositiveIntegerField(_("version"))
    terms = models.JSONField(_("weights and targets"), default=dict)
    cap = models.DecimalField(_("cap"), max_digits=4, decimal_places=2, default="1.20")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scorecard settings")
        verbose_name_plural = _("scorecard settings")
        ordering = ["-valid_from", "-version"]
        constraints = [
            models.CheckConstraint(
                condition=Q(org_unit__isnull=True, staff__isnull=False) | Q(org_unit__isnull=False, staff__isnull=True),
                name="assessment_scoresettings_one_subject",
                violation_error_message=_("Settings belong to one org unit or to one manager."),
            ),
            models.UniqueConstraint(
                fields=["org_unit", "version"], condition=Q(staff__isnull=True), name="assessment_settings_unit_version"
            ),
            models.UniqueConstraint(
                fields=["staff", "version"], condition=Q(staff__isnull=False), name="assessment_settings_staff_version"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.valid_from:%Y-%m}"


class Figures(models.Model):
    """The raw figures of a scorecard (numerators and bases of every component), shared by managers and units:
    a unit's figures are the sums of its managers', so the roll-up is exact."""

    period = models.DateField(_("month"))
    closed = models.BooleanField(_("closed copy"), default=False)
    customers = models.PositiveIntegerField(_("customers in the portfolio"), default=0)
    visits_done = models.PositiveIntegerField(_("visits done"), default=0)
    visits_owed = models.PositiveIntegerField(_("visits owed"), default=0)
    follow_ups_done = models.PositiveIntegerField(_("leads and opportunities followed up"), default=0)
    follow_ups_due = models.PositiveIntegerField(_("open leads and opportunities"), default=0)
    login_days = models.PositiveIntegerField(_("days with a login"), default=0)
    working_days = models.PositiveIntegerField(_("working days"), default=0)
    won_count = models.PositiveIntegerField(_("opportunities won"), default=0)
    won_value = MoneyField(_("value won (yuan)"), default=0)
    revenue = MoneyField(_("portfolio revenue (yuan)"), default=0)
    revenue_before = MoneyField(_("portfolio revenue the month before (yuan)"), default=0)
    served_before = models.PositiveIntegerField(_("customers billed the month before"), default=0)
    churned = models.PositiveIntegerField(_("customers churned"), default=0)
    satisfied = models.PositiveIntegerField(_("satisfied answers"), default=0)
    rated = models.PositiveIntegerField(_("ratings and answers"), default=0)
    archive_done = models.PositiveIntegerField(_("archive checks passed"), default=0)
    archive_checks = models.PositiveIntegerField(_("archive checks"), default=0)
    total = models.DecimalField(_("total score"), max_digits=6, decimal_places=1, null=True, blank=True)
    terms = models.JSONField(_("scoring"), default=dict)  # per component: weight, target, actual, score; cap
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        abstract = True


class ManagerScore(Figures):
    """A manager's scorecard for a month: the figures, the weights and targets used, the total and the rank in
    the manager's unit. `org_unit` is the manager's unit when computed (a later move does not rewrite history)."""

    staff = models.ForeignKey(
        "org.Staff", verbose_name=_("customer manager"), on_delete=models.CASCADE, related_name="+"
    )
    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+")
    rank_in_unit = models.PositiveIntegerField(_("rank in the unit"), null=True, blank=True)

    class Meta:
        verbose_name = _("manager scorecard")
        verbose_name_plural = _("manager scorecards")
        constraints = [
            models.UniqueConstraint(fields=["period", "closed", "staff"], name="assessment_managerscore_once")
        ]
        indexes = [
            # A unit's ranking: its managers of a month, best first.
            models.Index(fields=["period", "closed", "org_unit", "-total"], name="assessment_manager_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.staff_id}: {self.total}"


class UnitScore(Figures):
    """A unit's scorecard for a month: the sums of the figures of the managers in its subtree, scored with the
    unit's weights and targets (counts and values per manager)."""

    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    managers = models.PositiveIntegerField(_("managers"), default=0)

    class Meta:
        verbose_name = _("unit scorecard")
        verbose_name_plural = _("unit scorecards")
        constraints = [
            models.UniqueConstraint(fields=["period", "closed", "org_unit"], name="assessment_unitscore_once")
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.org_unit_id}: {self.total}"


class RankGrades(models.Model):
    """Which customer grades a rank (职级) may own (DOMAIN §2, §12). A rank without a row keeps the default of
    `rules.DEFAULT_GRADES`; staff without a rank are not limited."""

    rank = models.CharField(_("rank"), max_length=30, choices=Rank.choices, unique=True)
    grades = models.CharField(_("grades it may own"), max_length=40, help_text=_("Grades separated by commas."))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("grades a rank may own")
        verbose_name_plural = _("grades ranks may own")
        ordering = ["rank"]

    def __str__(self) -> str:
        return f"{self.rank}: {self.grades}"

    @property
    def grade_list(self) -> list[str]:
        return [g for g in self.grades.split(",") if g in Grade.values]


class LoyaltyFact(models.Model):
    """One customer's loyalty and value-retention facts for a month (the loyalty indicators count them; written by
    the monthly job, `loyalty.refresh`). Rows exist for customers billed in the month or value customers billed a
    year before."""

    period = models.DateField(_("month"))
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    in_service = models.BooleanField(_("in service"), default=False)
    revenue = MoneyField(_("revenue (yuan)"), default=0)
    loyal = models.BooleanField(_("loyal"), default=False)
    value_base = models.BooleanField(_("value customer a year before"), default=False)
    value_retained = models.BooleanField(_("value customer retained"), default=False)

    class Meta:
        verbose_name = _("loyalty fact")
        verbose_name_plural = _("loyalty facts")
        constraints = [models.UniqueConstraint(fields=["period", "customer"], name="assessment_loyaltyfact_once")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.customer_id}"


class LoyaltyDimension(models.TextChoices):
    """How a LoyaltySummary row is split beyond its org unit."""

    NONE = "", pgettext_lazy("loyalty summary", "Org unit only")
    INDUSTRY = "industry", pgettext_lazy("loyalty summary", "Industry")
    GRADE = "grade", pgettext_lazy("loyalty summary", "Grade")


class LoyaltySummary(models.Model):
    """The loyalty and satisfaction indicators' counts kept per customer's org unit × month, and per unit × industry
    or grade (`dimension`, `key`), so a province's dashboard reads a few rows per unit instead of every customer's
    LoyaltyFact, rated ticket and survey answer (decision 1002). Written by `summary.refresh` (the definition):
    the whole table each night, a month's rows after its loyalty facts, a unit's month after a rating or a survey,
    a unit's months after a customer moved."""

    period = models.DateField(_("month"))
    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(
        pgettext_lazy("loyalty summary", "split by"), max_length=8, choices=LoyaltyDimension.choices, blank=True
    )
    key = models.CharField(_("industry or grade"), max_length=40, blank=True)
    in_service = models.PositiveIntegerField(_("in service"), default=0)
    loyal = models.PositiveIntegerField(_("loyal"), default=0)
    revenue = MoneyField(_("revenue (yuan)"), default=0)
    loyal_revenue = MoneyField(pgettext_lazy("loyalty summary", "loyal customers' revenue (yuan)"), default=0)
    value_base = models.PositiveIntegerField(_("value customer a year before"), default=0)
    value_retained = models.PositiveIntegerField(_("value customer retained"), default=0)
    rated = models.PositiveIntegerField(pgettext_lazy("loyalty summary", "answers"), default=0)
    satisfied = models.PositiveIntegerField(pgettext_lazy("loyalty summary", "satisfied answers"), default=0)

    class Meta:
        verbose_name = _("loyalty summary")
        verbose_name_plural = _("loyalty summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "dimension", "org_unit", "key"], name="assessment_loyaltysummary_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.org_unit_id} {self.dimension}={self.key}"
