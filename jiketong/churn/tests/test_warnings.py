"""Warnings that start and end: one churn.level_changed per crossing, and who is told."""

from datetime import date

import pytest

from jiketong.churn import services
from jiketong.core.models import Event, Notification
from jiketong.customers.models import LifecycleStatus

from .helpers import bill

TODAY = date(2026, 6, 10)


@pytest.fixture
def falling(cast):
    """Alice's customer: revenue down three months, members leaving, in arrears, never visited (70, high);
    Bob's stays flat (never visited only: low)."""
    bill(cast.alice_customer, date(2026, 2, 1), [100, 90, 80, 70], members=[100, 95, 90, 85],
         left=[0, 5, 5, 5], arrears=[False, False, False, True])  # fmt: skip
    bill(cast.bob_customer, date(2026, 2, 1), [100, 100, 100, 100])
    return cast.alice_customer


def crossings():
    return list(Event.objects.filter(name="churn.level_changed").order_by("pk"))


def test_a_score_reaching_high_emits_one_warning_with_the_reasons_in_words(cast, falling):
    services.score_all(TODAY)
    [event] = crossings()
    assert event.customer_id == falling.pk
    assert event.payload["warned"] is True
    assert (event.payload["from_level"], event.payload["to_level"], event.payload["score"]) == ("", "high", 70)
    assert event.payload["reasons"][0] == "收入连续3个月下降（-30%）"  # in the site's language, as stored
    assert len(event.payload["reasons"]) == 3


def test_a_warning_that_stays_is_not_emitted_again_the_next_night(cast, falling):
    services.score_all(TODAY)
    services.score_all(date(2026, 6, 11))
    assert len(crossings()) == 1


def test_a_score_falling_back_ends_the_warning_once(cast, falling, settings):
    services.score_all(TODAY)
    settings.CHURN_RULES = {"high_from": 80}
    services.score_all(date(2026, 6, 11))
    services.score_all(date(2026, 6, 12))
    started, ended = crossings()
    assert ended.customer_id == falling.pk
    assert ended.payload["warned"] is False
    assert (ended.payload["from_level"], ended.payload["to_level"]) == ("high", "medium")


def test_the_earlier_level_is_named_when_a_scored_customer_becomes_warned(cast, falling, settings):
    settings.CHURN_RULES = {"high_from": 80}
    services.score_all(TODAY)
    assert crossings() == []
    settings.CHURN_RULES = {}
    services.score_all(date(2026, 6, 11))
    [event] = crossings()
    assert (event.payload["from_level"], event.payload["to_level"]) == ("medium", "high")


def test_a_warned_customer_no_longer_scored_ends_nothing(cast, falling):
    services.score_all(TODAY)
    type(falling).objects.filter(pk=falling.pk).update(status=LifecycleStatus.CHURNED)
    services.score_all(date(2026, 6, 11))
    assert len(crossings()) == 1


def test_the_warning_moves_the_customer_to_at_risk_and_tells_owner_and_supervisor_once(
    cast, falling, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.score_all(TODAY)
    falling.refresh_from_db()
    assert falling.status == LifecycleStatus.AT_RISK
    notices = Notification.objects.filter(kind="churn_warning")
    assert sorted(notices.values_list("recipient_id", flat=True)) == sorted([cast.alice.pk, cast.carol.pk])
    notice = notices.get(recipient=cast.alice.user)
    assert falling.name in notice.title
    assert "收入连续3个月下降" in notice.body
    assert notice.url == f"/customers/{falling.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        services.score_all(date(2026, 6, 11))
    assert notices.count() == 2


def test_the_same_event_handled_twice_notifies_once(cast, falling):
    from jiketong.churn.reactions import notify_level_changed

    services.score_all(TODAY)
    [event] = crossings()
    notify_level_changed(event)
    notify_level_changed(event)
    assert Notification.objects.filter(kind="churn_warning").count() == 2


def test_the_end_of_a_warning_returns_the_customer_to_active_and_says_so(
    cast, falling, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.score_all(TODAY)
    settings.CHURN_RULES = {"high_from": 80}
    with django_capture_on_commit_callbacks(execute=True):
        services.score_all(date(2026, 6, 11))
    falling.refresh_from_db()
    assert falling.status == LifecycleStatus.ACTIVE
    ended = Notification.objects.get(kind="churn_warning", recipient=cast.alice.user, title__startswith="流失预警解除")
    assert ended.url == f"/customers/{falling.pk}/"
