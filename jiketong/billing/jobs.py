"""Scheduled work (`python -m jiketong jobs frequent`): close import runs whose worker died.

A worker killed mid-import leaves its run "running" forever. Killed before the load committed, its data is
untouched (the load is one transaction): after STALE_AFTER the run is marked failed, so its page stops
polling and the analyst knows to upload again. Killed after the load committed but before the run was
closed (while the indicators were being refreshed), the months are in: the run is closed as loaded, and
the pending refresh is picked up by the kernel's frequent job (core.jobs) like any unhandled event.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from .models import ImportRun, ImportStatus
from .services import _audit

STALE_AFTER = timedelta(hours=3)


def frequent(now: datetime) -> str:
    stale = ImportRun.objects.filter(status=ImportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
    landed = [run for run in stale.only("pk", "periods", "rows_bad") if run.periods]
    for run in landed:
        with transaction.atomic():
            ImportRun.objects.filter(pk=run.pk, status=ImportStatus.RUNNING).update(
                status=ImportStatus.PARTIALLY if run.rows_bad else ImportStatus.SUCCEEDED,
                finished_at=now,
                progress=100,
                message=_("Loaded %(periods)s; the run was closed after its worker ended.")
                % {"periods": "、".join(run.periods)},
            )
            _audit(ImportRun.objects.get(pk=run.pk))
    count = stale.exclude(pk__in=[run.pk for run in landed]).update(
        status=ImportStatus.FAILED,
        finished_at=now,
        progress=100,
        message=_("The import stopped without finishing (its worker ended); nothing was loaded. Upload it again."),
    )
    return f"billing: {count} stalled imports closed" + (f", {len(landed)} loaded ones closed" if landed else "")
