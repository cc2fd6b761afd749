"""How business analysis reacts to the other apps (core.events): replaced billing months reach the indicator
summary before the import that replaced them reports done (the billing import runs this reaction itself)."""

from datetime import date

from jiketong.core.models import Event

from .summary import refresh_replaced


def billing_period_replaced(event: Event) -> None:
    """Refresh the summary months that read the replaced periods, for the org units touched (null: all)."""
    periods = [date.fromisoformat(period) for period in event.payload.get("periods") or []]
    units = event.payload.get("org_units")
    if periods:
        refresh_replaced(periods, None if units is None else [int(unit) for unit in units])
