"""The monthly summary gives subtree users exactly the figures the live query gives."""

import pytest

from jiketong.analytics import jobs, summary
from jiketong.analytics.indicators import REGISTRY, Calculation, group_spread
from jiketong.analytics.models import GroupSpread, IndicatorSummary, SummaryPeriod
from jiketong.analytics.periods import add_months, month_range

from .conftest import PREV, YEAR_AGO, P, month
from .reference import ReferenceCalculation

pytestmark = pytest.mark.django_db
GROUPINGS = [{}, {"by": "org"}, {"by": "industry"}, {"by": "grade"}, {"by": "month", "start": PREV}]


def figures(user, period=P, **options) -> tuple[bool, dict]:
    calc = Calculation(user, period=period, product="MAS", **options)
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


def test_the_daily_job_summarises_every_billed_month_and_then_only_what_changed(world):
    # May 2025 to May 2026, billed or not: 13 months.
    assert jobs.daily(P).startswith("analytics: indicator summary refreshed for 13 months; segments of 2026-05")
    assert SummaryPeriod.objects.filter(period=YEAR_AGO.replace(month=7), rows=0).exists()
    assert jobs.daily(P) == "analytics: indicator summary refreshed for 0 months"  # nothing changed
    month(world.bob_customer, YEAR_AGO.replace(month=7), 10)  # a late import of an old month
    SummaryPeriod.objects.filter(period=YEAR_AGO.replace(month=7)).delete()  # what a re-import hook would do
    assert jobs.daily(P) == "analytics: indicator summary refreshed for 1 months"
    assert SummaryPeriod.objects.get(period=YEAR_AGO.replace(month=7)).rows == 1
    may = IndicatorSummary.objects.filter(period=P)
    assert sum(row.churned for row in may) == 1 and sum(row.in_service for row in may) == 4


def test_a_regraded_or_moved_customer_moves_in_every_month_at_night_and_only_its_units_are_refreshed(
    world, monkeypatch
):
    from jiketong.analytics import summary
    from jiketong.customers.services import customer_update
    from jiketong.testing import system_user

    jobs.daily(P)
    world.alice.rank = "key_account_manager"  # an A customer stays with a manager whose rank may own it (职级)
    world.alice.save(update_fields=["rank"])
    customer_update(actor=system_user(), customer=world.alice_customer, grade="A1", grade_reason="签约大单")
    customer_update(actor=system_user(), customer=world.backed_up, org_unit=world.org["440304"])
    refreshed = []
    real = summary.refresh_months

    def spy(periods, units=None, **kw):
        if periods:
            refreshed.append(units)
        return real(periods, units, **kw)

    monkeypatch.setattr(summary, "refresh_months", spy)
    assert jobs.daily(P).startswith("analytics: indicator summary refreshed for 13 months")
    tianhe, yuexiu, futian = (world.org[code].pk for code in ("440106", "440104", "440304"))
    assert {tuple(units) for units in refreshed} == {tuple(sorted({tianhe, yuexiu, futian}))}
    for options in GROUPINGS:
        codes = [code for code, item in REGISTRY.items() if item.monthly or options.get("by") != "month"]
        for staff in ("erin", "carol"):
            user = getattr(world, staff).user
            summarised, values = figures(user, **options)
            reference = ReferenceCalculation(user, period=P, product="MAS", **options)
            assert summarised and values == {code: reference.value(code) for code in codes}, (staff, options)


def test_managers_read_their_portfolio_kept_in_total_and_by_month_and_live_when_grouped(world):
    jobs.daily(P)
    assert Calculation(world.alice.user, period=P).summarised
    assert Calculation(world.alice.user, period=P, start=PREV, by="month").summarised
    assert not Calculation(world.alice.user, period=P, by="org").summarised


def test_a_handed_over_customer_leaves_one_portfolio_for_another_at_night(world):
    from jiketong.customers.services import customer_update
    from jiketong.testing import system_user

    jobs.daily(P)
    customer_update(actor=system_user(), customer=world.alice_customer, owner=world.bob)
    jobs.daily(P)
    for staff in ("alice", "bob"):
        user = getattr(world, staff).user
        for options in ({}, {"by": "month", "start": PREV}):
            summarised, values = figures(user, **options)
            codes = [code for code, item in REGISTRY.items() if item.monthly or options.get("by") != "month"]
            reference = ReferenceCalculation(user, period=P, product="MAS", **options)
            assert summarised and values == {code: reference.value(code) for code in codes}, (staff, options)
    assert Calculation(world.alice.user, period=P).value("in_service")[""] == 0  # she only backs up C


def test_a_refresh_of_managers_only_leaves_the_units_alone(world):
    jobs.daily(P)
    cells = sorted(IndicatorSummary.objects.filter(period=P).values_list("org_unit_id", "in_service"))
    summary.refresh(P, [], owners=[world.alice.pk], spread=False)
    assert sorted(IndicatorSummary.objects.filter(period=P).values_list("org_unit_id", "in_service")) == cells
    assert Calculation(world.alice.user, period=P).value("in_service")[""] == 1


def test_a_full_rebuild_in_one_pass_gives_every_month_its_live_figures(varied):
    # The rebuild groups every month at once (churn counted in the month after the last bill): each month of
    # the 14 billed months, with their churns and win-backs, must read what its live calculation gives.
    months = month_range(add_months(P, -13), P)
    users = [varied.erin.user, varied.carol.user, varied.alice.user]
    live = {(user.pk, period): figures(user, period=period) for user in users for period in months}
    assert not any(summarised for summarised, _ in live.values())
    summary.refresh_all()
    assert SummaryPeriod.objects.count() == len(months)
    for user in users:
        for period in months:
            summarised, values = figures(user, period=period)
            assert summarised and values == live[user.pk, period][1], (user.username, period)


def test_the_groups_spread_of_every_month_is_its_own_12_months_window(varied):
    months = month_range(add_months(P, -13), P)
    summary.refresh_all()
    for period in months:
        kept = {
            (row.head.path, row.revenue, row.provinces)
            for row in GroupSpread.objects.filter(period=period).select_related("head")
        }
        live = {(path, row["revenue_sum"], row["provinces"]) for path, row in group_spread(period).items()}
        assert kept == live, period
    assert GroupSpread.objects.filter(period=P).count() == 2  # the two groups over both provinces
