"""Scheduled work (`python -m jiketong jobs daily`): keep the monthly indicator summary in step with what changed,
compute the newest month's segments when something they read changed (or they were never computed), and run
what the task worker left queued."""

from datetime import date

from .models import AnalyticsRun, RunStatus
from .summary import refresh_due


def daily(today: date) -> str:
    from . import segments, services
    from .indicators import latest_period

    months = refresh_due()
    report = f"analytics: indicator summary refreshed for {len(months)} months"
    newest = latest_period()
    if segments.due(newest):
        run = services.segments_refresh(newest)
        report += f"; segments of {run.period:%Y-%m}: {run.get_status_display()}"
    left = list(AnalyticsRun.objects.filter(status=RunStatus.QUEUED).values_list("pk", flat=True))
    for pk in left:
        services.run_execute(pk)
    if left:
        report += f"; {len(left)} queued runs done"
    return report
