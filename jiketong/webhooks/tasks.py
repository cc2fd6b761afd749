"""Background work (django-tasks): the POSTs, off the request that caused the event.

The tasks are declared next to the work they run (webhooks.services.send_event_task, send_endpoint_task), so the
services and the reaction queue them without a circle of imports; these names stay for the tasks queued under them."""

from .services import send_endpoint_task as send_endpoint
from .services import send_event_task as send_event

__all__ = ["send_endpoint", "send_event"]
