"""Signed webhooks for integrators (BOSS, OA, the data warehouse): where to send which events, and how each
delivery went (decision 0011, docs/api.md "Webhooks").

Endpoints are an administrator's configuration, not customer data: they are not scoped, only admins see them.
"""

import base64
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.models import Event, TimeStampedModel

ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes (the spec asks for 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class Endpoint(TimeStampedModel):
    """A receiver's URL, the events it wants and the secret its deliveries are signed with.

    `events` lists event names from core.events.EVENTS, or is `["*"]` for every event. The secret is kept in
    clear because every delivery is signed with it (HMAC needs the key itself); only admins can read it.
    `failing_since` and `consecutive_failures` count failed attempts since the last success: they decide when
    the endpoint is disabled automatically (services.FAILURE_RULE).
    """

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=120, default=new_secret)
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failed attempts in a row"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_name: str) -> bool:
        return ALL_EVENTS in self.events or event_name in self.events

    @property
    def all_events(self) -> bool:
        return ALL_EVENTS in self.events

    @property
    def secret_hint(self) -> str:
        """Enough to tell two secrets apart, not enough to sign with."""
        return f"{self.secret[:10]}…"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery", "Pending")
    FAILED = "failed", _("Failed, will retry")
    SUCCEEDED = "succeeded", _("Delivered")
    GAVE_UP = "gave_up", _("Gave up")


# Statuses the sender still works on (with a `next_attempt_at`).
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class Delivery(models.Model):
    """One event for one endpoint: pending until it is sent, retried with backoff while it fails, delivered on a
    2xx, given up after about a day. One row per (endpoint, event), so fanning an event out twice sends it once;
    a manual redelivery reuses the row and adds an attempt. `failures` counts failed attempts since the last
    success or redelivery: it picks the next pause from the backoff schedule."""

    endpoint = models.ForeignKey(
        Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    failures = models.PositiveIntegerField(_("failures in this round"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                name="webhooks_delivery_once",
                violation_error_message=_("This event was already queued for this endpoint."),
            )
        ]
        indexes = [
            # The sender's pickup (jobs.frequent): open deliveries whose time has come, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed"]),
                name="webhooks_delivery_due",
            ),
            # An endpoint's delivery log, newest first (optionally by status).
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_log"),
            models.Index(fields=["endpoint", "status", "-created_at"], name="webhooks_delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"


class Attempt(models.Model):
    """One POST of a delivery and its answer: the delivery log's lines."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("time"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("redelivered by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["delivery", "-at"], name="webhooks_attempt_delivery")]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}"
