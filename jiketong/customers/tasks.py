"""Background work of the archive (django-tasks): a large archive import runs in the task worker, not the request."""

from django.utils import translation
from django_tasks import task


@task()
def run_archive_import(run_id: int, language: str | None = None) -> str:
    """The uploader's language writes the run's messages and the error report."""
    from .imports import run_archive_import as run

    with translation.override(language):
        return run(run_id).status
