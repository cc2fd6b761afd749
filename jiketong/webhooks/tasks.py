"""Background work (django-tasks): the POSTs, off the request that caused the event."""

from django_tasks import task


@task()
def send_event(event_id: int) -> int:
    """Send an event's new deliveries right after the fan-out commits."""
    from .services import send_event as send

    return send(event_id)


@task()
def send_endpoint(endpoint_id: int) -> int:
    """Send what is due for one endpoint (after an admin put its given-up deliveries back in the queue)."""
    from .services import send_due

    return send_due(endpoint_id=endpoint_id)[0]
