"""Every write of the webhooks app: endpoints (admins only, audited without the secret), and the sender's
bookkeeping: claim a delivery, POST it, record the attempt, schedule the retry, disable a dead endpoint.

The sender never holds a transaction (or a row lock) open during an HTTP request: it claims a delivery by
moving its `next_attempt_at` past a lease in one conditional UPDATE, so the task that sends right after
commit and the frequent job never send the same delivery twice, and a process that dies mid-send leaves a
delivery the job picks up again when the lease runs out.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tasks import task

from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.events import EVENTS
from jiketong.core.models import AuditAction, Event
from jiketong.core.notes import stored
from jiketong.core.notify import notify
from jiketong.org.models import Role, Staff, can

from . import sender
from .models import ALL_EVENTS, OPEN_STATUSES, Attempt, Delivery, DeliveryStatus, Endpoint, new_secret

log = logging.getLogger(__name__)

# The pause after each failed attempt: ten attempts over about a day (25 h 43 min), then the delivery gives up.
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=10),
)
AUDITED = ["name", "url", "events", "active"]  # never the secret


def require_admin(actor) -> None:
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only a system administrator can manage webhooks."))


def _lease() -> timedelta:
    """How long a claimed delivery is left alone: longer than any POST may take."""
    return timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS + 60)


# --- endpoints ----------------------------------------------------------------------------------------
def _clean(*, name: str, url: str, events: list[str]) -> tuple[str, str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    url = (url or "").strip()
    if not name:
        errors["name"] = [_("Give the endpoint a name.")]
    elif not name.isprintable():
        errors["name"] = [_("Remove the control characters from the name.")]
    elif len(name) > Endpoint._meta.get_field("name").max_length:
        errors["name"] = [_("At most 100 characters.")]
    try:
        URLValidator(schemes=["http", "https"])(url)
        if len(url) > Endpoint._meta.get_field("url").max_length:
            raise ValidationError("too long")
    except ValidationError:
        errors["url"] = [_("Enter an http:// or https:// URL.")]
    events = list(dict.fromkeys(events or []))
    unknown = [event for event in events if event != ALL_EVENTS and event not in EVENTS]
    if not events:
        errors["events"] = [_("Choose at least one event, or all events.")]
    elif unknown:
        errors["events"] = [_("Unknown events: %(names)s.") % {"names": ", ".join(unknown)}]
    if errors:
        raise ValidationError(errors)
    return name, url, [ALL_EVENTS] if ALL_EVENTS in events else events


@transaction.atomic
def endpoint_create(*, actor, name: str, url: str, events: list[str], active: bool = True) -> Endpoint:
    """Register a receiver. Its secret is generated here and shown to the admin (never audited)."""
    require_admin(actor)
    name, url, events = _clean(name=name, url=url, events=events)
    endpoint = Endpoint.objects.create(
        name=name, url=url, events=events, active=active, created_by=actor, secret=new_secret()
    )
    record(actor=actor, action=AuditAction.CREATE, target=endpoint, customer_id=None, after=snapshot(endpoint, AUDITED))
    return endpoint


@transaction.atomic
def endpoint_update(*, actor, endpoint: Endpoint, **fields) -> Endpoint:
    """Change name, URL, events or `active`. Turning an endpoint back on clears its failure count."""
    require_admin(actor)
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    unknown = set(fields) - set(AUDITED)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    before = snapshot(endpoint, AUDITED)
    name, url, events = _clean(
        name=fields.get("name", endpoint.name),
        url=fields.get("url", endpoint.url),
        events=fields.get("events", endpoint.events),
    )
    endpoint.name, endpoint.url, endpoint.events = name, url, events
    if "active" in fields and fields["active"] is not None and bool(fields["active"]) != endpoint.active:
        _set_active(
            endpoint, bool(fields["active"]), reason=stored(gettext_noop("Deactivated by %(name)s"), name=_who(actor))
        )
    endpoint.save()
    record_changes(actor=actor, target=endpoint, customer_id=None, before=before, after=snapshot(endpoint, AUDITED))
    return endpoint


def _who(actor) -> str:
    staff = Staff.objects.filter(user=actor).only("name").first()
    return staff.name if staff else actor.get_username()


def _set_active(endpoint: Endpoint, active: bool, *, reason: str = "") -> None:
    endpoint.active = active
    if active:
        endpoint.disabled_reason, endpoint.disabled_at = "", None
        endpoint.failing_since, endpoint.consecutive_failures = None, 0
    else:
        endpoint.disabled_reason, endpoint.disabled_at = reason[:300], timezone.now()


def endpoint_deactivate(*, actor, endpoint: Endpoint) -> Endpoint:
    return endpoint_update(actor=actor, endpoint=endpoint, active=False)


def endpoint_activate(*, actor, endpoint: Endpoint) -> Endpoint:
    """Back on: open deliveries that waited while it was off are sent by the next frequent job."""
    return endpoint_update(actor=actor, endpoint=endpoint, active=True)


def endpoint_secret_reveal(*, actor, endpoint: Endpoint) -> str:
    """The signing secret, shown to an admin on request and logged as a reveal (never its value)."""
    require_admin(actor)
    record(
        actor=actor,
        action=AuditAction.REVEAL,
        target=endpoint,
        customer_id=None,
        note=stored(gettext_noop("signing secret")),
    )
    return endpoint.secret


@transaction.atomic
def endpoint_rotate_secret(*, actor, endpoint: Endpoint) -> Endpoint:
    """A new secret, effective for the next attempt; the old one stops verifying at once."""
    require_admin(actor)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=endpoint,
        customer_id=None,
        note=stored(gettext_noop("signing secret replaced")),
    )
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor, endpoint: Endpoint) -> None:
    """Remove an endpoint with its delivery log (deactivate it instead to keep the log)."""
    require_admin(actor)
    record(
        actor=actor, action=AuditAction.DELETE, target=endpoint, customer_id=None, before=snapshot(endpoint, AUDITED)
    )
    endpoint.delete()


@transaction.atomic
def _disable_automatically(endpoint: Endpoint, *, now: datetime, last_error: str) -> None:
    """Failing for too long: switch the endpoint off and tell every administrator once."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.active:
        return
    before = snapshot(endpoint, AUDITED)
    reason = stored(
        gettext_noop("Disabled automatically: no successful delivery since %(since)s (%(count)s failed attempts)."),
        since=timezone.localtime(endpoint.failing_since or now).strftime("%Y-%m-%d %H:%M"),
        count=endpoint.consecutive_failures,
    )
    _set_active(endpoint, False, reason=reason)
    endpoint.disabled_at = now
    endpoint.save(update_fields=["active", "disabled_reason", "disabled_at", "updated_at"])
    record(
        actor=None, action=AuditAction.STATUS, target=endpoint, customer_id=None, before={"active": before["active"]},
        after={"active": False}, note=reason,
    )  # fmt: skip
    admins = Staff.objects.filter(roles__code=Role.ADMIN, user__is_active=True).values_list("user_id", flat=True)
    notify(
        admins,
        kind="webhook_disabled",
        title=_("Webhook endpoint %(name)s was disabled") % {"name": endpoint.name},
        body=f"{reason}\n{last_error}".strip(),
        url=reverse("webhooks:detail", args=[endpoint.pk]),
        key=f"webhook-disabled:{endpoint.pk}:{now:%Y%m%d%H%M%S}",
    )
    log.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)


