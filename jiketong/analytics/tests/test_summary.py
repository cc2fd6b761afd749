"""The monthly summary gives subtree users exactly the figures the live query gives."""

import pytest

from jiketong.analytics import jobs
from jiketong.analytics.indicators import REGISTRY, Calculation
from jiketong.analytics.models import IndicatorSummary, SummaryPeriod

from .conftest import PREV, YEAR_AGO, P, month

pytestmark = pytest.mark.django_db
GROUPINGS = [{}, {"by": "org"}, {"by": "industry"}, {"by": "grade"}, {"by": "month", "start": PREV}]


def figures(user, **options) -> tuple[bool, dict]:
    calc = Calculation(user, period=P, product="MAS", **options)
    codes = [code for code, item in REGISTRY.items() if item.monthly or options.get("by") != "month"]
    return calc.summarised, {code: calc.value(code) for code in codes}


@pytest.mark.parametrize("options", GROUPINGS)
def test_summary_matches_the_live_figures(world, options):
    live = {staff: figures(getattr(world, staff).user, **options) for staff in ("erin", "carol", "dave")}
    assert not any(summarised for summarised, _ in live.values())
    jobs.daily(P)
    for staff, (_, expected) in live.items():
        summarised, values = figures(getattr(world, staff).user, **options)
        assert summarised, staff
        assert values == expected, staff


def test_the_daily_job_summarises_every_billed_month_and_refreshes_the_newest(world):
    # May 2025 to May 2026, billed or not: 13 months.
    assert jobs.daily(P).startswith("analytics: indicator summary refreshed for 13 months; segments of 2026-05")
    assert SummaryPeriod.objects.filter(period=YEAR_AGO.replace(month=7), rows=0).exists()
    month(world.bob_customer, YEAR_AGO.replace(month=7), 10)  # a late import of an old month
    SummaryPeriod.objects.filter(period=YEAR_AGO.replace(month=7)).delete()  # what a re-import hook would do
    assert jobs.daily(P).startswith("analytics: indicator summary refreshed for 4 months")
    assert SummaryPeriod.objects.get(period=YEAR_AGO.replace(month=7)).rows == 1
    may = IndicatorSummary.objects.filter(period=P)
    assert sum(row.churned for row in may) == 1 and sum(row.in_service for row in may) == 4


def test_managers_always_read_their_portfolio_live(world):
    jobs.daily(P)
    assert not Calculation(world.alice.user, period=P).summarised
