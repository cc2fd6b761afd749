"""Shared helpers for the work app's tests."""

from datetime import datetime

import pytest
from django.utils import timezone


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """A local (Asia/Shanghai) moment."""
    return timezone.make_aware(datetime(year, month, day, hour))


@pytest.fixture
def graded(cast):
    """Alice's customer as A1 (monthly visits), Bob's as B1 (quarterly)."""
    from jiketong.customers.models import Customer

    Customer.objects.filter(pk=cast.alice_customer.pk).update(grade="A1")
    Customer.objects.filter(pk=cast.bob_customer.pk).update(grade="B1")
    cast.alice_customer.refresh_from_db()
    cast.bob_customer.refresh_from_db()
    return cast
