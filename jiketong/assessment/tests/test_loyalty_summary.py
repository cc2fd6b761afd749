"""Decision 1002: the loyalty and satisfaction indicators read the counts kept per org unit and month
(LoyaltySummary) for the subtree part of a scope, and give what counting the customers live gives — for every
persona and grouping, after a rebuild, a rating, a survey, a customer's move and a month's loyalty facts."""

from datetime import date
from decimal import Decimal

import pytest

from jiketong import testing
from jiketong.analytics.indicators import Calculation
from jiketong.assessment import loyalty, summary
from jiketong.assessment.models import LoyaltyDimension, LoyaltySummary
from jiketong.core.events import run_pending
from jiketong.customers.services import customer_update
from jiketong.org.models import Role
from jiketong.service import services as service_services
from jiketong.service.models import Ticket

from .conftest import MONTH, OCTOBER, bill, ticket

pytestmark = pytest.mark.django_db

CODES = ("satisfaction", "loyal_share", "loyal_revenue_share", "value_retention")
GROUPINGS = (
    {},
    {"by": "org"},
    {"by": "industry"},
    {"by": "grade"},
    {"by": "month", "start": OCTOBER},
)


def _figures(user, **kwargs) -> dict:
    calc = Calculation(user, period=MONTH, **kwargs)
    return {code: calc.value(code) for code in CODES}


def _live(user, **kwargs) -> dict:
    kept = list(LoyaltySummary.objects.all())
    LoyaltySummary.objects.all().delete()
    try:
        return _figures(user, **kwargs)
    finally:
        LoyaltySummary.objects.bulk_create(kept)


def _rows() -> set:
    fields = ("period", "org_unit_id", "dimension", "key", *summary.FIELDS)
    return {tuple(getattr(row, f) for f in fields) for row in LoyaltySummary.objects.all()}


def _rebuilt() -> set:
    kept = _rows()
    summary.refresh()
    rebuilt = _rows()
    assert kept == rebuilt
    return rebuilt


@pytest.fixture
def world(november):
    """The worked November (4 satisfied answers of 7 in 天河区), plus customers billed a year in 越秀区, 福田 and 杭州
    (different industries and grades), a rating in each, and Henry: 广州 supervisor who also backs up the 福田
    customer outside his subtree."""
    cast = november
    for customer, grade, industry, rating in (
        (cast.backed_up, "B1", "education", 5),
        (cast.shenzhen_customer, "A2", "it", 2),
        (cast.zhejiang_customer, "C", "education", 4),
    ):
        type(customer).objects.filter(pk=customer.pk).update(grade=grade, industry_id=industry)
        for back in range(13):
            from jiketong.analytics.periods import add_months

            bill(customer, add_months(MONTH, -back), "700")
        ticket(customer, cast.alice, rating, date(2026, 11, 20), 100 + customer.pk)
    henry = testing.make_staff("henry", cast.org["440100"], [Role.SUPERVISOR, Role.CUSTOMER_MANAGER], name="何亮")
    type(cast.shenzhen_customer).objects.filter(pk=cast.shenzhen_customer.pk).update(backup_owner=henry)
    cast.henry = henry
    loyalty.refresh(OCTOBER, summarise=False)
    loyalty.refresh(MONTH, summarise=False)
    return cast


def _people(cast) -> list:
    return [cast.alice, cast.bob, cast.ivan, cast.carol, cast.dave, cast.erin, cast.frank, cast.grace, cast.henry]


def test_after_a_rebuild_every_user_and_grouping_gives_the_live_figures(world):
    assert summary.refresh() > 0
    for person in _people(world):
        for kwargs in (*GROUPINGS, {"unit": world.org["440106"]}, {"unit": world.org["440100"], "by": "org"}):
            assert _figures(person.user, **kwargs) == _live(person.user, **kwargs), (person.user.username, kwargs)


