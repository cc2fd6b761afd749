"""Handlings in batches (core.events.handle_many): a reaction's bulk form runs once for many events, with the same
effect as one event at a time, once; when it fails, each event is handled alone and only the failing one waits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jiketong.core import events
from jiketong.core.models import Event, EventHandling, HandlingStatus, Notification

batches: list[list[int]] = []
singles: list[int] = []
broken = {"event": None}


def _note(event) -> None:
    if event.pk == broken["event"]:
        raise RuntimeError("receiver down")
    Notification.objects.get_or_create(recipient_id=event.actor_id, kind="test", key=f"seen {event.pk}")


def note_many(events_: list) -> None:
    batches.append([event.pk for event in events_])
    if broken["event"] in [event.pk for event in events_]:
        raise RuntimeError("one of them is broken")
    for event in events_:
        _note(event)


@events.bulk_form(note_many)
def note(event) -> None:
    singles.append(event.pk)
    _note(event)


@pytest.fixture
def subscribed(monkeypatch):
    batches.clear()
    singles.clear()
    broken["event"] = None
    declared = [("core", "order.completed", events.Reaction(f"{__name__}.note"))]
    monkeypatch.setattr(events, "_declared", lambda: declared)


def _emit(cast, count: int) -> list[Event]:
    # Emitted outside any on-commit capture: nothing runs them until the job does, as after a night's scoring.
    return events.emit_many("order.completed", [(None, {"order": i}) for i in range(count)], actor=cast.alice.user)


def _run_all() -> int:
    return events.run_due(timezone.now() + timedelta(hours=1))


def test_a_batch_runs_the_bulk_form_once_and_marks_every_event_handled(cast, subscribed):
    emitted = _emit(cast, 5)
    assert _run_all() == 5
    assert batches == [[event.pk for event in emitted]] and singles == []
    assert Notification.objects.filter(kind="test").count() == 5
    assert not EventHandling.objects.exclude(status=HandlingStatus.DONE).exists()
    assert not Event.objects.filter(handled_at__isnull=True).exists()
    assert set(EventHandling.objects.values_list("attempts", flat=True)) == {1}
    # A second run finds nothing to do and changes nothing.
    assert _run_all() == 0 and len(batches) == 1


def test_when_the_bulk_form_fails_each_event_runs_alone_and_only_the_failing_one_is_retried(cast, subscribed):
    emitted = _emit(cast, 4)
    broken["event"] = emitted[2].pk
    assert _run_all() == 3
    assert singles == [event.pk for event in emitted]  # one by one after the bulk form failed
    assert sorted(Notification.objects.filter(kind="test").values_list("key", flat=True)) == sorted(
        f"seen {event.pk}" for event in emitted if event.pk != broken["event"]
    )
    failed = EventHandling.objects.get(event=emitted[2])
    assert (failed.status, failed.attempts) == (HandlingStatus.PENDING, 1) and "receiver down" in failed.last_error
    assert Event.objects.get(pk=emitted[2].pk).handled_at is None
    broken["event"] = None
    assert _run_all() == 1
    failed.refresh_from_db()
    assert failed.status == HandlingStatus.DONE and Notification.objects.filter(kind="test").count() == 4


def test_a_single_event_runs_the_plain_reaction(cast, subscribed):
    (event,) = _emit(cast, 1)
    assert _run_all() == 1
    assert singles == [event.pk] and batches == []


def test_notify_many_delivers_what_notify_would_one_notice_at_a_time(cast):
    from jiketong.core.notify import notify, notify_many

    alice, bob, carol = cast.alice.user.pk, cast.bob.user.pk, cast.carol.user.pk
    notify([alice], kind="risk_alert", title="already told", key="k1")
    notices = [
        {"recipients": [alice, bob, None], "kind": "risk_alert", "title": "one", "key": "k1", "customer_id": None},
        {"recipients": [carol], "kind": "risk_alert", "title": "two", "body": "why", "url": "/x", "key": "k2"},
        {"recipients": [carol], "kind": "risk_alert", "title": "two again", "key": "k2"},  # same key: once
        {"recipients": [bob], "kind": "test", "title": "no key"},
    ]
    assert notify_many(notices) == 3
    rows = set(Notification.objects.values_list("recipient", "key", "title", "body", "url"))
    assert rows == {
        (alice, "k1", "already told", "", ""),
        (bob, "k1", "one", "", ""),
        (carol, "k2", "two", "why", "/x"),
        (bob, "", "no key", "", ""),
    }
