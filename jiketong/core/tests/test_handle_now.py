"""`events.handle_now`: a caller that must not report done first runs the event's reactions itself."""

import pytest

from jiketong.core import events
from jiketong.core.models import EventHandling, HandlingStatus

calls: list[int] = []


def remember(event):
    calls.append(event.pk)


def broken(event):
    raise RuntimeError("down")


@pytest.fixture
def subscribed(monkeypatch):
    calls.clear()
    declared = [
        ("core", "billing.period_replaced", events.Reaction(f"{__name__}.remember", background=True)),
        ("core", "member.left", events.Reaction(f"{__name__}.broken")),
    ]
    monkeypatch.setattr(events, "_declared", lambda: declared)


def test_it_runs_pending_reactions_now_background_ones_included_and_only_once(cast, subscribed):
    event = events.emit("billing.period_replaced", import_run=1, kind="facts", periods=[], org_units=None)
    assert events.handle_now(event) is True
    assert events.handle_now(event) is True
    assert calls == [event.pk]


def test_it_answers_false_and_leaves_a_failing_reaction_to_the_retries(cast, subscribed):
    event = events.emit("member.left", customer_id=cast.alice_customer.pk, members=[1], left_on="2026-06-01")
    assert events.handle_now(event) is False
    handling = EventHandling.objects.get(event=event)
    assert (handling.status, handling.attempts) == (HandlingStatus.PENDING, 1)
