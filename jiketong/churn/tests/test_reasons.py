"""Each churn reason on a worked example: the feature, the rule, and the words."""

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from jiketong.churn import features, rules
from jiketong.churn.models import Reason
from jiketong.customers.models import CompetitorPresence
from jiketong.work.models import Activity

from .helpers import bill

MAY = date(2026, 5, 1)
TODAY = date(2026, 6, 10)


def reasons_of(customer, on_date=TODAY) -> dict[str, dict]:
    table = features.build(MAY, on_date=on_date)
    i = int((table.ids == customer.pk).nonzero()[0][0])
    found = rules.evaluate(table)
    return {r["code"]: r for r in _rest(table, found, i) + rules.reasons_at(table, found, i)}


def _rest(table, found, i):
    """All triggered reasons (reasons_at keeps the top three)."""
    return [{"code": reason.value} for reason, mask in found.triggered.items() if mask[i]]


@pytest.fixture
def customer(cast):
    return cast.alice_customer


def test_revenue_down_three_months_running(customer):
    bill(customer, date(2026, 2, 1), [100, 90, 80, 70])  # Feb..May
    reason = reasons_of(customer)[Reason.REVENUE_DOWN]
    assert reason == {"code": "revenue_down", "months": 3, "pct": -30}
    assert rules.describe(reason) == "Revenue down 3 months running (-30%)"
    with translation.override("zh-hans"):
        assert rules.describe(reason) == "收入连续3个月下降（-30%）"


def test_revenue_down_twice_then_up_is_no_reason(customer):
    bill(customer, date(2026, 2, 1), [100, 110, 80, 70])
    table = features.build(MAY, on_date=TODAY)
    assert table.numeric["revenue_down_months"][0] == 2
    assert Reason.REVENUE_DOWN not in reasons_of(customer)


def test_members_leaving(customer):
    bill(customer, date(2026, 2, 1), [100] * 4, members=[100, 95, 90, 85], left=[0, 5, 5, 5])
    reason = reasons_of(customer)[Reason.MEMBERS_LEAVING]
    assert (reason["left"], reason["pct"]) == (15, -15)
    assert rules.describe(reason) == "15 members left in 3 months (net -15%)"


def test_a_small_member_loss_is_no_reason(customer):
    bill(customer, date(2026, 2, 1), [100] * 4, members=[100, 99, 98, 95], left=[0, 1, 1, 3])
    assert Reason.MEMBERS_LEAVING not in reasons_of(customer)


def test_arrears_months_in_the_last_six(customer):
    bill(customer, date(2025, 12, 1), [100] * 6, arrears=[True, False, True, False, False, True])
    reason = reasons_of(customer)[Reason.ARREARS]
    assert reason["months"] == 3
    assert rules.describe(reason) == "In arrears 3 months of the last 6"


def test_no_visit_in_90_days(cast, customer):
    bill(customer, MAY, [100])
    Activity.objects.create(
        kind="visit", subject="拜访", customer=customer, owner=cast.alice,
        happened_at=timezone.make_aware(timezone.datetime(2026, 2, 1, 10, 0)),
    )  # fmt: skip
    reason = reasons_of(customer)[Reason.NO_VISIT]
    assert reason["days"] == (TODAY - date(2026, 2, 1)).days
    with translation.override("zh-hans"):
        assert "近90天无拜访" in rules.describe(reason)


def test_a_recent_visit_clears_no_visit(cast, customer):
    bill(customer, MAY, [100])
    Activity.objects.create(
        kind="visit", subject="拜访", customer=customer, owner=cast.alice,
        happened_at=timezone.make_aware(timezone.datetime(2026, 5, 20, 10, 0)),
    )  # fmt: skip
    assert Reason.NO_VISIT not in reasons_of(customer)


def test_never_visited_is_no_visit(customer):
    bill(customer, MAY, [100])
    reason = reasons_of(customer)[Reason.NO_VISIT]
    assert rules.describe(reason) == "Never visited"


def test_competitor_present(customer):
    bill(customer, MAY, [100])
    CompetitorPresence.objects.create(customer=customer, competitor="china_telecom", products="专线", threat="high")
    reason = reasons_of(customer, on_date=timezone.localdate() + timedelta(days=1))[Reason.COMPETITOR]
    assert reason["count"] == 1
    assert rules.describe(reason) == "A competitor is present"


def test_competitor_recorded_after_the_snapshot_does_not_count(customer):
    """History snapshots only see what was known then (no leakage from later records)."""
    bill(customer, MAY, [100])
    CompetitorPresence.objects.create(customer=customer, competitor="china_unicom", products="宽带")
    assert Reason.COMPETITOR not in reasons_of(customer, on_date=date(2026, 1, 1))


def test_score_sums_weights_and_caps_at_100(customer):
    bill(customer, date(2025, 12, 1), [100, 100, 100, 90, 80, 70], arrears=[False] * 5 + [True])
    table = features.build(MAY, on_date=TODAY)
    found = rules.evaluate(table)
    weights = rules.config()["weights"]
    expected = weights[Reason.REVENUE_DOWN] + weights[Reason.ARREARS] + weights[Reason.NO_VISIT]
    assert found.score[0] == expected
    assert found.flags[0] == Reason.REVENUE_DOWN.bit | Reason.ARREARS.bit | Reason.NO_VISIT.bit


def test_weights_are_configurable(settings, customer):
    settings.CHURN_RULES = {"weights": {"arrears": 90}}
    bill(customer, MAY, [100], arrears=[True])
    found = rules.evaluate(features.build(MAY, on_date=TODAY))
    assert found.score[0] == 100  # 90 + 10 for never visited, capped


def test_reasons_are_ordered_by_weight_and_capped(customer):
    bill(customer, date(2025, 12, 1), [100, 100, 100, 90, 80, 70], arrears=[True] * 6,
         members=[100, 100, 100, 90, 80, 70], left=[0, 0, 0, 10, 10, 10])  # fmt: skip
    table = features.build(MAY, on_date=TODAY)
    codes = [r["code"] for r in rules.reasons_at(table, rules.evaluate(table), 0)]
    assert codes == ["revenue_down", "arrears", "members_leaving"]


def test_a_reason_without_its_source_never_fires(customer):
    bill(customer, MAY, [100])
    table = features.build(MAY, on_date=TODAY)
    table.sources.discard("visits")
    assert Reason.NO_VISIT not in rules.evaluate(table).triggered
