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


def _at(day: date, hour: int = 10):
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, hour))


def test_contract_expiring_within_60_days(customer):
    from jiketong.deals.models import Contract

    bill(customer, MAY, [100])
    Contract.objects.create(
        number="HT-1", customer=customer, value=1000, start_on=date(2025, 7, 25), end_on=TODAY + timedelta(days=45),
        signed_on=date(2025, 7, 20), status="active",
    )  # fmt: skip
    reason = reasons_of(customer)[Reason.CONTRACT_EXPIRING]
    assert reason["days"] == 45
    with translation.override("zh-hans"):
        assert rules.describe(reason) == "合同将于45天后到期"


def test_a_renewal_signed_in_advance_is_not_expiring(customer):
    from jiketong.deals.models import Contract

    bill(customer, MAY, [100])
    old = Contract.objects.create(
        number="HT-1", customer=customer, value=1000, start_on=date(2025, 7, 25), end_on=TODAY + timedelta(days=45),
        status="active",
    )  # fmt: skip
    Contract.objects.create(
        number="HT-2", customer=customer, value=1000, start_on=old.end_on, end_on=old.end_on + timedelta(days=365),
        signed_on=TODAY - timedelta(days=3), status="active", previous=old,
    )  # fmt: skip
    assert Reason.CONTRACT_EXPIRING not in reasons_of(customer)


def _ticket(customer, staff, opened: date, **fields):
    from jiketong.service.models import Ticket

    n = Ticket.objects.count() + 1
    return Ticket.objects.create(
        number=f"T{n}", type=fields.pop("type", "complaint"), customer=customer, title="信号差", owner=staff,
        received_by=staff, opened_at=_at(opened), response_due=_at(opened, 11), resolve_due=_at(opened, 15),
        **fields,
    )  # fmt: skip


def test_open_complaints_in_the_last_90_days(cast, customer):
    bill(customer, MAY, [100])
    _ticket(customer, cast.alice, TODAY - timedelta(days=10))
    _ticket(customer, cast.alice, TODAY - timedelta(days=30))
    _ticket(customer, cast.alice, TODAY - timedelta(days=20), resolved_at=_at(TODAY - timedelta(days=19)))
    _ticket(customer, cast.alice, TODAY - timedelta(days=120))  # too old
    _ticket(customer, cast.alice, TODAY - timedelta(days=5), type="inquiry")
    reason = reasons_of(customer)[Reason.COMPLAINTS]
    assert reason["count"] == 2
    with translation.override("zh-hans"):
        assert rules.describe(reason) == "近90天有2张未结投诉工单"


def test_a_complaint_resolved_later_was_open_in_a_history_snapshot(cast, customer):
    bill(customer, MAY, [100])
    _ticket(customer, cast.alice, date(2026, 5, 20), resolved_at=_at(date(2026, 6, 5)), status="resolved")
    assert reasons_of(customer, on_date=date(2026, 6, 1))[Reason.COMPLAINTS]["count"] == 1
    assert Reason.COMPLAINTS not in reasons_of(customer)


def _survey(customer, staff, day: date, period: str, scores: list[int]):
    from jiketong.service.models import Survey, SurveyAnswer

    survey = Survey.objects.create(customer=customer, period=period, surveyed_by=staff, surveyed_on=day)
    dimensions = ["network", "service", "price", "product", "manager"]
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(survey=survey, dimension=d, importance=3, satisfaction=s)
        for d, s in zip(dimensions, scores, strict=False)
    )


def test_low_satisfaction_reads_the_latest_survey(cast, customer):
    bill(customer, MAY, [100])
    _survey(customer, cast.alice, date(2025, 12, 1), "2025-Q4", [5, 5, 5])
    _survey(customer, cast.alice, date(2026, 3, 1), "2026-Q1", [2, 3, 3])
    reason = reasons_of(customer)[Reason.LOW_SATISFACTION]
    assert reason["score"] == pytest.approx(2.7)
    assert rules.describe(reason) == "Low satisfaction (latest survey 2.7 of 5)"


def test_a_good_latest_survey_is_no_reason(cast, customer):
    bill(customer, MAY, [100])
    _survey(customer, cast.alice, date(2025, 12, 1), "2025-Q4", [1, 2, 2])
    _survey(customer, cast.alice, date(2026, 3, 1), "2026-Q1", [4, 4, 5])
    assert Reason.LOW_SATISFACTION not in reasons_of(customer)
