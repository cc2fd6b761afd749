"""How business analysis reacts to the other apps (core.events): replaced billing months reach the indicator
summary before the import that replaced them reports done (the billing import runs this reaction itself), and
queue the segments of the months that read them for the task worker."""

from datetime import date

from jiketong.core.models import Event

from .summary import refresh_replaced


def billing_period_replaced(event: Event) -> None:
    """Refresh the summary months that read the replaced periods, for the org units touched (null: all), and
    queue the segments of every segmented month whose 12 months hold a replaced one, and of the newest month."""
    from . import services
    from .indicators import latest_period
    from .models import RunKind, SegmentPeriod
    from .periods import add_months

    periods = [date.fromisoformat(period) for period in event.payload.get("periods") or []]
    units = event.payload.get("org_units")
    if not periods:
        return
    refresh_replaced(periods, None if units is None else [int(unit) for unit in units])
    reading = {add_months(p, k) for p in periods for k in range(12)}
    months = set(SegmentPeriod.objects.filter(period__in=reading).values_list("period", flat=True))
    newest = latest_period()
    if newest in reading:
        months.add(newest)
    for month in sorted(months):
        services.run_start(actor=None, kind=RunKind.SEGMENTS, period=month)
