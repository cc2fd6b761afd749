"""The churn features' group context (issue 13 item 2, decision 0802) on a worked example: the other units of a
group whose revenue falls, and the other companies of an affiliated set in arrears."""

from datetime import date, datetime

import numpy as np
from django.utils import timezone

from jiketong import testing
from jiketong.churn import features
from jiketong.customers.models import Affiliation

from .helpers import bill

MAY = date(2026, 5, 1)
TODAY = date(2026, 6, 10)


def feature(table, customer, name):
    return table.numeric[name][int((table.ids == customer.pk).nonzero()[0][0])]


def test_units_of_the_same_group_declining(cast):
    """广州地铁's head keeps its revenue; of its three units, the Guangzhou one falls 30%, the Hangzhou one (浙江)
    stops billing in May (−100%) and the last falls 5% (under the 10% line). Each customer counts the others."""
    head = cast.alice_customer
    falling = testing.make_customer(org_unit=cast.org["440106"], parent=head)
    stopped = testing.make_customer(org_unit=cast.org["330106"], parent=head)
    slight = testing.make_customer(org_unit=cast.org["440106"], parent=head)
    bill(head, date(2026, 2, 1), [100, 100, 100, 100])
    bill(falling, date(2026, 2, 1), [100, 90, 80, 70])
    bill(stopped, date(2026, 2, 1), [100, 100, 100])  # Feb..Apr, nothing in May
    bill(slight, date(2026, 2, 1), [100, 100, 100, 95])
    bill(cast.bob_customer, date(2026, 2, 1), [100, 50, 40, 10])  # not in the group
    table = features.build(MAY, on_date=TODAY)
    assert "group" in table.sources
    assert feature(table, head, "group_units_declining") == 2
    assert feature(table, falling, "group_units_declining") == 1  # not itself: the stopped one
    assert feature(table, slight, "group_units_declining") == 2
    assert feature(table, cast.bob_customer, "group_units_declining") == 0


def test_affiliated_arrears_through_the_whole_set(cast):
    """Bob's customer controls the hospital, which controls the Shenzhen bank: one affiliated set. The bank was
    in arrears in March; the Zhejiang customer is affiliated with nobody."""
    for customer in (cast.bob_customer, cast.backed_up, cast.zhejiang_customer):
        bill(customer, date(2026, 2, 1), [100, 100, 100, 100])
    bill(cast.shenzhen_customer, date(2026, 2, 1), [100, 100, 100, 100], arrears=[False, True, False, False])
    Affiliation.objects.create(customer=cast.bob_customer, related=cast.backed_up, kind="equity", direction="controls")
    Affiliation.objects.create(
        customer=cast.shenzhen_customer, related=cast.backed_up, kind="decision", direction="controlled_by"
    )
    Affiliation.objects.update(created_at=timezone.make_aware(datetime(2026, 1, 5)))  # known before the snapshot
    table = features.build(MAY, on_date=TODAY)
    assert feature(table, cast.bob_customer, "affiliated_arrears") == 1
    assert feature(table, cast.backed_up, "affiliated_arrears") == 1
    assert feature(table, cast.shenzhen_customer, "affiliated_arrears") == 0  # its own arrears are its own feature
    assert feature(table, cast.zhejiang_customer, "affiliated_arrears") == 0


def test_an_affiliation_recorded_later_is_not_in_an_earlier_snapshot(cast):
    bill(cast.bob_customer, date(2026, 2, 1), [100, 100, 100, 100])
    bill(cast.backed_up, date(2026, 2, 1), [100, 100, 100, 100], arrears=[True, False, False, False])
    Affiliation.objects.create(customer=cast.bob_customer, related=cast.backed_up, kind="equity", direction="controls")
    earlier = features.build(MAY, on_date=date(2020, 1, 1))
    assert feature(earlier, cast.bob_customer, "affiliated_arrears") == 0
    assert not np.isnan(earlier.numeric["group_units_declining"]).any()
