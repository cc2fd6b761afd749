"""Background work (django-tasks): an uploaded file is imported by the task worker, not the web request."""

from django.utils import translation
from django_tasks import task


@task()
def run_import(run_id: int, language: str | None = None) -> str:
    """The uploader's language writes the run's messages and error reasons."""
    from .services import run_import as run

    with translation.override(language):
        return run(run_id).status
