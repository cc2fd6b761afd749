"""The nightly scoring job."""

from datetime import date

from jiketong.churn import jobs, services
from jiketong.churn.models import ChurnModel, ChurnScore, RiskLevel

from .helpers import bill

TODAY = date(2026, 6, 10)


def test_scores_every_in_service_customer_once_and_is_idempotent(cast):
    bill(cast.alice_customer, date(2026, 2, 1), [100, 90, 80, 70], arrears=[False, False, False, True])
    bill(cast.bob_customer, date(2026, 2, 1), [100, 100, 100, 100])
    cast.zhejiang_customer.status = "churned"
    cast.zhejiang_customer.save(update_fields=["status"])
    assert jobs.daily(TODAY) == "4 customers scored; risk alerts raised: 1"  # arrears began in May
    first = {s.customer_id: (s.score, s.risk, s.reasons) for s in ChurnScore.objects.all()}
    assert jobs.daily(TODAY) == "4 customers scored; risk alerts raised: 0"
    again = {s.customer_id: (s.score, s.risk, s.reasons) for s in ChurnScore.objects.all()}
    assert first == again
    assert cast.zhejiang_customer.pk not in first
    score, risk, reasons = first[cast.alice_customer.pk]
    assert (score, risk) == (55, RiskLevel.MEDIUM)  # 25 revenue + 20 arrears + 10 never visited
    assert [r["code"] for r in reasons] == ["revenue_down", "arrears", "no_visit"]


def test_scoring_reads_the_last_billed_month_before_today(cast):
    bill(cast.alice_customer, date(2026, 3, 1), [100, 90, 80, 70])  # Mar..Jun: June is not closed yet
    assert services.scoring_month(TODAY) == date(2026, 5, 1)


def test_scores_use_the_kept_scorer_version(cast):
    bill(cast.alice_customer, date(2026, 5, 1), [100])
    ChurnModel.objects.create(version="20260601-000000", trained_at="2026-06-01T00:00Z", winner="rules")
    services.score_all(TODAY)
    assert ChurnScore.objects.get(customer=cast.alice_customer).model_version == "20260601-000000"
