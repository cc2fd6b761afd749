"""Domain events between the apps: the outbox and its handling (decision 0010, docs/events.md).

A service that changes something other apps care about records an event in the same transaction:

    emit("order.completed", customer_id=order.customer_id, actor=actor, order=order.pk, quote=quote_id)

`emit` writes the event and one `EventHandling` row per subscribed reaction, so the change and the promise to
react land (or roll back) together. After commit each reaction runs: in this process when it is cheap, as a
django-task when it is declared `background`. A reaction runs inside a transaction that also marks its
handling done, so its effects and the mark commit together: an event is never handled twice by the same
reaction, and one that fails is retried with backoff (`run_due`, called by the frequent job) until it gives
up and tells the admins. A process that dies between commit and handling leaves pending rows that the
frequent job picks up.

Apps subscribe on their AppConfig, next to their menu entries and panels (decision 0009):

    class SalesConfig(AppConfig):
        reactions = {"order.completed": ["jiketong.sales.reactions.order_completed"]}

A reaction is `reaction(event: Event) -> None`. `"*"` subscribes to every event (webhooks, the HQ sync).
A set-based reaction may also declare its bulk form, `reaction.many = many(events: list[Event]) -> None`, with the
same effect as the reaction on each event (`bulk_form`): a batch of handlings (a night's warnings, the demo's
first morning) then runs it once per reaction instead of once per event, and falls back to one event at a time
when it fails.
"""

import logging
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from .models import Event, EventHandling, HandlingStatus

log = logging.getLogger(__name__)

# The one list of events: name → what happened and the payload it carries (ids and changed fields, never
# personal data in clear). docs/events.md repeats it for integrators; a test keeps the two in step.
EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lead.converted": (_("A lead became a customer with an opportunity"), ("lead", "customer", "opportunity")),
    "opportunity.stage_changed": (
        _("An opportunity moved to another stage (won and lost included)"),
        ("opportunity", "customer", "from_stage", "to_stage", "outcome"),
    ),
    "quote.submitted": (_("A quote was submitted for approval"), ("quote", "customer", "level", "approvers")),
    "quote.decided": (
        _("A quote was approved or rejected"),
        ("quote", "customer", "decision", "comment", "submitted_by", "decided_by"),
    ),
    "contract.status_changed": (
        _("A contract was activated, renewed, terminated or expired"),
        ("contract", "customer", "from_status", "to_status"),
    ),
    "order.state_changed": (_("An order changed state"), ("order", "customer", "from_status", "to_status")),
    "order.completed": (
        _("An order was completed and its subscriptions are in service"),
        ("order", "number", "customer", "quote", "contract", "opportunity", "subscriptions", "completed_on"),
    ),
    "customer.lifecycle_changed": (
        _("A customer's lifecycle status changed"),
        ("customer", "from_status", "to_status", "reason"),
    ),
    "customer.moved": (_("A customer moved to another org unit"), ("customer", "from_unit", "to_unit")),
    "churn.level_changed": (
        _("A customer's churn warning started or ended"),
        ("customer", "warned", "from_level", "to_level", "score", "reasons"),
    ),
    "billing.period_replaced": (
        _("Billing months were imported, corrected, back-filled or removed"),
        ("import_run", "kind", "periods", "org_units"),
    ),
    "member.left": (_("Members left a group"), ("customer", "members", "left_on")),
    "competitor.contract_ending": (
        _("A competitor's contract with a customer ends soon"),
        ("customer", "presence", "competitor", "ends_on", "days_left"),
    ),
    "competitor.threat_recorded": (
        _("A competitor's presence or action was recorded at a customer"),
        ("customer", "presence", "attack", "competitor", "threat", "from_threat", "contract_end"),
    ),
    "churn.retention_opened": (
        _("A retention task was opened from a churn warning"),
        ("customer", "task", "owner", "risk", "score"),
    ),
    "churn.alert_raised": (_("The nightly job raised a risk alert"), ("customer", "alert", "kind", "reason")),
    "ticket.rated": (_("A closed ticket was rated by the customer"), ("customer", "ticket", "rating", "month")),
    "survey.recorded": (_("A satisfaction survey was recorded"), ("customer", "survey", "period", "month")),
}

