"""Scheduled work of the kernel: reactions still pending (retries due, or a process that died after commit)."""

from datetime import date, datetime

from . import events, exports


def frequent(now: datetime) -> str:
    return f"events: {events.run_due(now)} reactions handled"


def daily(today: date) -> str:
    return f"events: {events.run_due()} reactions handled; exports: {exports.purge()} expired files deleted"
