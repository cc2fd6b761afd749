"""Customer-manager work (DOMAIN §7): activities, tasks, visit standards by grade, and handovers."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.models import TimeStampedModel
from jiketong.customers.models import Grade, LifecycleStatus
from jiketong.org.scope import customer_scope, record_scope


def local_midnight(day: date) -> datetime:
    """The instant a local (Asia/Shanghai) day begins; periods and agendas are local dates."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def work_scope(user, prefix: str = "", model=None) -> Q:
    """Activities and tasks of a visible customer; one without a customer (a lead's call, a personal to-do)
    follows its owner: the owner themself and supervisors over the owner's unit. A manager always sees
    their own."""
    from jiketong.org.models import Role, staff_of

    staff = staff_of(user)
    roles = staff.role_codes if staff is not None and staff.is_active and not user.is_superuser else set()
    if (
        model is not None
        and not prefix
        and roles & Role.PORTFOLIO_ROLES
        and not roles & (Role.SUBTREE_ROLES | {Role.ADMIN})
    ):
        return _portfolio_work(user, staff, model)
    with_customer = Q(**{f"{prefix}customer__isnull": False}) & customer_scope(user, f"{prefix}customer__")
    without = Q(**{f"{prefix}customer__isnull": True}) & record_scope(
        user, org_unit=f"{prefix}owner__org_unit", owners=(f"{prefix}owner",)
    )
    own = Q(**{f"{prefix}owner": staff.pk}) if staff is not None and staff.is_active else Q(pk__in=[])
    return with_customer | without | own


def _portfolio_work(user, staff, model) -> Q:
    """The same rule for a customer manager (portfolio roles only): the work of the customers they own or back
    up, and their own. Written as one IN over a UNION of the two index lookups (customer, owner) instead of a
    join under OR, which reads every row of the table whatever the portfolio's size (decision 0605)."""
    from jiketong.customers.models import Customer

    portfolio = Customer.objects.filter(customer_scope(user)).values("pk")
    of_customers = model.objects.filter(customer__in=portfolio).order_by().values("pk")
    own = model.objects.filter(owner=staff.pk).order_by().values("pk")
    return Q(pk__in=of_customers.union(own, all=True))


class WorkQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(work_scope(user, model=self.model))


class ActivityKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", pgettext_lazy("channel", "Email")
    EVENT = "event", pgettext_lazy("activity kind", "Event")  # 联谊活动, not a system event
    CARE = "care", _("Care (greeting, gift)")


