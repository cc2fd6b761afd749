"""Scheduled service work: escalate SLA breaches (every few minutes); rebuild the kept satisfaction figures (daily)."""

from datetime import date, datetime

from . import satisfaction
from .services import escalate_breaches


def frequent(now: datetime) -> str:
    return f"service: {escalate_breaches(now)} SLA breaches escalated"


def daily(today: date) -> str:
    return f"service: {satisfaction.refresh():,} satisfaction figures kept"
