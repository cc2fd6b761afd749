"""Background work (django-tasks): the POSTs to HQ, off the transaction that filled the outbox."""

from django_tasks import task


@task()
def send() -> int:
    from .client import send_due

    return send_due().sent