def test_the_worked_example_reads_the_same_from_the_kept_rows(world):
    summary.refresh()
    carol = _figures(world.carol.user)
    # 天河区: 4 satisfied of 7; 越秀区: a 5 → 5 of 8 for 广州.
    assert carol["satisfaction"] == {"": Decimal("62.5")}
    # Alice: her four and the 越秀区 customer she backs up, counted live (a portfolio): 5 of 8 too.
    assert _figures(world.alice.user)["satisfaction"] == {"": Decimal("62.5")}
    # Henry: 广州's eight and the 福田 rating of 2 he backs up, counted live on top: 5 of 9.
    assert _figures(world.henry.user)["satisfaction"] == {"": Decimal("55.6")}


def test_the_indicators_read_the_kept_rows(world):
    summary.refresh()
    before = _figures(world.carol.user)["satisfaction"][""]
    LoyaltySummary.objects.filter(org_unit=world.org["440106"], period=MONTH, dimension=LoyaltyDimension.NONE).update(
        rated=12, satisfied=9
    )
    assert before == Decimal("62.5")
    assert _figures(world.carol.user)["satisfaction"] == {"": Decimal("76.9")}  # (9 + 1) of (12 + 1)


def test_a_province_reads_one_query_of_kept_rows_whatever_the_customers(world, django_assert_max_num_queries):
    summary.refresh()
    with django_assert_max_num_queries(6):  # staff, the kept check, the kept rows; none per customer
        calc = Calculation(world.frank.user, period=MONTH, by="org")
        for code in CODES:
            calc.value(code)


def test_a_rating_keeps_its_unit_and_month_equal_to_a_rebuild(world, django_capture_on_commit_callbacks):
    summary.refresh()
    closed = ticket(world.c3, world.alice, 5, date(2026, 11, 1), 900)
    Ticket.objects.filter(pk=closed.pk).update(rating=None, rated_at=None)
    closed.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        service_services.ticket_rate(actor=world.alice.user, ticket=closed, rating=4)
    run_pending()  # the task worker's part
    month = Ticket.objects.get(pk=closed.pk).rated_at
    assert month is not None
    rebuilt = _rebuilt()
    assert any(row[2] == "" and row[1] == world.org["440106"].pk and row[-2] >= 1 for row in rebuilt)


def test_a_survey_keeps_its_unit_and_month_equal_to_a_rebuild(world, django_capture_on_commit_callbacks):
    summary.refresh()
    before = _figures(world.carol.user)["satisfaction"][""]
    with django_capture_on_commit_callbacks(execute=True):
        service_services.survey_create(
            actor=world.alice.user,
            customer=world.c2,
            period="2026-Q4",
            surveyed_on=date(2026, 11, 25),
            answers={"network": (3, 5), "price": (3, 5)},
        )
    assert _figures(world.carol.user)["satisfaction"] == {"": Decimal("62.5")}  # not in the request
    run_pending()  # the task worker's part
    _rebuilt()
    assert before == Decimal("62.5")
    assert _figures(world.carol.user)["satisfaction"] == {"": Decimal("70.0")}  # 7 of 10
    assert _figures(world.carol.user) == _live(world.carol.user)


def test_a_move_recounts_both_units_every_month(world, django_capture_on_commit_callbacks):
    summary.refresh()
    customer = world.c1
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=world.frank.user, customer=customer, org_unit=world.org["440104"])
    run_pending()  # the task worker's part
    _rebuilt()
    for person in (world.carol, world.frank, world.henry):
        for kwargs in ({"by": "org", "unit": world.org["440100"]}, {"by": "month", "start": OCTOBER}):
            assert _figures(person.user, **kwargs) == _live(person.user, **kwargs)


def test_a_months_loyalty_facts_refresh_its_kept_rows(world):
    summary.refresh()
    bill(world.c3, MONTH, "100")  # c3 back in service in November
    loyalty.refresh(MONTH)
    _rebuilt()
    assert _figures(world.erin.user) == _live(world.erin.user)


def test_nothing_is_kept_before_the_first_build(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        service_services.survey_create(
            actor=world.alice.user,
            customer=world.c2,
            period="2026-Q4",
            surveyed_on=date(2026, 11, 25),
            answers={"network": (3, 5)},
        )
    run_pending()
    assert not LoyaltySummary.objects.exists()  # a partial table would be read as the whole
    assert _figures(world.carol.user)["satisfaction"] == {"": Decimal("66.7")}  # 6 of 9, live
