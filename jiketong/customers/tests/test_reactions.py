"""The archive's reactions: the lifecycle follows orders and churn warnings, with history."""

import pytest

from jiketong.core import events
from jiketong.core.models import AuditEvent, Event
from jiketong.customers.models import LifecycleStatus


@pytest.fixture
def react(django_capture_on_commit_callbacks):
    def emit(name, customer, **payload):
        with django_capture_on_commit_callbacks(execute=True):
            return events.emit(name, customer_id=customer.pk, actor=None, **payload)

    return emit


def status_of(customer) -> str:
    customer.refresh_from_db()
    return customer.status


def test_a_completed_order_puts_a_prospect_in_service_with_the_reason(cast, react):
    customer = cast.alice_customer
    type(customer).objects.filter(pk=customer.pk).update(status=LifecycleStatus.PROSPECT)
    react("order.completed", customer, order=9, number="DD000009")
    assert status_of(customer) == LifecycleStatus.ACTIVE
    audit = AuditEvent.objects.filter(customer_id=customer.pk, action="status").get()
    assert audit.before == {"status": "prospect"} and audit.after == {"status": "active"}
    assert "DD000009" in audit.note
    changed = Event.objects.get(name="customer.lifecycle_changed", customer_id=customer.pk)
    assert (changed.payload["from_status"], changed.payload["to_status"]) == ("prospect", "active")


def test_a_completed_order_wins_back_a_churned_customer(cast, react):
    customer = cast.alice_customer
    type(customer).objects.filter(pk=customer.pk).update(status=LifecycleStatus.CHURNED)
    react("order.completed", customer, order=9, number="DD000009")
    assert status_of(customer) == LifecycleStatus.ACTIVE
    assert "Won back" in AuditEvent.objects.get(customer_id=customer.pk, action="status").note


def test_an_order_for_a_customer_in_service_changes_nothing(cast, react):
    react("order.completed", cast.alice_customer, order=9, number="DD000009")
    assert status_of(cast.alice_customer) == LifecycleStatus.ACTIVE
    assert not AuditEvent.objects.filter(action="status").exists()


def test_a_churn_warning_moves_to_at_risk_and_back_when_it_ends(cast, react):
    customer = cast.alice_customer
    react("churn.level_changed", customer, warned=True, from_level="low", to_level="high", reasons=["收入连续下降"])
    assert status_of(customer) == LifecycleStatus.AT_RISK
    assert "收入连续下降" in AuditEvent.objects.get(customer_id=customer.pk, action="status").note
    react("churn.level_changed", customer, warned=False, from_level="high", to_level="low", reasons=[])
    assert status_of(customer) == LifecycleStatus.ACTIVE
    assert AuditEvent.objects.filter(customer_id=customer.pk, action="status").count() == 2


def test_a_churn_warning_leaves_a_churned_customer_churned(cast, react):
    customer = cast.alice_customer
    type(customer).objects.filter(pk=customer.pk).update(status=LifecycleStatus.CHURNED)
    react("churn.level_changed", customer, warned=True, from_level="low", to_level="high", reasons=[])
    assert status_of(customer) == LifecycleStatus.CHURNED
