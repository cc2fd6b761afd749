"""Scheduled work (`python -m jiketong jobs daily`): keep the monthly indicator summary current, compute the
newest month's segments (re-grades, moves and status changes of the day reach them), and run what the task
worker left queued."""

from datetime import date

from .models import AnalyticsRun, RunStatus
from .summary import refresh_due


def daily(today: date) -> str:
    from . import services
    from .indicators import latest_period

    months = refresh_due()
    report = f"analytics: indicator summary refreshed for {len(months)} months"
    if months:
        run = services.segments_refresh(latest_period())
        report += f"; segments of {run.period:%Y-%m}: {run.get_status_display()}"
    left = list(AnalyticsRun.objects.filter(status=RunStatus.QUEUED).values_list("pk", flat=True))
    for pk in left:
        services.run_execute(pk)
    if left:
        report += f"; {len(left)} queued runs done"
    return report
