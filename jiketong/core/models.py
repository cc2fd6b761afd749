"""What every table shares, and the audit trail."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .masking import mask_event


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class ConstraintFieldsMixin:
    """A model mixin: a check constraint's violation lands on the field it is about, so a form shows
    "the end date cannot be before the start date" under the end date and the API under `end_on`, instead
    of at the top. The field is the first one the constraint's condition names (`Q(end_on__gte=F("start_on"))`
    → end_on), or the one `CONSTRAINT_FIELDS` gives by constraint name where that reads wrong."""

    CONSTRAINT_FIELDS: dict[str, str] = {}

    @classmethod
    def constraint_field(cls, constraint: models.BaseConstraint) -> str:
        if constraint.name in cls.CONSTRAINT_FIELDS:
            return cls.CONSTRAINT_FIELDS[constraint.name]
        condition = getattr(constraint, "condition", None)
        for name, *_lookups in cls._get_expr_references(condition) if condition is not None else ():
            return name
        return NON_FIELD_ERRORS

    def validate_constraints(self, exclude=None) -> None:
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            moved = {
                _violation_message(c): self.constraint_field(c)
                for c in self._meta.constraints
                if isinstance(c, models.CheckConstraint)
            }
            for error in list(errors.get(NON_FIELD_ERRORS, [])):
                field = moved.get(str(error.message))
                if field and field != NON_FIELD_ERRORS:
                    errors[NON_FIELD_ERRORS].remove(error)
                    errors.setdefault(field, []).append(error)
            if not errors.get(NON_FIELD_ERRORS):
                errors.pop(NON_FIELD_ERRORS, None)
            raise ValidationError(errors) from None


def _violation_message(constraint: models.BaseConstraint) -> str:
    try:
        return str(constraint.get_violation_error_message())
    except (ValueError, TypeError):  # a message with a bare "%" ("0 to 100%") cannot take the name
        return str(constraint.violation_error_message)


class AuditAction(models.TextChoices):
    CREATE = "create", pgettext_lazy("audit action", "Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    GRADE = "grade", _("Grade changed")
    OWNER = "owner", _("Owner changed")
    REVEAL = "reveal", _("Personal data revealed")
    EXPORT = "export", _("Exported")
    DEACTIVATE = "deactivate", _("Account disabled")
    # The sales loop, managers' work and service.
    STATUS = "status", _("Status changed")
    STAGE = "stage", _("Stage changed")
    SUBMIT = "submit", _("Submitted")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    CONVERT = "convert", _("Converted")
    TRANSFER = "transfer", _("Transferred")
    HANDOVER = "handover", _("Handed over")
    ESCALATE = "escalate", _("Escalated")
    IMPORT = "import", _("Imported")


class AuditEventQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Events written in bulk (imports, handovers) are masked like `record()`'s (core.masking)."""
        objs = [mask_event(event) for event in objs]
        return super().bulk_create(objs, *args, **kwargs)


class AuditEvent(models.Model):
    """Who did what to which record, when, with the values before and after.

    Written by the services inside their own transaction, so a change and its audit row land or fail
    together, whether the change came from the UI, the API, an import or a job. `customer_id` is kept
    for every event about a customer or anything it owns, so the 360 page reads its history with one
    indexed query; it is a plain column (no foreign key) so the trail outlives what it describes.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # No database constraint, like customer_id (decision 0021): the trail is written in bulk by imports, and a
    # user is never deleted but deactivated; a deletion through the ORM still sets it NULL (on_delete).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    target_type = models.CharField(_("record type"), max_length=40)
    target_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    target_repr = models.CharField(_("record"), max_length=200, blank=True)
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            # The 360 page's change history: newest events of one customer.
            models.Index(fields=["customer_id", "-at"], name="core_audit_customer_at"),
            models.Index(fields=["target_type", "target_id"], name="core_audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.target_repr}"

    def save(self, *args, **kwargs) -> None:
        mask_event(self)  # personal data never lands in the trail in clear
        super().save(*args, **kwargs)

    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field that the event touched."""
        before, after = self.before or {}, self.after or {}
        return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))]


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An entry in a user's in-app inbox: a reminder (contract expiry, care date, task due), an escalation
    (SLA breach) or a digest. `key` makes a reminder idempotent: the same key is never delivered twice to
    the same person, so daily jobs can run again safely."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=30)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    key = models.CharField(_("key"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="core_notification_inbox")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~models.Q(key=""), name="core_notification_once"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Event(models.Model):
    """A domain event in the outbox (core.events): what happened, to which customer, by whom, with a payload of
    ids and changed fields. Written in the transaction of the change itself; `handled_at` is set once every
    reaction to it is done. `customer_id` is a plain column, like the audit trail's."""

    name = models.CharField(_("event"), max_length=60)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["name", "-occurred_at"], name="core_event_name_at"),
            models.Index(fields=["customer_id", "-occurred_at"], name="core_event_customer_at"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class HandlingStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("event handling", "Pending")  # 待处理; a quote's or a delivery's is another word
    DONE = "done", pgettext_lazy("event handling", "Done")
    FAILED = "failed", pgettext_lazy("event handling", "Failed")


class EventHandling(models.Model):
    """One reaction's handling of one event: pending until it runs, done once (never twice), failed after the
    retries ran out (an admin can retry it). The unique pair is what makes every reaction idempotent."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="handlings")
    reaction = models.CharField(_("reaction"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=HandlingStatus.choices, default=HandlingStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("event handling")
        verbose_name_plural = _("event handlings")
        constraints = [
            models.UniqueConstraint(fields=["event", "reaction"], name="core_eventhandling_once"),
        ]
        indexes = [
            # The frequent job's pickup: pending rows whose time has come.
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="core_handling_due"),
            models.Index(fields=["status", "-next_attempt_at"], name="core_handling_status"),
        ]

    def __str__(self) -> str:
        return f"{self.reaction} ← {self.event_id}"
