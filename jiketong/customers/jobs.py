"""Scheduled work of the archive (`python -m jiketong jobs daily`): competitors' contracts ending soon.

The archive owns competitor presence (保网), so it says when a rival's contract end comes near; the work app
reacts (reminders, the agenda). A rival's contract end is a window: theirs to attack, ours to win back.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from jiketong.core.events import emit_many
from jiketong.core.models import Event

from .models import CompetitorPresence

EVENT = "competitor.contract_ending"


def reminder_days() -> list[int]:
    """Days before a competitor's contract end at which its customer's manager is reminded, widest first
    (setting `COMPETITOR_REMINDER_DAYS`, default the contracts' own `CONTRACT_REMINDER_DAYS`, 90/60/30)."""
    default = getattr(settings, "CONTRACT_REMINDER_DAYS", (90, 60, 30))
    return sorted(getattr(settings, "COMPETITOR_REMINDER_DAYS", default), reverse=True)


def window_of(days_left: int, windows: list[int]) -> int | None:
    """The tightest reminder window a contract end `days_left` away is in (None: not yet in any)."""
    return min((days for days in windows if days_left <= days), default=None)


def competitor_contracts_daily(today: date) -> int:
    """One `competitor.contract_ending` per presence and window: the tightest window its contract end is in
    today, so a missed day is caught up and nothing repeats. A window already told for the same end date
    is found among the events of the widest window's span (every earlier one for that date lies in it);
    a contract end moved by a correction is a new date, told afresh. Returns the events emitted."""
    windows = reminder_days()
    horizon = today + timedelta(days=windows[0])
    told = {
        (payload.get("presence"), payload.get("ends_on"), window_of(payload.get("days_left", 0), windows))
        for payload in Event.objects.filter(
            name=EVENT, occurred_at__date__gte=today - timedelta(days=windows[0] + 1)
        ).values_list("payload", flat=True)
    }
    items = []
    due = CompetitorPresence.objects.filter(contract_end__gte=today, contract_end__lte=horizon).order_by("pk")
    for pk, customer_id, competitor, ends_on in due.values_list("pk", "customer_id", "competitor", "contract_end"):
        days_left = (ends_on - today).days
        if (pk, ends_on.isoformat(), window_of(days_left, windows)) in told:
            continue
        items.append(
            (
                customer_id,
                {"presence": pk, "competitor": competitor, "ends_on": ends_on.isoformat(), "days_left": days_left},
            )  # fmt: skip
        )
    with transaction.atomic():
        emit_many(EVENT, items)
    return len(items)


def daily(today: date) -> str:
    from .keypersons import refresh

    told = competitor_contracts_daily(today)
    return f"customers: {told} competitor contract endings told, {refresh(today)} key-person gaps kept"


def frequent(now) -> str:
    """Archive imports whose worker died (no heartbeat within IMPORT_HEARTBEAT_TIMEOUT_SECONDS) are failed: their
    rows and their outcome commit together, so nothing of theirs landed (core.imports.close_stalled)."""
    from jiketong.core.imports import close_stalled

    from .models import CustomerImportRun

    return f"customers: {close_stalled(CustomerImportRun, now)} stalled archive imports closed"
