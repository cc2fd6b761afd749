"""Service (DOMAIN §8): the business calendar, SLA policies, tickets with their history, and satisfaction."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.concurrency import VersionedModel
from jiketong.core.models import ConstraintFieldsMixin, TimeStampedModel
from jiketong.customers.models import Grade
from jiketong.org.scope import ScopedQuerySet, customer_scope


# --- business calendar ----------------------------------------------------------------------------
class BusinessCalendar(models.Model):
    """Working hours of the service desk. One row per instance (a province runs one instance); the
    periods are local times in `timezone`, the weekend are ISO weekdays (6 = Saturday, 7 = Sunday)."""

    name = models.CharField(_("name"), max_length=60, default="默认工作日历")
    timezone = models.CharField(_("time zone"), max_length=40, default="Asia/Shanghai")
    weekend = models.CharField(
        _("weekend days"),
        max_length=13,
        default="6,7",
        validators=[RegexValidator(r"^([1-7](,[1-7])*)?$", _("ISO weekdays separated by commas, e.g. 6,7."))],
        help_text=_("ISO weekdays off every week: 1 = Monday … 7 = Sunday."),
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    """One stretch of working time in a working day, e.g. 09:00–12:00."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="periods"
    )
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")),
                name="%(app_label)s_%(class)s_end_after_start",
                violation_error_message=_("A working period must end after it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


class CalendarDay(models.Model):
    """An exception to the weekly rule: a public holiday on a weekday (is_workday false) or a 调休
    make-up working day on a weekend (is_workday true). Seeded from the State Council's arrangements."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


# --- SLA --------------------------------------------------------------------------------------------
class TicketType(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    COMPLAINT = "complaint", _("Complaint")
    FAULT = "fault", _("Fault")
    REQUEST = "request", _("Request")


# A policy names an exact grade (A1) or a grade family (A = A1 and A2).
SLA_GRADE_CHOICES = [("A", "A"), ("B", "B"), *Grade.choices]


class SlaPolicy(models.Model):
    """Working minutes allowed to the first response and to resolution, per ticket type and customer
    grade. A blank grade is the type's default; an exact grade (A1) beats its family (A), which beats it."""

    ticket_type = models.CharField(_("ticket type"), max_length=12, choices=TicketType.choices)
    grade = models.CharField(_("customer grade"), max_length=2, choices=SLA_GRADE_CHOICES, blank=True)
    response_minutes = models.PositiveIntegerField(_("minutes to first response"))
    resolution_minutes = models.PositiveIntegerField(_("minutes to resolution"))

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["ticket_type", "grade"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket_type", "grade"],
                name="%(app_label)s_%(class)s_one_per_type_grade",
                violation_error_message=_("There is already a policy for this type and grade."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_ticket_type_display()} {self.grade or '*'}"


# --- tickets ----------------------------------------------------------------------------------------
class Channel(models.TextChoices):
    HOTLINE = "hotline", _("Hotline 10086")
    MANAGER = "manager", _("Customer manager")
    ONLINE = "online", _("Online")
    ONSITE = "onsite", _("On site")
    EMAIL = "email", pgettext_lazy("channel", "Email")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.REOPENED)


class TicketQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """The customer's scope, plus the receiver who owns it and a colleague asked to take it over
        (first-question responsibility: whoever holds a ticket must be able to work it)."""
        from jiketong.org.models import staff_of

        scope = customer_scope(user, self.customer_path)
        staff = staff_of(user)
        if staff is not None and staff.is_active:
            scope |= Q(owner=staff.pk) | Q(transfer_to=staff.pk)
        return self.filter(scope)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(ConstraintFieldsMixin, TimeStampedModel, VersionedModel):
    """A customer's inquiry, complaint, fault or request. Its receiver owns it (首问负责制) until it is
    closed or a colleague accepts a transfer. Deadlines are in working time (BusinessCalendar).

    `next_due` is the earliest deadline still pending (response, else resolution; empty once resolved):
    the breach board sorts on it. `watch_at` is the earliest deadline not yet escalated: the frequent job
    reads only tickets whose `watch_at` has passed, so it never rescans old breaches.
    """

    number = models.CharField(_("ticket number"), max_length=20, unique=True)
    type = models.CharField(_("type"), max_length=12, choices=TicketType.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.MANAGER)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subscription = models.ForeignKey(
        "catalog.Subscription",
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(pgettext_lazy("ticket", "description"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.NEW)
    owner = models.ForeignKey(
        "org.Staff", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_tickets"
    )
    received_by = models.ForeignKey(
        "org.Staff", verbose_name=_("received by"), on_delete=models.PROTECT, related_name="received_tickets"
    )
    transfer_to = models.ForeignKey(
        "org.Staff",
        verbose_name=_("transfer requested to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incoming_transfers",
    )
    transfer_reason = models.CharField(_("transfer reason"), max_length=500, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    response_due = models.DateTimeField(_("response due"))
    resolve_due = models.DateTimeField(_("resolution due"))
    next_due = models.DateTimeField(_("next deadline"), null=True, blank=True)
    watch_at = models.DateTimeField(_("next breach check"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    breached_response = models.BooleanField(_("response SLA breached"), default=False)
    breached_resolution = models.BooleanField(_("resolution SLA breached"), default=False)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-opened_at", "-id"]
        indexes = [
            # The customer's open tickets (360 panel) and the churn model's complaints per customer.
            models.Index(fields=["customer", "status", "-opened_at"], name="service_ticket_customer"),
            # "My tickets" and the handover of a leaving owner's open tickets.
            models.Index(fields=["owner", "status"], name="service_ticket_owner"),
            models.Index(
                fields=["transfer_to"], name="service_ticket_transfer_to", condition=Q(transfer_to__isnull=False)
            ),
            # The breach board and the frequent job: only open tickets carry these, so the indexes stay small.
            models.Index(fields=["next_due"], name="service_ticket_next_due", condition=Q(next_due__isnull=False)),
            models.Index(fields=["watch_at"], name="service_ticket_watch_at", condition=Q(watch_at__isnull=False)),
            models.Index(fields=["type", "-opened_at"], name="service_ticket_type_opened"),
            # The ticket list's order: its first page comes off the index at any scope (decisions 0605, 0606).
            models.Index(fields=["-opened_at", "-id"], name="service_ticket_recent"),
            # A month's ratings (the satisfaction indicator, the scorecards): only rated tickets carry it.
            models.Index(fields=["rated_at"], name="service_ticket_rated_at", condition=Q(rated_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="%(app_label)s_%(class)s_rating_1_5",
                violation_error_message=_("A rating is from 1 to 5."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def refresh_deadlines(self) -> None:
        """Derive `next_due` and `watch_at` from the deadlines and what has happened so far."""
        pending = []
        unwatched = []
        if self.is_open:
            if self.first_response_at is None:
                pending.append(self.response_due)
                if not self.breached_response:
                    unwatched.append(self.response_due)
            pending.append(self.resolve_due)
            if not self.breached_resolution:
                unwatched.append(self.resolve_due)
        self.next_due = min(pending, default=None)
        self.watch_at = min(unwatched, default=None)


class EventKind(models.TextChoices):
    CREATED = "created", _("Received")
    STATUS = "status", _("Status changed")
    TRANSFER_REQUEST = "transfer_request", _("Transfer requested")
    TRANSFER_ACCEPT = "transfer_accept", _("Transfer accepted")
    TRANSFER_DECLINE = "transfer_decline", _("Transfer declined")
    HANDOVER = "handover", _("Handed over")
    ESCALATE = "escalate", _("Escalated")
    RATED = "rated", _("Rated")
    EDITED = "edited", _("Details changed")


class TicketEventQuerySet(ScopedQuerySet):
    customer_path = "ticket__customer__"


class TicketEvent(models.Model):
    """One line of a ticket's history: who did what, when, from which status (or owner) to which."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    from_status = models.CharField(
        pgettext_lazy("status change", "from"), max_length=12, choices=TicketStatus.choices, blank=True
    )
    to_status = models.CharField(
        pgettext_lazy("status change", "to"), max_length=12, choices=TicketStatus.choices, blank=True
    )
    from_staff = models.ForeignKey(
        "org.Staff", verbose_name=_("from staff"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_staff = models.ForeignKey(
        "org.Staff", verbose_name=_("to staff"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="service_ticketevent_ticket_at")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


# --- satisfaction -----------------------------------------------------------------------------------
class Dimension(models.TextChoices):
    NETWORK = "network", _("Network and communication quality")
    SERVICE = "service", _("Service")
    PRICE = "price", _("Price")
    PRODUCT = "product", _("Product")
    MANAGER = "manager", _("Customer manager")


PERIOD_VALIDATOR = RegexValidator(r"^\d{4}-Q[1-4]$", _("Use a quarter such as 2026-Q4."))
SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class Survey(TimeStampedModel):
    """A periodic satisfaction survey of one customer (one per quarter)."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="surveys"
    )
    period = models.CharField(_("period"), max_length=7, validators=[PERIOD_VALIDATOR])
    surveyed_by = models.ForeignKey(
        "org.Staff", verbose_name=_("surveyed by"), on_delete=models.PROTECT, related_name="+"
    )
    surveyed_on = models.DateField(_("survey date"))
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-surveyed_on", "-id"]
        indexes = [models.Index(fields=["period"], name="service_survey_period")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "period"],
                name="%(app_label)s_%(class)s_one_per_period",
                violation_error_message=_("This customer already has a survey for this period."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} #{self.customer_id}"


class SurveyAnswerQuerySet(ScopedQuerySet):
    customer_path = "survey__customer__"


class SurveyAnswer(ConstraintFieldsMixin, models.Model):
    """Importance and satisfaction of one dimension, each scored 1 (lowest) to 5 (highest)."""

    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="answers")
    dimension = models.CharField(_("dimension"), max_length=10, choices=Dimension.choices)
    importance = models.PositiveSmallIntegerField(_("importance"), validators=SCORE_VALIDATORS)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), validators=SCORE_VALIDATORS)

    objects = SurveyAnswerQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "dimension"],
                name="%(app_label)s_%(class)s_one_per_dimension",
                violation_error_message=_("Each dimension is answered once per survey."),
            ),
            models.CheckConstraint(
                condition=Q(importance__gte=1, importance__lte=5, satisfaction__gte=1, satisfaction__lte=5),
                name="%(app_label)s_%(class)s_scores_1_5",
                violation_error_message=_("Scores are from 1 to 5."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension} {self.importance}/{self.satisfaction}"


class SatisfactionFact(models.Model):
    """Survey answers kept as sums per customer's org unit, quarter and dimension (decision 0606): what the
    satisfaction quadrant and the dashboard's panel read for a subtree, a few rows per unit instead of every
    answer in scope. The row with an empty dimension counts the unit's surveys of the quarter. Rebuilt each
    night and, for the unit concerned, after a survey is recorded (`satisfaction.refresh_later`)."""

    org_unit = models.ForeignKey("org.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("period"), max_length=7)
    dimension = models.CharField(_("dimension"), max_length=10, blank=True)
    answers = models.PositiveIntegerField(_("answers"), default=0)
    importance_sum = models.PositiveIntegerField(_("importance"), default=0)
    satisfaction_sum = models.PositiveIntegerField(_("satisfaction"), default=0)

    class Meta:
        verbose_name = _("satisfaction figure")
        verbose_name_plural = _("satisfaction figures")
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "period", "dimension"], name="service_satisfaction_fact_key")
        ]

    def __str__(self) -> str:
        return f"{self.org_unit_id} {self.period} {self.dimension or '*'}: {self.answers}"
