"""Surveys and the importance × satisfaction quadrants."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from jiketong.service import queries, services
from jiketong.service.queries import ADJUST, ADVANTAGE, FIX_FIRST, KEEP, QuadrantPoint, classify

pytestmark = pytest.mark.django_db

ALL = {"network": (5, 4), "service": (4, 2), "price": (2, 2), "product": (2, 5), "manager": (4, 4)}


def test_classify_worked_example():
    # Means: importance (5+4+2+2+4)/5 = 3.4, satisfaction (4+2+2+5+4)/5 = 3.4.
    points = [QuadrantPoint(d, d, imp, sat, 1) for d, (imp, sat) in ALL.items()]
    assert classify(points) == (pytest.approx(3.4), pytest.approx(3.4))
    assert {p.dimension: p.quadrant for p in points} == {
        "network": ADVANTAGE,  # important and satisfied: guard it
        "manager": ADVANTAGE,
        "service": FIX_FIRST,  # important, not satisfied: churn driver
        "price": ADJUST,  # neither: potential churn area
        "product": KEEP,  # satisfied, less important
    }


def test_a_point_on_the_threshold_counts_as_high():
    points = [QuadrantPoint("a", "a", 3, 3, 1), QuadrantPoint("b", "b", 3, 3, 1)]
    classify(points)
    assert {p.quadrant for p in points} == {ADVANTAGE}


def test_quadrant_averages_surveys_in_scope_and_period(cast):
    services.survey_create(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        period="2026-Q4",
        surveyed_on=date(2026, 11, 2),
        answers=ALL,
    )
    services.survey_create(
        actor=cast.bob.user,
        customer=cast.bob_customer,
        period="2026-Q4",
        surveyed_on=date(2026, 11, 3),
        answers={"network": (3, 2)},
    )
    services.survey_create(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        period="2026-Q3",
        surveyed_on=date(2026, 8, 3),
        answers={"network": (1, 1)},
    )
    carol = queries.satisfaction_quadrant(cast.carol.user, periods=["2026-Q4"])
    network = next(p for p in carol.points if p.dimension == "network")
    assert (network.importance, network.satisfaction, network.answers) == (4.0, 3.0, 2)
    assert carol.surveys == 2
    alice = queries.satisfaction_quadrant(cast.alice.user, periods=["2026-Q4"])
    assert next(p for p in alice.points if p.dimension == "network").importance == 5.0
    assert queries.satisfaction_quadrant(cast.dave.user).points == []


def test_survey_rules(cast):
    kwargs = {"actor": cast.alice.user, "customer": cast.alice_customer, "surveyed_on": date(2026, 11, 2)}
    with pytest.raises(ValidationError) as exc:
        services.survey_create(period="2026-13", answers=ALL, **kwargs)
    assert "period" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.survey_create(period="2026-Q4", answers={"network": (6, 1)}, **kwargs)
    assert "network" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.survey_create(period="2026-Q4", answers={}, **kwargs)
    services.survey_create(period="2026-Q4", answers=ALL, **kwargs)
    with pytest.raises(ValidationError):  # one survey per customer and quarter
        services.survey_create(period="2026-Q4", answers=ALL, **kwargs)
