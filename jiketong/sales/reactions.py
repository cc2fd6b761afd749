"""How the sales app reacts to what happens in the other apps (core.events): an opportunity is won when the
order it led to is completed, so it leaves the forecast without anyone remembering to move it."""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_noop

from jiketong.core.models import Event
from jiketong.core.notes import stored

from . import pipeline
from .models import Opportunity
from .services import opportunity_win_by_order


def order_completed(event: Event) -> None:
    """The opportunity the order came from (through its quote or contract) is won with the completion date as
    its closing date, by the person who completed the order (none for BOSS or a job). Idempotent: once won,
    the opportunity is closed and a second handling finds nothing to do; an opportunity a person already won
    or lost is left alone."""
    opportunity_id = event.payload.get("opportunity")
    if not opportunity_id:
        return
    completed_on = event.payload.get("completed_on")
    closed_on = date.fromisoformat(completed_on) if completed_on else timezone.localdate(event.occurred_at)
    number = event.payload.get("number") or event.payload.get("order")
    opportunity_win_by_order(
        actor=event.actor,
        opportunity_id=opportunity_id,
        closed_on=closed_on,
        note=stored(gettext_noop("Won: order %(number)s completed"), number=number),
    )


def customer_moved(event: Event) -> None:
    """The kept pipeline figures are per customer's unit: recount those of the owners of its open opportunities
    (decision 0606). Idempotent: a recount is a recount."""
    owners = Opportunity.objects.open().filter(customer_id=event.customer_id).values_list("owner_id", flat=True)
    pipeline.refresh_later(list(owners))
