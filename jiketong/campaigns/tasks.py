"""Background work of campaigns (django-tasks): a big target list is built here, never in a request.

The task is declared next to the work it runs (campaigns.services.build_task), so targets_build queues it without a
circle of imports; this name stays for the builds queued under it."""

from .services import build_task as build

__all__ = ["build"]
