"""Decision 0606: the satisfaction quadrant reads the kept sums (SatisfactionFact) for the subtree part of a scope,
and they always give what averaging the answers live gives — after a rebuild, after a survey, after a customer
moves to another unit."""

from datetime import date

import pytest

from jiketong.customers.services import customer_update
from jiketong.org.models import Role
from jiketong.service import queries, satisfaction, services
from jiketong.service.models import SatisfactionFact
from jiketong.testing import make_staff

pytestmark = pytest.mark.django_db


def _quadrant(user, **kwargs) -> tuple:
    q = queries.satisfaction_quadrant(user, **kwargs)
    points = [(p.dimension, round(p.importance, 6), round(p.satisfaction, 6), p.answers, p.quadrant) for p in q.points]
    return points, q.surveys


def _live(user, **kwargs) -> tuple:
    kept = list(SatisfactionFact.objects.all())
    SatisfactionFact.objects.all().delete()
    try:
        return _quadrant(user, **kwargs)
    finally:
        SatisfactionFact.objects.bulk_create(kept)


@pytest.fixture
def surveyed(cast):
    """Surveys in 天河区 (two quarters), 越秀区, 福田 and 杭州; Henry (广州 supervisor and manager) backs up the 福田
    customer, outside his subtree."""
    answers = {"network": (5, 4), "service": (4, 2), "price": (2, 2)}
    for staff, customer, period, day, scores in (
        (cast.alice, cast.alice_customer, "2026-Q3", date(2026, 8, 1), answers),
        (cast.alice, cast.alice_customer, "2026-Q4", date(2026, 11, 2), {"network": (3, 5), "manager": (4, 4)}),
        (cast.bob, cast.bob_customer, "2026-Q4", date(2026, 11, 3), {"network": (3, 2)}),
        (cast.bob, cast.backed_up, "2026-Q4", date(2026, 11, 4), {"service": (5, 1), "price": (1, 3)}),
        (cast.ivan, cast.shenzhen_customer, "2026-Q4", date(2026, 11, 5), {"network": (2, 2), "price": (5, 5)}),
        (cast.dave, cast.zhejiang_customer, "2026-Q4", date(2026, 11, 6), {"network": (4, 1)}),
    ):
        services.survey_create(actor=staff.user, customer=customer, period=period, surveyed_on=day, answers=scores)
    henry = make_staff("henry", cast.org["440100"], [Role.SUPERVISOR, Role.CUSTOMER_MANAGER], name="何亮")
    cast.shenzhen_customer.backup_owner = henry
    cast.shenzhen_customer.save(update_fields=["backup_owner"])
    cast.henry = henry
    return cast


def _people(cast) -> list:
    return [cast.alice, cast.bob, cast.ivan, cast.carol, cast.dave, cast.erin, cast.frank, cast.grace, cast.henry]


def test_after_a_rebuild_every_user_sees_the_live_quadrant(surveyed):
    assert satisfaction.refresh() > 0
    for person in _people(surveyed):
        for kwargs in ({}, {"periods": ["2026-Q4"]}, {"org_unit": surveyed.org["440106"]}):
            assert _quadrant(person.user, **kwargs) == _live(person.user, **kwargs), (person.user.username, kwargs)
    # Henry: 广州's four surveys and the 福田 one he backs up, counted once.
    assert _quadrant(surveyed.henry.user)[1] == 5


def test_the_quadrant_reads_the_kept_sums(surveyed):
    satisfaction.refresh()
    before = dict((p[0], p[3]) for p in _quadrant(surveyed.carol.user)[0])
    SatisfactionFact.objects.filter(org_unit=surveyed.org["440106"], dimension="network", period="2026-Q4").update(
        answers=10, importance_sum=30, satisfaction_sum=30
    )
    after = dict((p[0], p[3]) for p in _quadrant(surveyed.carol.user)[0])
    assert after["network"] == before["network"] - 2 + 10


def test_a_survey_and_a_move_keep_the_sums_equal_to_a_rebuild(surveyed, django_capture_on_commit_callbacks):
    cast = surveyed
    satisfaction.refresh()

    def rows() -> set:
        return set(SatisfactionFact.objects.values_list("org_unit", "period", "dimension", "answers",
                                                        "importance_sum", "satisfaction_sum"))  # fmt: skip

    def check(step: str) -> None:
        incremental = rows()
        satisfaction.refresh()
        assert incremental == rows(), step
        for person in _people(cast):
            assert _quadrant(person.user) == _live(person.user), (step, person.user.username)

    with django_capture_on_commit_callbacks(execute=True):
        services.survey_create(actor=cast.bob.user, customer=cast.bob_customer, period="2026-Q3",
                               surveyed_on=date(2026, 9, 1), answers={"price": (3, 3)})  # fmt: skip
    check("survey")
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=cast.carol.user, customer=cast.backed_up, org_unit=cast.org["440106"])
    check("customer moved")


def test_the_quadrant_costs_the_same_queries_for_a_province(surveyed, client_as, django_assert_max_num_queries):
    satisfaction.refresh()
    client = client_as(surveyed.grace)
    with django_assert_max_num_queries(10):
        assert client.get("/service/satisfaction/quadrant/").status_code == 200
