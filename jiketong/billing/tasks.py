"""Background work (django-tasks): an uploaded file is imported by the task worker, not the web request.

The task is declared next to the work it runs (billing.services.run_import_task), so the services queue it without
a circle of imports; this name stays for the runs queued under it."""

from .services import run_import_task as run_import

__all__ = ["run_import"]
