"""Background work of sales (django-tasks): a large lead file is imported by the task worker, not the request."""

from django.utils import translation
from django_tasks import task


@task()
def run_lead_import(run_id: int, language: str | None = None) -> str:
    """The uploader's language writes the run's messages and the error report."""
    from .services import run_lead_import as run

    with translation.override(language):
        return run(run_id).status
