"""Background work of sales (django-tasks): a large lead file is imported by the task worker, not the request.

The task is declared next to the work it runs (sales.services.run_lead_import_task), so the upload queues it
without a circle of imports; this name stays for the runs queued under it."""

from .services import run_lead_import_task as run_lead_import

__all__ = ["run_lead_import"]
