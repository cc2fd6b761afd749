"""Hooks for the scope matrix (jiketong/tests_scope): one activity, task and notification per customer."""

from datetime import date

from django.utils import timezone

from jiketong.core.models import Notification
from jiketong.work.models import Activity, Task


def populate(world, customers) -> None:
    for customer in customers.values():
        owner = customer.owner or world.dave
        Activity.objects.create(
            customer=customer, owner=owner, subject=f"拜访{customer.name}", happened_at=timezone.now()
        )
        Task.objects.create(customer=customer, owner=owner, title=f"回访{customer.name}", due_on=date(2026, 1, 1))
        Notification.objects.create(
            recipient=owner.user, kind="digest", title=f"提醒{customer.name}", customer_id=customer.pk
        )


NOT_LISTS = {"work/notifications/read-all/"}
