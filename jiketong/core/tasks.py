"""Background work of the kernel (django-tasks): reactions declared `background` run here."""

from django_tasks import task


@task()
def handle_event(handling_id: int) -> bool:
    from . import events

    return events.handle(handling_id)


@task()
def handle_events(handling_ids: list[int]) -> int:
    """A batch of reactions left by a bulk emit (core.events.INLINE_LIMIT); background ones run here too."""
    from . import events

    return sum(1 for pk in handling_ids if events.handle(pk))


@task()
def run_export(builder: str, user_id: int, query: str, fmt: str, language: str | None = None) -> str:
    """An export past EXPORT_INLINE_MAX_ROWS (core.exports): written here, then the user is notified."""
    from django.utils import translation

    from . import exports

    with translation.override(language):
        return str(exports.run(builder, user_id, query, fmt))
