"""Scheduled service work: escalate SLA breaches (run every few minutes)."""

from datetime import datetime

from .services import escalate_breaches


def frequent(now: datetime) -> str:
    return f"service: {escalate_breaches(now)} SLA breaches escalated"
