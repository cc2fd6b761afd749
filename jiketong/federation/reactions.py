"""Province side: reactions that put changed shared groups in the federation outbox (nothing elsewhere)."""

from datetime import date

from jiketong.core.models import Event

from . import collect, instance


def group_changed(event: Event) -> None:
    if instance.is_province() and event.customer_id:
        collect.collect_groups([event.customer_id])


def months_replaced(event: Event) -> None:
    """New or corrected billing months: the shared groups' months and the indicator cells of those months
    (the cells as the summary holds them now; the nightly collection sends them again once it is refreshed)."""
    if not instance.is_province():
        return
    periods = [date.fromisoformat(text) for text in event.payload.get("periods", [])]
    if periods:
        collect.collect(min(periods))