INLINE_LIMIT = 200  # more reactions than this from one emit run in the task worker, not in the emitting process
BATCH = 1000  # handlings per background task
CHUNK = 200  # handlings locked and marked done together by `handle_many`
MAX_ATTEMPTS = 8  # 1, 2, 4 … 128 minutes apart: about four hours of retries before an admin is told


@dataclass(frozen=True)
class Reaction:
    """A subscription declared on an AppConfig; a plain dotted path means `Reaction(path)`."""

    path: str
    background: bool = False  # heavy: run by the task worker, not the request that caused the event


def bulk_form(many: Callable[[list[Event]], None]):
    """Declare `many(events)` as a reaction's set-based form: the same effect as the reaction on each event."""

    def mark(reaction):
        reaction.many = many
        return reaction

    return mark


def _declared() -> list[tuple[str, str, Reaction]]:
    """(app label, event name, reaction) for every subscription of every installed app."""
    found = []
    for config in apps.get_app_configs():
        for name, reactions in getattr(config, "reactions", {}).items():
            for reaction in reactions:
                found.append((config.label, name, reaction if isinstance(reaction, Reaction) else Reaction(reaction)))
    return found


def subscriptions() -> dict[str, list[tuple[str, Reaction]]]:
    """Event name → [(app label, reaction)], wildcard subscribers included; checks every name is known."""
    table: dict[str, list[tuple[str, Reaction]]] = {name: [] for name in EVENTS}
    for label, name, _reaction in _declared():
        if name != "*" and name not in EVENTS:
            raise LookupError(f"{label} reacts to unknown event {name!r}; add it to core.events.EVENTS")
    for label, name, reaction in _declared():
        for event_name in EVENTS if name == "*" else [name]:
            table[event_name].append((label, reaction))
    return table


def _reactions(name: str) -> dict[str, Reaction]:
    return {reaction.path: reaction for _label, reaction in subscriptions()[name]}


def emit(name: str, *, customer_id: int | None = None, actor=None, **payload) -> Event:
    """Record `name` with its payload in the current transaction; its reactions run after commit."""
    return emit_many(name, [(customer_id, payload)], actor=actor)[0]


def emit_many(name: str, items: Iterable[tuple[int | None, dict]], *, actor=None) -> list[Event]:
    """The bulk form for jobs and imports: one event per (customer_id, payload), written in two INSERTs."""
    if name not in EVENTS:
        raise LookupError(f"Unknown event {name!r}; add it to core.events.EVENTS")
    actor_id = getattr(actor, "pk", None)
    events = Event.objects.bulk_create(
        [
            Event(name=name, customer_id=customer_id, actor_id=actor_id, payload=payload)
            for customer_id, payload in items
        ]
    )
    reactions = _reactions(name)
    if not events:
        return events
    if events[0].pk is None:  # backends that don't return ids from bulk_create (none we run on, but be safe)
        raise RuntimeError("bulk_create did not return event ids")
    handlings = EventHandling.objects.bulk_create(
        [EventHandling(event=event, reaction=path) for event in events for path in reactions],
        batch_size=2000,
    )
    if not handlings:
        Event.objects.filter(pk__in=[event.pk for event in events]).update(handled_at=timezone.now())
    ids = [handling.pk for handling in handlings]
    if len(ids) > INLINE_LIMIT:
        # A night's scoring or a big import: the job that emitted them finishes in its window and the task
        # worker handles the reactions in batches (the frequent job if the enqueue fails).
        transaction.on_commit(lambda: _enqueue_batches(ids), robust=True)
    elif ids:
        transaction.on_commit(lambda: dispatch(ids), robust=True)
    return events