def _should_disable(endpoint: Endpoint, now: datetime) -> bool:
    """FAILURE_RULE: no 2xx for WEBHOOKS_DISABLE_AFTER_HOURS, or (when set) WEBHOOKS_DISABLE_AFTER_FAILURES
    failed attempts in a row."""
    hours, count = settings.WEBHOOKS_DISABLE_AFTER_HOURS, settings.WEBHOOKS_DISABLE_AFTER_FAILURES
    if hours and endpoint.failing_since and now - endpoint.failing_since >= timedelta(hours=hours):
        return True
    return bool(count) and endpoint.consecutive_failures >= count


# --- deliveries ---------------------------------------------------------------------------------------
def fan_out(event: Event) -> int:
    """One delivery per active endpoint that wants this event; a second run for the same event adds none."""
    wanted = [pk for pk, names in Endpoint.objects.filter(active=True).values_list("pk", "events")
              if ALL_EVENTS in names or event.name in names]  # fmt: skip
    if not wanted:
        return 0
    now = timezone.now()
    Delivery.objects.bulk_create(
        [Delivery(endpoint_id=pk, event=event, next_attempt_at=now) for pk in wanted], ignore_conflicts=True
    )
    return len(wanted)


def _claim(delivery_id: int, now: datetime, *, manual: bool) -> bool:
    due = Delivery.objects.filter(pk=delivery_id, status__in=OPEN_STATUSES, next_attempt_at__lte=now)
    if not manual:
        due = due.filter(endpoint__active=True)
    return bool(due.update(next_attempt_at=now + _lease()))


