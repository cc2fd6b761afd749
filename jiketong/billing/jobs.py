"""Scheduled work (`python -m jiketong jobs frequent`): close import runs whose worker died.

A worker killed mid-import leaves its run "running" forever (its data is untouched: the load is one
transaction). After STALE_AFTER without finishing, the run is marked failed so its page stops polling
and the analyst knows to upload again.
"""

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from .models import ImportRun, ImportStatus

STALE_AFTER = timedelta(hours=3)


def frequent(now: datetime) -> str:
    count = ImportRun.objects.filter(status=ImportStatus.RUNNING, started_at__lt=now - STALE_AFTER).update(
        status=ImportStatus.FAILED,
        finished_at=now,
        progress=100,
        message=_("The import stopped without finishing (its worker ended); nothing was loaded. Upload it again."),
    )
    return f"billing: {count} stalled imports closed"
