"""The event seam: recorded with the change, handled once after commit, retried, picked up after a crash."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from jiketong.core import events
from jiketong.core.models import Event, EventHandling, HandlingStatus, Notification

calls: list[int] = []
failures = {"left": 0}


def remember(event):
    """A test reaction with a durable effect (an inbox entry) and a visible call count."""
    calls.append(event.pk)
    Notification.objects.create(recipient_id=event.actor_id, kind="test", title=f"seen {event.pk}")


def flaky(event):
    if failures["left"] > 0:
        failures["left"] -= 1
        raise RuntimeError("receiver down")
    remember(event)


@pytest.fixture
def subscribed(monkeypatch):
    """order.completed → remember (in process); quote.decided → flaky."""
    calls.clear()
    failures["left"] = 0
    declared = [
        ("core", "order.completed", events.Reaction(f"{__name__}.remember")),
        ("core", "quote.decided", events.Reaction(f"{__name__}.flaky")),
    ]
    monkeypatch.setattr(events, "_declared", lambda: declared)


def test_an_event_is_recorded_with_the_change_and_handled_after_commit(
    cast, subscribed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = events.emit("order.completed", customer_id=cast.alice_customer.pk, actor=cast.alice.user, order=7)
        assert calls == []  # not before commit
    assert calls == [event.pk]
    assert Notification.objects.filter(recipient=cast.alice.user, kind="test").count() == 1
    event.refresh_from_db()
    assert event.handled_at is not None and event.payload == {"order": 7}


def test_a_rolled_back_change_leaves_no_event(cast, subscribed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        events.emit("order.completed", actor=cast.alice.user, order=7)
        raise RuntimeError("the write failed")
    assert not Event.objects.exists() and calls == []


def test_an_event_handled_twice_changes_nothing_the_second_time(cast, subscribed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = events.emit("order.completed", actor=cast.alice.user, order=7)
    handling = EventHandling.objects.get(event=event)
    assert events.handle(handling.pk) is True  # again: already done
    events.dispatch([handling.pk])
    EventHandling.objects.filter(pk=handling.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    events.run_due(timezone.now() + timedelta(hours=1))
    assert calls == [event.pk]
    assert Notification.objects.filter(kind="test").count() == 1


def test_a_failing_reaction_is_retried_with_backoff_until_it_succeeds(
    cast, subscribed, django_capture_on_commit_callbacks
):
    failures["left"] = 2
    with django_capture_on_commit_callbacks(execute=True):
        event = events.emit("quote.decided", actor=cast.alice.user, quote=1)
    handling = EventHandling.objects.get(event=event)
    assert (handling.status, handling.attempts, handling.last_error) == ("pending", 1, "RuntimeError: receiver down")
    first_wait = handling.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < first_wait <= timedelta(minutes=1)
    assert events.run_due(timezone.now()) == 0  # not due yet
    events.run_due(timezone.now() + timedelta(minutes=2))
    handling.refresh_from_db()
    assert handling.attempts == 2 and handling.next_attempt_at - timezone.now() > timedelta(minutes=1.5)
    events.run_due(timezone.now() + timedelta(minutes=5))
    handling.refresh_from_db()
    assert (handling.status, handling.attempts, handling.last_error) == ("done", 3, "")
    assert calls == [event.pk]


def test_a_reaction_that_keeps_failing_stops_and_tells_the_admins_who_can_retry_it(
    cast, subscribed, client_as, django_capture_on_commit_callbacks
):
    failures["left"] = events.MAX_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        event = events.emit("quote.decided", actor=cast.alice.user, quote=1)
    later = timezone.now()
    for _attempt in range(events.MAX_ATTEMPTS):
        later += timedelta(days=1)
        events.run_due(later)
    handling = EventHandling.objects.get(event=event)
    assert handling.status == HandlingStatus.FAILED and handling.attempts == events.MAX_ATTEMPTS
    notice = Notification.objects.get(recipient=cast.frank.user, kind="event_failed")
    assert "quote.decided" in notice.title and "receiver down" in notice.body
    page = client_as(cast.frank).get("/events/?status=failed")
    assert page.status_code == 200 and "receiver down" in page.content.decode()
    assert client_as(cast.alice).get("/events/").status_code == 403
    response = client_as(cast.frank).post(f"/events/{handling.pk}/retry/")
    assert response.status_code == 302
    handling.refresh_from_db()
    assert handling.status == HandlingStatus.DONE and calls == [event.pk]


def test_every_declared_reaction_names_a_known_event_and_an_importable_function():
    from django.utils.module_loading import import_string

    for name, subscribers in events.subscriptions().items():
        assert name in events.EVENTS
        for _label, reaction in subscribers:
            assert callable(import_string(reaction.path))


def test_the_events_command_prints_who_reacts_to_what(capsys):
    call_command("events")
    out = capsys.readouterr().out
    for name in events.EVENTS:
        assert name in out


CRASH = """
import os, django
django.setup()
from django.core.management import call_command
from django.db import transaction
from django.contrib.auth.models import User
from jiketong.core import events
events._declared = lambda: [("core", "order.completed", events.Reaction("jiketong.core.tests.test_events.remember"))]
if os.environ["STEP"] == "emit":
    call_command("migrate", verbosity=0)
    user = User.objects.create(username="u")
    with transaction.atomic():
        transaction.on_commit(lambda: os._exit(9))  # dies after commit, before the reaction runs
        events.emit("order.completed", actor=user, order=1)
else:
    print(events.run_due())
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_left_by_a_process_killed_after_commit_is_handled_by_the_job(tmp_path):
    env = {**os.environ, "JIKETONG_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/crash.sqlite3",
           "DJANGO_SETTINGS_MODULE": "jiketong.settings", "EVENTS_IN_FLIGHT_GRACE_SECONDS": "0"}  # fmt: skip
    script = textwrap.dedent(CRASH)
    emitted = subprocess.run([sys.executable, "-c", script], env={**env, "STEP": "emit"}, capture_output=True)
    assert emitted.returncode == 9, emitted.stderr.decode()[-2000:]
    ran = subprocess.run([sys.executable, "-c", script], env={**env, "STEP": "run"}, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip() == "1"
    again = subprocess.run([sys.executable, "-c", script], env={**env, "STEP": "run"}, capture_output=True, text=True)
    assert again.stdout.strip() == "0"


def test_the_events_page_for_integrators_lists_every_event():
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "docs" / "events.md").read_text()
    missing = [name for name in events.EVENTS if f"`{name}`" not in text]
    assert missing == []


def test_a_bulk_emit_leaves_its_reactions_to_the_task_worker(
    cast, subscribed, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    count = events.INLINE_LIMIT + 1
    with django_capture_on_commit_callbacks(execute=True):
        emitted = events.emit_many(
            "order.completed", [(None, {"order": i}) for i in range(count)], actor=cast.alice.user
        )
    assert calls == []  # the emitting process did not run them
    queued = default_task_backend.results
    assert len(queued) == 1 and len(queued[0].args[0]) == count
    from jiketong.core.tasks import handle_events

    assert handle_events.call(queued[0].args[0]) == count
    assert sorted(calls) == sorted(event.pk for event in emitted)
