"""The win-back list: a customer that churns (离网) joins it with its last products and competitor; one that an
order puts back in service is counted won back."""

from datetime import date
from decimal import Decimal

from django.utils import timezone

from jiketong.billing.models import BillingFact
from jiketong.customers.models import CompetitorPresence, LifecycleStatus
from jiketong.customers.services import customer_set_status
from jiketong.defence import queries, services
from jiketong.defence.models import WinBack

from .conftest import PERIOD, bill


def churn(cast, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_set_status(actor=None, customer=customer, status=LifecycleStatus.CHURNED, reason="离网")


def test_a_churned_customer_joins_the_win_back_list_with_its_last_products_and_rival(
    cast, products, django_capture_on_commit_callbacks
):
    customer = cast.alice_customer
    bill(customer, "3500")
    BillingFact.objects.create(period=PERIOD, customer=customer, product=products["DIA"], revenue=Decimal("3000"))
    BillingFact.objects.create(period=PERIOD, customer=customer, product=products["VNET"], revenue=Decimal("500"))
    CompetitorPresence.objects.create(customer=customer, competitor="china_unicom", products="专线", threat="high")
    churn(cast, customer, django_capture_on_commit_callbacks)
    row = WinBack.objects.get()
    assert (row.last_products, row.last_revenue, row.competitor) == (
        "互联网专线、集团V网",
        Decimal("3500.00"),
        "china_unicom",
    )
    assert row.churned_on == timezone.localdate() and row.won_back_on is None


def test_an_order_completed_on_a_churned_customer_counts_it_won_back(cast, django_capture_on_commit_callbacks):
    from jiketong.core.events import emit

    churn(cast, cast.alice_customer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        emit("order.completed", customer_id=cast.alice_customer.pk, actor=None, order=1, number="DD-1",
             subscriptions=[9])  # fmt: skip
    row = WinBack.objects.get()
    assert row.won_back_on == timezone.localdate()
    _filter, still = queries.winbacks(cast.alice.user, {})
    _filter, won = queries.winbacks(cast.alice.user, {"won": "yes"})
    assert list(still) == [] and list(won) == [row]


def test_the_nightly_sync_lists_customers_churned_before(cast):
    type(cast.alice_customer).objects.filter(pk=cast.alice_customer.pk).update(status=LifecycleStatus.CHURNED)
    assert services.winbacks_sync(date.today()) == 1
    assert services.winbacks_sync(date.today()) == 0


def test_the_win_back_list_is_scoped(cast):
    for customer in (cast.alice_customer, cast.bob_customer):
        WinBack.objects.create(customer=customer, churned_on=date(2026, 9, 1))
    _filter, rows = queries.winbacks(cast.alice.user, {})
    assert [row.customer_id for row in rows] == [cast.alice_customer.pk]
