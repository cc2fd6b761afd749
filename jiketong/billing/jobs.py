"""Scheduled work: every night (`jobs daily`) the credit grades; every few minutes (`jobs frequent`) close
import runs whose worker died.

A running import touches its `heartbeat_at` every batch of rows and between its stages (services._beat).
A worker killed mid-import stops doing so: once its heartbeat is older than
BILLING_IMPORT_HEARTBEAT_TIMEOUT_SECONDS (3 minutes by default), the run is closed here, so its page stops
polling and says the background task was interrupted. Killed before the load committed, its data is
untouched (the load is one transaction): the run is marked failed, and the analyst uploads again. Killed
after the load committed but before the run was closed (while the indicators were being refreshed), the
months are in: the run is closed as loaded, and the pending refresh is picked up by the kernel's frequent
job (core.jobs) like any unhandled event.

Each run is closed by one conditional UPDATE (still running, heartbeat still old). A worker inside its
replace transaction holds the run's row (and on SQLite the write lock) since the transaction began with a
heartbeat, so that UPDATE waits for the commit and then finds a fresh heartbeat: a long replace is never
taken for a dead worker. A worker that was only frozen finds its run closed at its next heartbeat and stops.
"""

import logging
import math
from datetime import date, datetime

from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .credit import refresh_credit_grades
from .models import ImportRun, ImportStatus, heartbeat_timeout
from .services import _audit

logger = logging.getLogger(__name__)


def _silent_since(cutoff: datetime) -> Q:
    # Runs started before the heartbeat existed have none: their start is their last sign of life.
    return Q(status=ImportStatus.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def interrupted_message() -> str:
    minutes = max(1, math.ceil(heartbeat_timeout().total_seconds() / 60))
    return ngettext(
        "The background task was interrupted: its worker gave no sign of life for %(minutes)s minute. "
        "Nothing was loaded; the data already there is unchanged. Upload the file again.",
        "The background task was interrupted: its worker gave no sign of life for %(minutes)s minutes. "
        "Nothing was loaded; the data already there is unchanged. Upload the file again.",
        minutes,
    ) % {"minutes": minutes}


def daily(today: date) -> str:
    """Every customer's credit grade from the billed months loaded so far (billing.credit)."""
    return f"billing: {refresh_credit_grades()} customers credit-graded"


def frequent(now: datetime) -> str:
    silent = _silent_since(now - heartbeat_timeout())
    failed = loaded = busy = 0
    for run in ImportRun.objects.filter(silent).only("pk", "periods", "rows_bad"):
        if run.periods:
            fields = {
                "status": ImportStatus.PARTIALLY if run.rows_bad else ImportStatus.SUCCEEDED,
                "message": _("Loaded %(periods)s; the run was closed after its worker ended.")
                % {"periods": "、".join(run.periods)},
            }
        else:
            fields = {"status": ImportStatus.FAILED, "message": interrupted_message()}
        try:
            with transaction.atomic():
                if not ImportRun.objects.filter(silent, pk=run.pk).update(finished_at=now, progress=100, **fields):
                    continue  # it beat (or finished) meanwhile: alive after all
                _audit(ImportRun.objects.get(pk=run.pk))
        except OperationalError:  # SQLite: a live import's replace held the write lock past the busy timeout
            logger.warning("billing import %s: database busy, checked again at the next run", run.pk)
            busy += 1
            continue
        if fields["status"] == ImportStatus.FAILED:
            failed += 1
        else:
            loaded += 1
    summary = f"billing: {failed} stalled imports closed"
    if loaded:
        summary += f", {loaded} loaded ones closed"
    if busy:
        summary += f", {busy} left for the next run (database busy)"
    return summary
