"""Background work of the kernel (django-tasks): reactions declared `background` run here."""

from django_tasks import task


@task()
def handle_event(handling_id: int) -> bool:
    from . import events

    return events.handle(handling_id)
