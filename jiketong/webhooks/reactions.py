"""The webhooks app's one subscription: every event (`"*"`), fanned out to the endpoints that want it.

The reaction only queues deliveries (in the transaction that marks the event handled, so a second run adds
nothing); the POSTs happen after commit, in a task, and in the frequent job for whatever the task missed.
"""

from django.db import transaction

from jiketong.core.events import bulk_form
from jiketong.core.models import Event

from . import services
from .models import Endpoint


def fan_out_many(events: list[Event]) -> None:
    """`fan_out` for many events at once: one look at the endpoints, and nothing more when none is active."""
    if Endpoint.objects.filter(active=True).exists():
        for event in events:
            fan_out(event)


@bulk_form(fan_out_many)
def fan_out(event: Event) -> None:
    if services.fan_out(event):
        event_id = event.pk
        transaction.on_commit(lambda: services._enqueue(services.send_event_task, event_id), robust=True)
