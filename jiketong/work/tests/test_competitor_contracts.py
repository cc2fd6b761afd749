"""A competitor's contract ending: told at 90/60/30 days (once each), reminded to the manager and the
nearest supervisor, and on the manager's agenda like our own contracts."""

from datetime import date, timedelta

import pytest

from jiketong.core.models import Event, Notification
from jiketong.customers import jobs
from jiketong.customers.models import Competitor, CompetitorPresence
from jiketong.work import queries

END = date(2026, 9, 30)


@pytest.fixture
def rival(cast):
    return CompetitorPresence.objects.create(
        customer=cast.alice_customer, competitor=Competitor.TELECOM, products="互联网专线", contract_end=END
    )


def told() -> list[int]:
    return [e.payload["days_left"] for e in Event.objects.filter(name="competitor.contract_ending").order_by("pk")]


def walk(first: date, last: date, step: int = 1) -> None:
    day = first
    while day <= last:
        jobs.daily(day)
        day += timedelta(days=step)


def test_each_window_is_told_once_as_the_end_comes_near(rival):
    walk(END - timedelta(days=120), END + timedelta(days=5))
    assert told() == [90, 60, 30]
    event = Event.objects.filter(name="competitor.contract_ending").order_by("pk").first()
    assert event.customer_id == rival.customer_id
    assert event.payload == {
        "presence": rival.pk,
        "competitor": "china_telecom",
        "ends_on": "2026-09-30",
        "days_left": 90,
    }


def test_missed_days_are_caught_up_with_the_tightest_window(rival):
    walk(END - timedelta(days=100), END, step=55)  # 100 days out, then 45
    assert told() == [45]
    jobs.daily(END - timedelta(days=44))
    assert told() == [45]
    jobs.daily(END - timedelta(days=20))
    assert told() == [45, 20]


def test_a_moved_contract_end_is_told_afresh(rival):
    jobs.daily(END - timedelta(days=80))
    CompetitorPresence.objects.filter(pk=rival.pk).update(contract_end=END + timedelta(days=5))
    jobs.daily(END - timedelta(days=79))
    assert told() == [80, 84]


def test_the_windows_follow_the_setting(rival, settings):
    settings.COMPETITOR_REMINDER_DAYS = (14,)
    walk(END - timedelta(days=100), END)
    assert told() == [14]


def test_the_owner_and_nearest_supervisor_are_reminded_once_with_a_link(
    cast, rival, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        jobs.daily(END - timedelta(days=60))
    reminders = Notification.objects.filter(kind="competitor_contract")
    assert sorted(reminders.values_list("recipient_id", flat=True)) == sorted([cast.alice.pk, cast.carol.pk])
    reminder = reminders.get(recipient=cast.alice.user)
    assert cast.alice_customer.name in reminder.title and "60" in reminder.title
    assert "2026-09-30" in reminder.body
    assert reminder.url == f"/customers/{cast.alice_customer.pk}/"


def test_the_same_event_handled_twice_reminds_once(cast, rival):
    from jiketong.work.reactions import competitor_contract_ending

    jobs.daily(END - timedelta(days=30))
    event = Event.objects.get(name="competitor.contract_ending")
    competitor_contract_ending(event)
    competitor_contract_ending(event)
    assert Notification.objects.filter(kind="competitor_contract").count() == 2


def test_the_agenda_shows_a_competitors_contract_end(cast, rival):
    days = dict(queries.agenda(cast.alice.user, END - timedelta(days=10)))
    [item] = [item for item in days[END] if item.kind == "competitor"]
    assert "互联网专线" in item.title and item.customer == cast.alice_customer.name
    assert not any(item.kind == "competitor" for items in dict(queries.agenda(cast.bob.user, END)).values()
                   for item in items)  # fmt: skip