def delivery_attempt(delivery_id: int, *, now: datetime | None = None, actor=None) -> Delivery | None:
    """Send one delivery if it is due and nobody else is sending it; None when there was nothing to do.
    `actor` marks an admin's manual redelivery (which may go to an inactive endpoint)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now, manual=actor is not None):
        return None
    delivery = Delivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    result = sender.post(endpoint.url, endpoint.secret, str(delivery.event_id), sender.body_for(delivery.event))
    _record(delivery, result, now=now, actor=actor)
    return delivery


@transaction.atomic
def _record(delivery: Delivery, result: sender.Result, *, now: datetime, actor) -> None:
    Attempt.objects.create(
        delivery=delivery, at=now, status_code=result.status_code, error=result.error,
        duration_ms=result.duration_ms, succeeded=result.ok, requested_by=actor,
    )  # fmt: skip
    delivery.attempts += 1
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    endpoints = Endpoint.objects.filter(pk=delivery.endpoint_id)
    if result.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
        delivery.failures = 0
        endpoints.filter(Q(failing_since__isnull=False) | Q(consecutive_failures__gt=0)).update(
            failing_since=None, consecutive_failures=0
        )
    else:
        delivery.failures += 1
        if delivery.failures <= len(BACKOFF):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = now + BACKOFF[delivery.failures - 1]
        else:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.GAVE_UP, None
        endpoints.update(
            consecutive_failures=F("consecutive_failures") + 1,
            failing_since=Coalesce("failing_since", Value(now, output_field=DateTimeField())),
        )
    delivery.save(
        update_fields=[
            "status", "attempts", "failures", "last_status_code", "last_error", "next_attempt_at", "delivered_at"
        ]
    )  # fmt: skip
    if not result.ok:
        endpoint = endpoints.get()
        if endpoint.active and _should_disable(endpoint, now):
            _disable_automatically(endpoint, now=now, last_error=result.error)


def delivery_redeliver(*, actor, delivery: Delivery) -> Delivery:
    """An admin's "send again": a fresh attempt now, whatever the delivery's state, and a fresh round of
    retries if it fails. The receiver sees the same `webhook-id` and can tell it has seen it."""
    require_admin(actor)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, failures=0, next_attempt_at=now)
    delivery_attempt(delivery.pk, now=now, actor=actor)
    delivery.refresh_from_db()
    return delivery


def endpoint_redeliver_given_up(*, actor, endpoint: Endpoint) -> int:
    """Put every delivery that gave up back in the queue (after the receiver is fixed); the sender takes
    them at once and the frequent job takes what it leaves. Returns how many."""
    require_admin(actor)
    count = Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.GAVE_UP).update(
        status=DeliveryStatus.PENDING, failures=0, next_attempt_at=timezone.now()
    )
    if count:
        transaction.on_commit(lambda: _enqueue(send_endpoint_task, endpoint.pk), robust=True)
    return count


def endpoint_send_test(*, actor, endpoint: Endpoint) -> sender.Result:
    """A signed `webhook.test` message to check the receiver and its verification; nothing is recorded."""
    require_admin(actor)
    now = timezone.now()
    msg_id = f"test_{int(now.timestamp() * 1000)}"
    return sender.post(endpoint.url, endpoint.secret, msg_id, sender.ping_body(endpoint.pk, now))


def send_due(now: datetime | None = None, *, limit: int = 1000, endpoint_id: int | None = None) -> tuple[int, int]:
    """Send what is due: new deliveries whose task never ran, and retries whose time has come.
    An endpoint that fails once is left alone for the rest of this run (one timeout per run, not one per
    delivery). Returns (delivered, failed)."""
    now = now or timezone.now()
    due = Delivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now, endpoint__active=True)
    if endpoint_id is not None:
        due = due.filter(endpoint_id=endpoint_id)
    rows = list(due.order_by("next_attempt_at", "pk").values_list("pk", "endpoint_id")[:limit])
    failing: set[int] = set()
    delivered = failed = 0
    for pk, endpoint in rows:
        if endpoint in failing:
            continue
        delivery = delivery_attempt(pk, now=now)
        if delivery is None:
            continue
        if delivery.status == DeliveryStatus.SUCCEEDED:
            delivered += 1
        else:
            failed += 1
            failing.add(endpoint)
    return delivered, failed


def send_event(event_id: int) -> int:
    """Right after commit: send this event's new deliveries now. Returns how many were delivered."""
    pending = Delivery.objects.filter(event_id=event_id, status=DeliveryStatus.PENDING, endpoint__active=True)
    sent = [delivery_attempt(pk) for pk in pending.values_list("pk", flat=True)]
    return sum(1 for delivery in sent if delivery and delivery.status == DeliveryStatus.SUCCEEDED)


# The POSTs, off the request that caused the event. Declared next to the work they run, so this module and the
# reaction queue them without importing a module that imports this one back (docs/developing.md);
# webhooks.tasks keeps the paths that tasks queued before stay under.
@task()
def send_event_task(event_id: int) -> int:
    """Send an event's new deliveries right after the fan-out commits."""
    return send_event(event_id)


@task()
def send_endpoint_task(endpoint_id: int) -> int:
    """Send what is due for one endpoint (after an admin put its given-up deliveries back in the queue)."""
    return send_due(endpoint_id=endpoint_id)[0]


def _enqueue(background, *args) -> None:
    try:
        background.enqueue(*args)
    except Exception:  # the frequent job sends it instead
        log.exception("could not enqueue %s%s", background, args)


def prune(today_start: datetime, *, batch: int = 5000) -> int:
    """Forget delivered messages older than WEBHOOKS_KEEP_DAYS (failures are kept for the admin)."""
    cutoff = today_start - timedelta(days=settings.WEBHOOKS_KEEP_DAYS)
    removed = 0
    while True:
        ids = list(
            Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED, delivered_at__lt=cutoff).values_list(
                "pk", flat=True
            )[:batch]
        )
        if not ids:
            return removed
        Attempt.objects.filter(delivery_id__in=ids).delete()
        removed += Delivery.objects.filter(pk__in=ids).delete()[1].get(Delivery._meta.label, 0)
