"""Working-time arithmetic: weekends, public holidays, 调休 make-up days, lunch, starts outside hours."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiketong.service import queries
from jiketong.service.calendar import WorkCalendar, add_working_time, working_minutes_between

TZ = ZoneInfo("Asia/Shanghai")
# National Day 2026 as the State Council arranged it: 1–7 October off, Sunday 20 September and
# Saturday 10 October worked instead.
CAL = WorkCalendar(
    periods=((time(9), time(12)), (time(13, 30), time(17, 30))),
    overrides={date(2026, 10, d): False for d in range(1, 8)} | {date(2026, 9, 20): True, date(2026, 10, 10): True},
)


def at(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (at(2026, 11, 18, 10), 30, at(2026, 11, 18, 10, 30)),  # plain morning
        (at(2026, 11, 18, 11, 30), 60, at(2026, 11, 18, 14)),  # across lunch
        (at(2026, 11, 18, 11, 30), 30, at(2026, 11, 18, 12)),  # ends exactly at noon: stays there
        (at(2026, 11, 18, 7), 10, at(2026, 11, 18, 9, 10)),  # before opening
        (at(2026, 11, 18, 12, 45), 10, at(2026, 11, 18, 13, 40)),  # during lunch
        (at(2026, 11, 18, 20), 10, at(2026, 11, 19, 9, 10)),  # after closing
        (at(2026, 11, 20, 17), 60, at(2026, 11, 23, 9, 30)),  # Friday → Monday, over the weekend
        (at(2026, 11, 21, 10), 10, at(2026, 11, 23, 9, 10)),  # received on a Saturday
        (at(2026, 11, 18, 9), 420 * 2, at(2026, 11, 19, 17, 30)),  # two whole 7-hour days
        (at(2026, 9, 30, 16), 240, at(2026, 10, 8, 11, 30)),  # over the National Day holiday
        (at(2026, 10, 9, 16), 240, at(2026, 10, 10, 11, 30)),  # onto the make-up Saturday
        (at(2026, 9, 18, 17), 60, at(2026, 9, 20, 9, 30)),  # onto the make-up Sunday, skipping Saturday
    ],
)
def test_add_working_time(start, minutes, expected):
    assert add_working_time(start, minutes, CAL) == expected


def test_utc_input_gives_the_same_moment():
    start = at(2026, 11, 20, 17).astimezone(ZoneInfo("UTC"))
    assert add_working_time(start, 60, CAL) == at(2026, 11, 23, 9, 30)


@pytest.mark.parametrize(
    ("a", "b", "minutes"),
    [
        (at(2026, 11, 20, 17), at(2026, 11, 23, 9, 30), 60),
        (at(2026, 11, 18, 11), at(2026, 11, 18, 14), 90),
        (at(2026, 11, 21, 8), at(2026, 11, 22, 20), 0),  # a weekend has no working time
        (at(2026, 10, 1, 9), at(2026, 10, 7, 18), 0),  # nor a public holiday
        (at(2026, 10, 10, 0), at(2026, 10, 11, 0), 420),  # a make-up Saturday is a full day
        (at(2026, 11, 23, 9, 30), at(2026, 11, 20, 17), -60),
    ],
)
def test_working_minutes_between(a, b, minutes):
    assert working_minutes_between(a, b, CAL) == minutes


def test_a_calendar_without_working_days_fails_loudly():
    with pytest.raises(ValueError):
        add_working_time(at(2026, 1, 1, 9), 10, WorkCalendar(periods=()))


starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=TZ, microsecond=0)
)
amounts = st.integers(min_value=0, max_value=5000)


@settings(max_examples=200, deadline=None)
@given(starts, amounts)
def test_minutes_between_start_and_deadline_are_the_minutes_added(start, minutes):
    assert working_minutes_between(start, add_working_time(start, minutes, CAL), CAL) == pytest.approx(minutes)


@settings(max_examples=200, deadline=None)
@given(starts, amounts, amounts)
def test_adding_in_two_steps_equals_adding_once(start, first, second):
    assert add_working_time(add_working_time(start, first, CAL), second, CAL) == add_working_time(
        start, first + second, CAL
    )


@settings(max_examples=100, deadline=None)
@given(starts, amounts)
def test_deadline_is_always_inside_working_hours(start, minutes):
    due = add_working_time(start, minutes, CAL).astimezone(TZ)
    assert CAL.is_workday(due.date())
    assert any(begin <= due.time() <= end for begin, end in CAL.periods)
    assert due >= start - timedelta(0)


def test_seeded_calendar_has_the_state_council_arrangements(db):
    calendar = queries.business_calendar()
    assert calendar.periods == ((time(9), time(12)), (time(13, 30), time(17, 30)))
    assert calendar.is_workday(date(2026, 10, 10))  # make-up Saturday
    assert not calendar.is_workday(date(2026, 10, 1))  # National Day
    assert not calendar.is_workday(date(2026, 2, 17))  # Spring Festival
    assert calendar.is_workday(date(2026, 11, 23))