class Activity(TimeStampedModel):
    """一般行动: something a manager did with a customer, a lead or an opportunity. A lead without a
    customer yet still gets its monthly follow-up, so the customer is optional."""

    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices, default=ActivityKind.VISIT)
    subject = models.CharField(_("subject"), max_length=120)
    happened_at = models.DateTimeField(_("happened at"))
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    lead = models.ForeignKey(
        "sales.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    owner = models.ForeignKey("org.Staff", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="activities")
    staff = models.ManyToManyField(
        "org.Staff", verbose_name=_("colleagues present"), blank=True, related_name="joined_activities"
    )
    contacts = models.ManyToManyField(
        "customers.Contact", verbose_name=_("contacts present"), blank=True, related_name="activities"
    )
    notes = models.TextField(_("notes"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = WorkQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-happened_at", "-id"]
        indexes = [
            # The 360 timeline, and "visits of this customer since the period began".
            models.Index(fields=["customer", "kind", "-happened_at"], name="work_activity_customer"),
            models.Index(fields=["owner", "-happened_at"], name="work_activity_owner"),
            # Compliance: the latest follow-up of each open lead and opportunity.
            models.Index(fields=["lead", "-happened_at"], name="work_activity_lead"),
            models.Index(fields=["opportunity", "-happened_at"], name="work_activity_opportunity"),
            # The activity list, newest first: its first page comes off the index at any scope (0605).
            models.Index(fields=["-happened_at", "-id"], name="work_activity_recent"),
        ]

    def __str__(self) -> str:
        return self.subject


# The visit standard applies to customers in service, not to prospects or churned ones.
SERVED_STATUSES = [LifecycleStatus.ACTIVE, LifecycleStatus.AT_RISK, LifecycleStatus.DORMANT]


def visits_since(since) -> Coalesce:
    """Per customer (the outer query's row), visits from `since` on: the count the visit standard and
    coverage compare with what the grade owes. `since` is a datetime or an outer reference."""
    visits = (
        Activity.objects.filter(customer=OuterRef("pk"), kind=ActivityKind.VISIT, happened_at__gte=since)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(visits), 0)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    FOLLOW_UP = "follow_up", _("Follow-up")
    RETENTION = "retention", _("Retention")
    OTHER = "other", _("Other")


class TaskPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class TaskQuerySet(WorkQuerySet):
    def open(self):
        return self.filter(status=TaskStatus.OPEN)


class Task(TimeStampedModel):
    """A to-do of one manager: a visit the grade's standard asks for, a follow-up, a retention step."""

    owner = models.ForeignKey("org.Staff", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due on"))
    priority = models.CharField(_("priority"), max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    kind = models.CharField(_("kind"), max_length=10, choices=TaskKind.choices, default=TaskKind.FOLLOW_UP)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    lead = models.ForeignKey(
        "sales.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    # First day of the visit-standard period a generated visit task belongs to (None for other tasks).
    standard_period = models.DateField(_("standard period"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by_activity = models.ForeignKey(
        Activity,
        verbose_name=_("done by activity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        indexes = [
            # A manager's open tasks by due date (task list, agenda, digest).
            models.Index(fields=["owner", "status", "due_on"], name="work_task_owner_due"),
            models.Index(fields=["customer", "status"], name="work_task_customer"),
        ]
        constraints = [
            # The daily job may run twice, or after a handover: one visit task per customer and period.
            models.UniqueConstraint(
                fields=["customer", "standard_period"],
                condition=Q(standard_period__isnull=False),
                name="work_task_visit_once",
                violation_error_message=_("This customer already has a visit task for this period."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == TaskStatus.OPEN and self.due_on < timezone.localdate()


# Months per period must divide the year, so periods start on the same months every year.
INTERVAL_CHOICES = [
    (1, pgettext_lazy("visit period", "Monthly")),  # 每月; an amount's "Monthly" is 月收入
    (2, pgettext_lazy("visit period", "Every two months")),
    (3, pgettext_lazy("visit period", "Quarterly")),
    (6, pgettext_lazy("visit period", "Half-yearly")),
    (12, pgettext_lazy("visit period", "Yearly")),
]


class VisitStandard(models.Model):
    """服务标准: how many visits a customer of this grade gets per period (DOMAIN §7)."""

    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices, primary_key=True)
    visits = models.PositiveSmallIntegerField(
        _("visits per period"), default=1, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    interval_months = models.PositiveSmallIntegerField(_("period"), choices=INTERVAL_CHOICES, default=12)

    class Meta:
        verbose_name = _("visit standard")
        verbose_name_plural = _("visit standards")
        ordering = ["grade"]

    def __str__(self) -> str:
        return f"{self.grade}: {self.visits} / {self.get_interval_months_display()}"

    def period(self, day: date) -> tuple[date, date]:
        """The period containing `day`: its first and last day."""
        first_month = (day.month - 1) // self.interval_months * self.interval_months + 1
        start = date(day.year, first_month, 1)
        end_month = first_month + self.interval_months
        end = date(day.year + (end_month > 12), (end_month - 1) % 12 + 1, 1) - timedelta(days=1)
        return start, end


class Handover(models.Model):
    """客户交接: a leaving (or moving) manager's customers, leads, opportunities, tasks and tickets passed
    to a colleague in one step; the counts say what moved."""

    old_owner = models.ForeignKey(
        "org.Staff",
        verbose_name=pgettext_lazy("handover", "from"),
        on_delete=models.PROTECT,
        related_name="handovers_given",
    )
    new_owner = models.ForeignKey(
        "org.Staff",
        verbose_name=pgettext_lazy("handover", "to"),
        on_delete=models.PROTECT,
        related_name="handovers_received",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    counts = models.JSONField(_("records moved"), default=dict)
    all_customers = models.BooleanField(_("whole portfolio"), default=True)
    account_disabled = models.BooleanField(_("account disabled"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class HandoverQuerySet(models.QuerySet):
        def visible_to(self, user):
            return self.filter(record_scope(user, org_unit="old_owner__org_unit", owners=("old_owner", "new_owner")))

    objects = HandoverQuerySet.as_manager()

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_owner} → {self.new_owner}"


class CoverageSummary(models.Model):
    """Each manager's visit coverage as last computed (decision 0605): what the coverage page reads, a row per
    manager instead of a visit count per customer in scope. Rebuilt each night (`jobs daily`) and, for the
    manager concerned, after a visit is recorded, a handover or a lifecycle change; `queries.coverage` is the
    definition both use."""

    owner = models.OneToOneField(
        "org.Staff", verbose_name=_("customer manager"), primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    owed = models.PositiveIntegerField(_("visits owed"), default=0)
    done = models.PositiveIntegerField(_("visits done"), default=0)
    as_of = models.DateField(_("as of"))
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("visit coverage summary")
        verbose_name_plural = _("visit coverage summaries")

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.done}/{self.owed} ({self.as_of})"