def _enqueue_batches(handling_ids: list[int]) -> None:
    for start in range(0, len(handling_ids), BATCH):
        try:
            handle_events.enqueue(handling_ids[start : start + BATCH])
        except Exception:  # noqa: BLE001 - the frequent job runs them instead
            log.exception("could not enqueue a batch of event handlings")
            return


def dispatch(handling_ids: list[int]) -> None:
    """Run (or enqueue) these handlings now: called after the emitting transaction commits."""
    rows = EventHandling.objects.filter(pk__in=handling_ids, status=HandlingStatus.PENDING).values_list(
        "pk", "reaction", "event__name"
    )
    inline = []
    for pk, path, name in rows:
        reaction = _reactions(name).get(path, Reaction(path))
        if reaction.background:
            try:
                handle_event.enqueue(pk)
            except Exception:  # the frequent job runs it instead
                log.exception("could not enqueue event handling %s", pk)
        else:
            inline.append(pk)
    if len(inline) == 1:
        handle(inline[0])
    elif inline:
        handle_many(inline)


# The background tasks (declared here, next to the work they run; core.tasks keeps their older dotted paths).
@task()
def handle_event(handling_id: int) -> bool:
    """A reaction declared `background`, in the task worker."""
    return handle(handling_id)


@task()
def handle_events(handling_ids: list[int]) -> int:
    """A batch of reactions left by a bulk emit (INLINE_LIMIT); background ones run here too."""
    return handle_many(handling_ids)


def handle(handling_id: int) -> bool:
    """Run one reaction for one event, once. True when it is done (now or before)."""
    with transaction.atomic():
        handling = (
            EventHandling.objects.select_for_update(skip_locked=_skip_locked())
            .select_related("event")
            .filter(pk=handling_id)
            .first()
        )
        if handling is None or handling.status != HandlingStatus.PENDING:
            return handling is not None and handling.status == HandlingStatus.DONE
        try:
            with transaction.atomic():  # a savepoint: a failing reaction leaves nothing behind
                import_string(handling.reaction)(handling.event)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            _failed(handling, exc)
            return False
        handling.status = HandlingStatus.DONE
        handling.attempts += 1
        handling.done_at = timezone.now()
        handling.last_error = ""
        handling.save(update_fields=["status", "attempts", "done_at", "last_error"])
        if not EventHandling.objects.filter(event_id=handling.event_id).exclude(status=HandlingStatus.DONE).exists():
            Event.objects.filter(pk=handling.event_id).update(handled_at=handling.done_at)
    return True


def handle_many(handling_ids: list[int]) -> int:
    """Run these handlings (each once, as `handle` does), CHUNK at a time: one transaction locks a chunk's pending
    rows, runs each reaction in a savepoint (its bulk form once for all of its events when it has one) and
    marks the done ones in one UPDATE. Returns how many are done."""
    done = 0
    for start in range(0, len(handling_ids), CHUNK):
        done += _handle_chunk(handling_ids[start : start + CHUNK])
    return done


def _handle_chunk(handling_ids: list[int]) -> int:
    with transaction.atomic():
        locked = (
            EventHandling.objects.select_for_update(skip_locked=_skip_locked())
            .select_related("event")
            .filter(pk__in=handling_ids, status=HandlingStatus.PENDING)
            .order_by("pk")
        )
        by_reaction: dict[str, list[EventHandling]] = defaultdict(list)
        for handling in locked:
            by_reaction[handling.reaction].append(handling)
        done: list[EventHandling] = []
        for path, handlings in by_reaction.items():
            done += _run_reaction(path, handlings)
        if not done:
            return 0
        now = timezone.now()
        EventHandling.objects.filter(pk__in=[h.pk for h in done]).update(
            status=HandlingStatus.DONE, attempts=F("attempts") + 1, done_at=now, last_error=""
        )
        unfinished = EventHandling.objects.filter(event_id=OuterRef("pk")).exclude(status=HandlingStatus.DONE)
        Event.objects.filter(pk__in={h.event_id for h in done}).exclude(Exists(unfinished)).update(handled_at=now)
    return len(done)


