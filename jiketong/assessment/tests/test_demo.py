"""The demo shows a real day of assessment: two months scored, the older one closed, the manager's own version."""

import pytest

from jiketong.assessment.models import AssessmentMonth, ManagerScore, ScoreSettings
from jiketong.demo.generator import generate


@pytest.mark.django_db
def test_the_demo_scores_two_months_and_closes_the_older(client):
    generate(groups=60, seed=7)
    months = list(AssessmentMonth.objects.order_by("period"))
    assert [m.status for m in months] == ["closed", "open"]
    manager = ManagerScore.objects.filter(staff__user__username="manager", period=months[1].period).get()
    assert manager.total is not None and manager.login_days > 0 and manager.customers > 0
    assert ScoreSettings.objects.filter(staff__user__username="manager").exists()
    assert ManagerScore.objects.filter(period=months[0].period, closed=True).count() == months[0].managers
