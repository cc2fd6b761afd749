"""Scheduled work: send every due delivery (new ones the task missed, retries whose time has come), and
forget old successful deliveries once a day."""

from datetime import date, datetime, time

from django.utils import timezone

from . import services


def frequent(now: datetime) -> str:
    delivered, failed = services.send_due(now)
    return f"webhooks: {delivered} delivered, {failed} failed"


def daily(today: date) -> str:
    removed = services.prune(timezone.make_aware(datetime.combine(today, time.min)))
    return f"webhooks: {removed} old deliveries removed"
