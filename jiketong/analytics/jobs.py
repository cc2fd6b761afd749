"""Scheduled work (`python -m jiketong jobs daily`): keep the monthly indicator summary current."""

from datetime import date

from .summary import refresh_due


def daily(today: date) -> str:
    months = refresh_due()
    return f"analytics: indicator summary refreshed for {len(months)} months"
