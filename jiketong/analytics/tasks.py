"""Background work (django-tasks): segments and re-grades run in the task worker, never in a request."""

from django.utils import translation
from django_tasks import task


@task()
def execute(run_id: int, language: str | None = None) -> str:
    """The starter's language writes the run's messages and the proposals' reasons."""
    from .services import run_execute

    with translation.override(language):
        run = run_execute(run_id)
    return run.status if run is not None else "missing"
