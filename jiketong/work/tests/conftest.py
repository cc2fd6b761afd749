"""Shared helpers for the work app's tests."""

from datetime import date, datetime

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


@pytest.fixture(autouse=True)
def tasks_given_in_2026(monkeypatch):
    """These tests give tasks for fixed days of 2026, overdue ones included: the rule that a task is not given
    for a day already past (core.validators.plan_date_errors) counts from 2026-01-01 here."""
    monkeypatch.setattr("jiketong.core.validators._today", lambda: date(2026, 1, 1))
