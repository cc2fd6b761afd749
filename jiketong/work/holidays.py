"""Holidays on the care calendar: fixed-date ones and the lunar ones (春节, 端午, 中秋), which move every
year and come from the lunar calendar (lunar-python)."""

from datetime import date

from django.utils.translation import gettext_lazy as _
from lunar_python import Lunar

FIXED = [((1, 1), _("New Year's Day")), ((5, 1), _("Labour Day")), ((10, 1), _("National Day"))]
LUNAR = [((1, 1), _("Spring Festival")), ((5, 5), _("Dragon Boat Festival")), ((8, 15), _("Mid-Autumn Festival"))]


def holidays(year: int) -> list[tuple[date, str]]:
    """The care-calendar holidays falling in a Gregorian year, by date."""
    days = [(date(year, month, day), str(name)) for (month, day), name in FIXED]
    for (month, day), name in LUNAR:
        solar = Lunar.fromYmd(year, month, day).getSolar()
        days.append((date(solar.getYear(), solar.getMonth(), solar.getDay()), str(name)))
    return sorted(days)


def holidays_between(start: date, end: date) -> list[tuple[date, str]]:
    """Holidays from `start` to `end`, inclusive (a window may span New Year)."""
    return [
        (day, name) for year in range(start.year, end.year + 1) for day, name in holidays(year) if start <= day <= end
    ]