def _run_reaction(path: str, handlings: list[EventHandling]) -> list[EventHandling]:
    """The handlings of one reaction that ran: all at once through its bulk form, else one by one."""
    try:
        reaction = import_string(path)
    except Exception as exc:  # noqa: BLE001 - recorded and retried like any failure
        for handling in handlings:
            _failed(handling, exc)
        return []
    many = getattr(reaction, "many", None)
    if many is not None and len(handlings) > 1:
        try:
            with transaction.atomic():
                many([handling.event for handling in handlings])
            return handlings
        except Exception:  # noqa: BLE001 - one at a time below, so only the failing event is retried
            log.warning("bulk form of %s failed; handling its %s events one at a time", path, len(handlings))
    ran = []
    for handling in handlings:
        try:
            with transaction.atomic():  # a savepoint: a failing reaction leaves nothing behind
                reaction(handling.event)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            _failed(handling, exc)
            continue
        ran.append(handling)
    return ran


def _skip_locked() -> bool:
    from django.db import connection

    return connection.features.has_select_for_update_skip_locked


def _failed(handling: EventHandling, exc: Exception) -> None:
    handling.attempts += 1
    handling.last_error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
    log.warning("reaction %s to event %s failed (attempt %s): %s", handling.reaction, handling.event_id,
                handling.attempts, handling.last_error)  # fmt: skip
    if handling.attempts >= MAX_ATTEMPTS:
        handling.status = HandlingStatus.FAILED
        _tell_admins(handling)
    handling.next_attempt_at = timezone.now() + timedelta(minutes=2 ** (handling.attempts - 1))
    handling.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


def _tell_admins(handling: EventHandling) -> None:
    from django.urls import reverse

    from . import access
    from .notify import notify

    notify(
        access.holders([access.ADMIN]),
        kind="event_failed",
        title=str(_("A reaction to event %(name)s failed") % {"name": handling.event.name}),
        body=handling.last_error,
        url=reverse("events:list") + "?status=failed",
        key=f"event-failed:{handling.pk}",
    )


def handle_now(event: Event) -> bool:
    """Run every pending reaction to one committed event here and now, background ones included: for a
    caller that must not report its work done before the reactions ran (the billing import refreshes the
    indicator summary this way). True when all of them are done; a failure stays pending for the retries."""
    pending = EventHandling.objects.filter(event=event, status=HandlingStatus.PENDING).order_by("pk")
    return all([handle(pk) for pk in pending.values_list("pk", flat=True)]) and not (
        EventHandling.objects.filter(event=event).exclude(status=HandlingStatus.DONE).exists()
    )


def run_due(now=None, limit: int = 5000) -> int:
    """Handle what is still pending: retries whose time has come, and events whose process died before
    handling them. Called by the frequent job and `python -m jiketong events run`."""
    now = now or timezone.now()
    due = (
        EventHandling.objects.filter(status=HandlingStatus.PENDING, next_attempt_at__lte=now)
        # Younger rows are still being handled by the process that committed them.
        .filter(event__occurred_at__lte=now - timedelta(seconds=settings.EVENTS_IN_FLIGHT_GRACE_SECONDS))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return handle_many(list(due))


def run_pending() -> int:
    """Handle every pending reaction now, in this process, background ones included: the demo's morning after
    its jobs, where no task worker runs yet. Idempotent: a worker that later picks one finds it done."""
    grace = timedelta(seconds=settings.EVENTS_IN_FLIGHT_GRACE_SECONDS + 1)
    handled = 0
    while batch := run_due(now=timezone.now() + grace):
        handled += batch
    return handled


def retry(handling: EventHandling) -> None:
    """An admin's retry of a reaction that gave up: it runs again now."""
    EventHandling.objects.filter(pk=handling.pk, status=HandlingStatus.FAILED).update(
        status=HandlingStatus.PENDING, next_attempt_at=timezone.now()
    )
    handle(handling.pk)
