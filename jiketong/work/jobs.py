"""Scheduled work (`python -m jiketong jobs daily`): visit tasks owed by grade, each manager's digest, then the
visit coverage each manager has reached (CoverageSummary, decision 0605)."""

from datetime import date

from .services import coverage_refresh, generate_visit_tasks, send_digests


def daily(today: date) -> str:
    created = generate_visit_tasks(today)
    sent = send_digests(today)
    covered = coverage_refresh(today)
    return f"work: {created} visit tasks generated, {sent} digests sent, coverage of {covered} managers"
