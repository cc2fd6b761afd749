"""Scheduled work (`python -m jiketong jobs daily`): visit tasks owed by grade, then each manager's digest."""

from datetime import date

from .services import generate_visit_tasks, send_digests


def daily(today: date) -> str:
    created = generate_visit_tasks(today)
    sent = send_digests(today)
    return f"work: {created} visit tasks generated, {sent} digests sent"
