"""Scheduled work of a province instance: send the outbox and read HQ's directives every few minutes (the
retry pause permitting), and collect everything HQ should hold once a day."""

from datetime import date, datetime

from . import client, collect, instance


def frequent(now: datetime) -> str:
    if not instance.is_province():
        return "federation: not a province instance"
    result, applied = client.sync()
    if result.skipped:
        return "federation: waiting before the next try"
    if result.failed:
        return f"federation: sending failed ({result.error})"
    return f"federation: {result.sent} rows sent, {applied} directives applied"


def daily(today: date) -> str:
    if not instance.is_province():
        return "federation: not a province instance"
    return f"federation: {collect.collect()} rows collected"
