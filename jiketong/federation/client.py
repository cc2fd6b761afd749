"""Province side: send the outbox to HQ and read HQ's directives (decision 1101).

`send_due` posts the rows after the cursor in batches, in order; HQ's answer moves the cursor, so a province
that was down (or could not reach HQ) starts again from the first row HQ has not acknowledged. A failed POST
keeps the cursor where it was and waits before the next try: FEDERATION_RETRY_SECONDS, doubling with each
failure in a row, up to an hour. Replays are harmless: HQ's upserts are keyed and ignore older rows.
"""

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import instance
from .models import OutboxRow, SyncState

log = logging.getLogger(__name__)
MAX_PAUSE_SECONDS = 3600


class SyncError(Exception):
    """HQ could not be reached, or refused what it was sent."""


@dataclass
class SendResult:
    sent: int = 0
    batches: int = 0
    failed: bool = False
    skipped: bool = False
    error: str = ""


def _call(method: str, path: str, body: dict | None = None) -> dict:
    if not settings.FEDERATION_HQ_URL:
        raise SyncError("FEDERATION_HQ_URL is not set")
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(
        f"{settings.FEDERATION_HQ_URL}/api/v1/federation/{path}",
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {settings.FEDERATION_HQ_TOKEN}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.FEDERATION_TIMEOUT_SECONDS) as response:  # noqa: S310 - HQ's configured URL
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail", "")
        except (ValueError, AttributeError):
            detail = ""
        raise SyncError(f"HQ answered {exc.code}: {detail}"[:500]) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SyncError(f"HQ unreachable: {exc}"[:500]) from exc


def state() -> SyncState:
    return SyncState.objects.get_or_create(pk=1)[0]


def _row(row: OutboxRow) -> dict:
    return {
        "seq": row.pk,
        "province": instance.province_code(),
        "kind": row.kind,
        "key": row.key,
        "period": row.period,
        "payload": row.payload,
    }


def _failed(current: SyncState, error: str, now) -> None:
    current.failures += 1
    pause = min(MAX_PAUSE_SECONDS, settings.FEDERATION_RETRY_SECONDS * 2 ** (current.failures - 1))
    current.next_attempt_at = now + timedelta(seconds=pause)
    current.last_error = error[:500]
    current.last_attempt_at = now
    current.save()
    log.warning("federation sync failed (%s in a row, next try in %s s): %s", current.failures, pause, error)


def send_due(*, force: bool = False, max_batches: int | None = None, now=None) -> SendResult:
    """Send what is after the cursor, batch by batch, until nothing is left (or `max_batches`). Waits out the
    retry pause unless `force`. A heartbeat (an empty batch) tells HQ the province is alive when nothing is due."""
    result = SendResult()
    if not instance.is_province():
        result.skipped = True
        return result
    now = now or timezone.now()
    current = state()
    if not force and current.next_attempt_at and current.next_attempt_at > now:
        result.skipped = True
        return result
    size = settings.FEDERATION_BATCH_ROWS
    due = OutboxRow.objects.filter(pk__gt=current.sent_through).count()  # once: a catch-up does not count per batch
    while max_batches is None or result.batches < max_batches:
        rows = list(OutboxRow.objects.filter(pk__gt=current.sent_through).order_by("pk")[:size])
        pending = max(due - result.sent - len(rows), 0)
        body = {
            "province": instance.province_code(),
            "rows": [_row(row) for row in rows],
            "status": {"pending": pending, "failures": current.failures, "last_error": current.last_error},
        }
        try:
            _call("POST", "batches", body)
        except SyncError as exc:
            _failed(current, str(exc), timezone.now())
            result.failed, result.error = True, str(exc)
            return result
        with transaction.atomic():
            current = SyncState.objects.select_for_update().get(pk=1)
            if rows:
                current.sent_through = max(current.sent_through, rows[-1].pk)
            current.failures, current.last_error, current.next_attempt_at = 0, "", None
            current.last_attempt_at = current.last_success_at = timezone.now()
            current.save()
        result.sent += len(rows)
        result.batches += 1
        if len(rows) < size:
            break
    return result


def pull_directives(*, limit: int = 200) -> int:
    """Read HQ's directives after the cursor and apply each through this province's services."""
    from .services import directive_apply

    if not instance.is_province():
        return 0
    applied = 0
    while True:
        current = state()
        answer = _call("GET", f"directives?after={current.directives_through}&limit={limit}")
        items = answer.get("items", [])
        for item in items:
            try:
                directive_apply(seq=item["seq"], kind=item["kind"], payload=item["payload"])
                applied += 1
            except Exception:  # noqa: BLE001 - one bad directive must not stop the others; it is logged
                log.exception("HQ directive %s could not be applied", item.get("seq"))
            SyncState.objects.filter(pk=1).update(directives_through=item["seq"])
        if len(items) < limit:
            return applied


def sync(*, force: bool = False) -> tuple[SendResult, int]:
    """One round: send the outbox, then read the directives (what the frequent job and `federation sync` do)."""
    result = send_due(force=force)
    applied = 0
    if not result.failed and not result.skipped:
        try:
            applied = pull_directives()
        except SyncError as exc:
            log.warning("federation directives not read: %s", exc)
    return result, applied
