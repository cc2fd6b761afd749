"""Month arithmetic for billing periods (always the first day of a month), in Python and in SQL."""

from datetime import date

from django.db import models
from django.db.models import Func


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(period: date, months: int) -> date:
    index = period.year * 12 + period.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_range(start: date, end: date) -> list[date]:
    """Every period from start to end inclusive (empty if start is after end)."""
    count = (end.year - start.year) * 12 + end.month - start.month + 1
    return [add_months(start, i) for i in range(max(count, 0))]


def parse_period(text: str) -> date:
    """'2026-05' or '2026-05-01' → date(2026, 5, 1); ValueError otherwise."""
    parts = text.strip().split("-")
    if len(parts) not in (2, 3):
        raise ValueError(text)
    return date(int(parts[0]), int(parts[1]), 1)


class ShiftMonth(Func):
    """A period column moved by whole months, in SQL (for "the same customer last month" lookups)."""

    output_field = models.DateField()

    def __init__(self, expression, months: int):
        self.months = months
        super().__init__(expression)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template=f"date(%(expressions)s, '{self.months:+d} months')", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = f"(%(expressions)s + interval '{self.months} months')::date"
        return self.as_sql(compiler, connection, template=template, **extra)
