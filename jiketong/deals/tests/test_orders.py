"""Orders: creation from quotes and contracts, state transitions, completion into subscriptions."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from jiketong.catalog.models import Subscription
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.deals import services
from jiketong.deals.models import LineAction, OrderStatus
from jiketong.deals.tests.conftest import make_quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(deals):
    quote = make_quote(deals.carol, deals.alice_customer, (deals.vnet, 20, "5"), (deals.line, 1, "10"))
    quote = services.quote_submit(actor=deals.carol.user, quote=quote)  # within Carol's own authority
    order = services.order_create_from_quote(actor=deals.alice.user, quote=quote)
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.SUBMITTED)
    return order


def test_order_from_a_quote_copies_its_lines(deals, order):
    lines = list(
        order.lines.order_by("id").values_list(
            "product__code", "quantity", "contracted_price", "discount_pct", "action"
        )
    )
    assert lines == [
        ("VNET", 20, Decimal("95.00"), Decimal("5.00"), LineAction.NEW),
        ("DIA100M", 1, Decimal("1800.00"), Decimal("10.00"), LineAction.NEW),
    ]
    assert order.number.startswith("DD")


def test_only_approved_quotes_become_orders(deals):
    quote = make_quote(deals.alice, deals.alice_customer, (deals.vnet, 1, "5"))
    with pytest.raises(ValidationError):
        services.order_create_from_quote(actor=deals.alice.user, quote=quote)


def test_order_from_a_contract_uses_its_quote(deals, quote_at):
    quote = quote_at("0")
    contract = services.contract_create(
        actor=deals.alice.user,
        customer=deals.alice_customer,
        quote=quote,
        start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31),
    )
    with pytest.raises(ValidationError):
        services.order_create_from_contract(actor=deals.alice.user, contract=contract)  # still a draft
    services.contract_activate(actor=deals.alice.user, contract=contract)
    order = services.order_create_from_contract(actor=deals.alice.user, contract=contract)
    assert order.contract == contract and order.quote == quote and order.lines.count() == 1


def test_completion_creates_the_subscriptions_with_contracted_prices(deals, order):
    order, changed = services.order_set_state(
        actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED, external_ref="BOSS-1"
    )
    assert changed and order.status == OrderStatus.COMPLETED and order.external_ref == "BOSS-1"
    subs = list(
        Subscription.objects.filter(customer=deals.alice_customer)
        .order_by("product__code")
        .values_list("product__code", "contracted_price", "discount_pct", "quantity")
    )
    assert subs == [
        ("DIA100M", Decimal("1800.00"), Decimal("10.00"), 1),
        ("VNET", Decimal("95.00"), Decimal("5.00"), 20),
    ]
    assert all(line.subscription_id for line in order.lines.all())
    assert AuditEvent.objects.filter(target_type="catalog.subscription", action=AuditAction.CREATE).count() == 2


def test_a_failure_on_the_second_line_leaves_no_subscription(deals, order):
    deals.line.is_active = False  # the catalog refuses new subscriptions to a product off sale
    deals.line.save()
    with pytest.raises(ValidationError):
        services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED)
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    assert not Subscription.objects.filter(customer=deals.alice_customer).exists()
    assert order.history.count() == 2
    assert not order.lines.filter(subscription__isnull=False).exists()


def test_a_product_already_subscribed_is_a_change(deals, order):
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED)
    quote = make_quote(deals.carol, deals.alice_customer, (deals.vnet, 30, "8"))
    quote = services.quote_submit(actor=deals.carol.user, quote=quote)
    second = services.order_create_from_quote(actor=deals.alice.user, quote=quote)
    line = second.lines.get()
    assert line.action == LineAction.CHANGE
    services.order_set_state(actor=deals.alice.user, order=second, state=OrderStatus.SUBMITTED)
    services.order_set_state(actor=deals.alice.user, order=second, state=OrderStatus.COMPLETED)
    vnet = Subscription.objects.get(customer=deals.alice_customer, product=deals.vnet)
    assert (vnet.quantity, vnet.discount_pct) == (30, Decimal("8.00"))


def test_the_same_state_update_twice_changes_nothing_the_second_time(deals, order):
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED, external_ref="B-9")
    events, history = AuditEvent.objects.count(), order.history.count()
    order, changed = services.order_set_state(
        actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED, external_ref="B-9"
    )
    assert not changed
    assert AuditEvent.objects.count() == events and order.history.count() == history
    assert Subscription.objects.filter(customer=deals.alice_customer).count() == 2


def test_an_impossible_transition_is_refused(deals, order):
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED)
    with pytest.raises(services.InvalidTransition) as exc:
        services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.PROVISIONING)
    assert "state" in exc.value.message_dict


def test_failing_needs_a_reason_and_a_failed_order_may_be_resubmitted(deals, order):
    with pytest.raises(ValidationError) as exc:
        services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.FAILED)
    assert "reason" in exc.value.message_dict
    order, _ = services.order_set_state(
        actor=deals.alice.user, order=order, state=OrderStatus.FAILED, reason="资源不足"
    )
    assert order.failure_reason == "资源不足"
    order, _ = services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.SUBMITTED)
    assert order.failure_reason == ""
    assert list(order.history.values_list("to_status", flat=True)) == ["draft", "submitted", "failed", "submitted"]
