"""Working-time arithmetic on a business calendar. Pure: no database; `queries.business_calendar()` loads
the configured calendar into a `WorkCalendar`.

A working day is a weekday not in the weekend, unless a dated override says otherwise (a public holiday
is off, a 调休 make-up Saturday is on). Within a working day only the working periods count
(e.g. 09:00–12:00 and 13:30–17:30). Both functions walk day by day and take each day whole, so the cost
is the number of calendar days spanned, never the number of minutes.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# No SLA reaches further than this; a calendar with no working day would otherwise loop forever.
MAX_DAYS = 3660


@dataclass(frozen=True)
class WorkCalendar:
    periods: tuple[tuple[time, time], ...]  # sorted, non-overlapping, local wall-clock times
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    weekend: frozenset[int] = frozenset({6, 7})  # ISO weekdays
    overrides: Mapping[date, bool] = field(default_factory=dict)  # date → is a working day

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.isoweekday() not in self.weekend

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working stretches of one day as aware datetimes (none on a day off)."""
        if not self.is_workday(day):
            return []
        return [
            (datetime.combine(day, start, self.tz), datetime.combine(day, end, self.tz)) for start, end in self.periods
        ]


def add_working_time(start: datetime, minutes: float, calendar: WorkCalendar) -> datetime:
    """The moment `minutes` of working time after `start`. A start outside working hours counts from the
    next working moment; a deadline that falls exactly at the end of a period stays there."""
    remaining = timedelta(minutes=minutes)
    cursor = start.astimezone(calendar.tz)
    day = cursor.date()
    for _ in range(MAX_DAYS):
        for begin, end in calendar._spans(day):
            if end <= cursor:
                continue
            begin = max(begin, cursor)
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        day += timedelta(days=1)
        cursor = datetime.combine(day, time.min, calendar.tz)
    raise ValueError("no working time within ten years")


def working_minutes_between(a: datetime, b: datetime, calendar: WorkCalendar) -> float:
    """Working minutes from `a` to `b`; negative when `b` is before `a`."""
    if b < a:
        return -working_minutes_between(b, a, calendar)
    a, b = a.astimezone(calendar.tz), b.astimezone(calendar.tz)
    total = timedelta()
    day = a.date()
    while day <= b.date():
        for begin, end in calendar._spans(day):
            overlap = min(end, b) - max(begin, a)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 60
