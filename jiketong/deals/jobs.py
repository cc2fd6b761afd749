"""Scheduled work of the deals app (run by `python -m jiketong jobs daily`)."""

from datetime import date

from .services import contracts_daily


def daily(today: date) -> str:
    """Contract statuses and expiry reminders for `today`; safe to run again or after missed days."""
    result = contracts_daily(today)
    return (
        f"contracts: {result.expiring} expiring, {result.expired} expired, {result.renewed} renewed, "
        f"{result.reminded} reminders"
    )
