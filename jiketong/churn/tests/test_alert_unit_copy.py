"""Decision 0706: a risk alert carries a copy of its customer's org unit, so a subtree reader's inbox and its
capped count are a condition on the alert's own unit (its index) and never join every customer; the copy is
made with the alert and follows a customer that moves."""

import pytest

from jiketong.churn import services
from jiketong.churn.models import RiskAlert
from jiketong.customers.services import customer_update

from .test_alert_inbox import alert
from .test_alerts import SEP, TODAY, bill

pytestmark = pytest.mark.django_db


def test_a_subtree_readers_alerts_are_read_without_the_customers(cast):
    mine = alert(cast.alice_customer)
    alert(cast.zhejiang_customer)
    carol = RiskAlert.objects.visible_to(cast.carol.user)
    assert "customers_customer" not in str(carol.query)
    assert list(carol.values_list("pk", flat=True)) == [mine.pk]
    # A manager's portfolio is still read through the customer's owners.
    assert list(RiskAlert.objects.visible_to(cast.alice.user).values_list("pk", flat=True)) == [mine.pk]
    assert not RiskAlert.objects.visible_to(cast.bob.user).exists()


def test_the_detector_writes_the_customers_unit_on_each_alert(cast):
    bill(cast.alice_customer, SEP, [1000, 1000], members=[120, 78])
    assert services.alerts_raise(TODAY) == 1
    (raised,) = RiskAlert.objects.all()
    assert raised.org_unit_id == cast.alice_customer.org_unit_id


def test_a_customer_that_moves_takes_its_alerts_out_of_the_old_subtree(cast, django_capture_on_commit_callbacks):
    moved = alert(cast.alice_customer)
    assert RiskAlert.objects.visible_to(cast.carol.user).filter(pk=moved.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=cast.frank.user, customer=cast.alice_customer, org_unit=cast.org["330106"])
    moved.refresh_from_db()
    assert moved.org_unit_id == cast.org["330106"].pk
    assert not RiskAlert.objects.visible_to(cast.carol.user).filter(pk=moved.pk).exists()
    assert RiskAlert.objects.visible_to(cast.dave.user).filter(pk=moved.pk).exists()
