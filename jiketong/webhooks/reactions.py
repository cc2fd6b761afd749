"""The webhooks app's one subscription: every event (`"*"`), fanned out to the endpoints that want it.

The reaction only queues deliveries (in the transaction that marks the event handled, so a second run adds
nothing); the POSTs happen after commit, in a task, and in the frequent job for whatever the task missed.
"""

from django.db import transaction

from jiketong.core.models import Event

from . import services


def fan_out(event: Event) -> None:
    if services.fan_out(event):
        event_id = event.pk
        transaction.on_commit(lambda: services._enqueue(services.send_event_task, event_id), robust=True)
