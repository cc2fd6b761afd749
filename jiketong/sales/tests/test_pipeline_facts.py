"""Decision 0606: the board's stage totals and the forecast read the kept pipeline figures for a subtree, and
those figures are always what counting the opportunities live gives — after a rebuild, and after each change
made through the services (the owners concerned are recounted on commit)."""

from datetime import date

import pytest

from jiketong.customers.services import customer_update
from jiketong.org.models import Role
from jiketong.sales import pipeline, queries, services
from jiketong.sales.models import Opportunity, PipelineFact
from jiketong.testing import make_staff

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


def _totals(columns) -> dict:
    return {c.stage.code: (c.count, c.amount_monthly, c.amount_once) for c in columns if c.count}


def _board_and_forecasts(user) -> tuple:
    return (
        _totals(queries.board(user)[1]),
        [(r.key, r.values) for r in queries.forecast(user, months=3, by="owner", today=TODAY).rows],
        [(r.key, r.values) for r in queries.forecast(user, months=3, by="org_unit", today=TODAY).rows],
    )


def _live(user) -> tuple:
    """The same figures counted from the opportunities: with no kept rows every page reads live."""
    kept = list(PipelineFact.objects.all())
    PipelineFact.objects.all().delete()
    try:
        return _board_and_forecasts(user)
    finally:
        PipelineFact.objects.bulk_create(kept)


@pytest.fixture
def pipeline_world(cast, make_opportunity, stage):
    """Open opportunities in 天河区 (Alice's, Bob's), 越秀区 (Bob's, backed up by Alice), 福田 (Ivan's) and 杭州 (an
    one of Dave's on the unowned Zhejiang customer), one won this month, and one Carol (广州) owns on a 深圳
    customer — outside her subtree, in her scope because it is hers."""
    make_opportunity(cast.alice, cast.alice_customer, stage=stage["solution"], amount_monthly=1000, amount_once=500,
                     expected_close=date(2026, 12, 10))  # fmt: skip
    make_opportunity(cast.alice, cast.alice_customer, stage=stage["negotiation"], amount_monthly=300,
                     expected_close=date(2027, 1, 31))  # fmt: skip
    make_opportunity(cast.bob, cast.bob_customer, amount_once=8000, expected_close=date(2027, 2, 1))
    make_opportunity(cast.bob, cast.backed_up, stage=stage["solution"], amount_monthly=250,
                     expected_close=date(2026, 12, 1))  # fmt: skip
    make_opportunity(cast.ivan, cast.shenzhen_customer, amount_monthly=700, expected_close=date(2026, 12, 20))
    make_opportunity(cast.dave, cast.zhejiang_customer, amount_monthly=900, expected_close=date(2027, 1, 5))
    won = make_opportunity(cast.alice, cast.alice_customer, name="已赢", amount_monthly=50)
    services.opportunity_move(actor=cast.alice.user, opportunity=won, stage=stage["won"], note="签约")
    Opportunity.objects.create(
        customer=cast.shenzhen_customer, name="陈静的深圳商机", owner=cast.carol, stage=stage["solution"],
        expected_close=date(2026, 12, 28), amount_monthly=400,
    )  # fmt: skip
    return cast


def _everyone(cast) -> list:
    mixed = make_staff("henry", cast.org["440100"], [Role.SUPERVISOR, Role.CUSTOMER_MANAGER], name="何亮")
    cast.shenzhen_customer.backup_owner = mixed
    cast.shenzhen_customer.save(update_fields=["backup_owner"])
    return [cast.alice, cast.bob, cast.ivan, cast.carol, cast.dave, cast.erin, cast.frank, cast.grace, mixed]


def test_after_a_rebuild_the_kept_figures_give_every_user_the_live_board_and_forecast(pipeline_world):
    cast = pipeline_world
    people = _everyone(cast)
    assert pipeline.refresh() > 0
    for person in people:
        assert _board_and_forecasts(person.user) == _live(person.user), person.user.username
    # Carol's own opportunity outside her subtree counts on her board, once.
    carol = _totals(queries.board(cast.carol.user)[1])
    assert carol["solution"][0] == 3  # Alice's, Bob's in 越秀区, hers in 深圳


def test_the_board_reads_the_kept_figures(pipeline_world, stage):
    """Proof the page does not count live: a kept row changed by hand shows on Carol's board."""
    pipeline.refresh()
    before = _totals(queries.board(pipeline_world.carol.user)[1])["solution"][0]
    fact = PipelineFact.objects.filter(stage=stage["solution"], owner=pipeline_world.alice).get()
    PipelineFact.objects.filter(pk=fact.pk).update(count=fact.count + 5)
    assert _totals(queries.board(pipeline_world.carol.user)[1])["solution"][0] == before + 5


def test_every_change_through_the_services_keeps_the_figures_equal_to_a_rebuild(
    pipeline_world, stage, make_opportunity, django_capture_on_commit_callbacks
):
    cast = pipeline_world
    people = _everyone(cast)
    pipeline.refresh()

    def kept_rows() -> set:
        return set(
            PipelineFact.objects.values_list("owner", "org_unit", "stage", "month", "count", "amount_monthly",
                                             "amount_once")
        )  # fmt: skip

    def check(step: str) -> None:
        incremental = kept_rows()
        pipeline.refresh()
        assert incremental == kept_rows(), step
        for person in people:
            assert _board_and_forecasts(person.user) == _live(person.user), (step, person.user.username)

    opportunity = Opportunity.objects.get(owner=cast.alice, stage=stage["solution"])
    with django_capture_on_commit_callbacks(execute=True):
        created = make_opportunity(cast.alice, cast.backed_up, amount_monthly=120, expected_close=date(2027, 1, 2))
    check("create")
    with django_capture_on_commit_callbacks(execute=True):
        services.opportunity_update(actor=cast.alice.user, opportunity=opportunity, amount_monthly=4000,
                                    expected_close=date(2027, 2, 14))  # fmt: skip
    check("amount and close date")
    with django_capture_on_commit_callbacks(execute=True):
        services.opportunity_update(actor=cast.carol.user, opportunity=created, owner=cast.bob)
    check("owner")
    with django_capture_on_commit_callbacks(execute=True):
        services.opportunity_move(actor=cast.alice.user, opportunity=opportunity, stage=stage["won"], note="赢单")
    check("won")
    with django_capture_on_commit_callbacks(execute=True):
        services.handover(cast.carol.user, old_owner=cast.bob, new_owner=cast.alice)
    check("handover")
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=cast.carol.user, customer=cast.backed_up, org_unit=cast.org["440106"])
    check("customer moved to another unit")


def test_a_region_filter_is_answered_from_the_kept_figures_and_other_filters_live(pipeline_world, stage):
    cast = pipeline_world
    pipeline.refresh()
    region = {"region": "440104"}  # 越秀区: Bob's one open opportunity there
    assert _totals(queries.board(cast.carol.user, region)[1]) == {"solution": (1, 250, 0)}
    by_owner = {"owner": str(cast.alice.pk)}
    board_filter, _columns = queries.board(cast.carol.user, by_owner)
    assert queries._kept_for(cast.carol.user, board_filter) is None
    assert _totals(queries.board(cast.carol.user, by_owner)[1])["solution"] == (1, 1000, 500)


def test_a_supervisor_board_and_forecast_cost_the_same_queries_at_any_size(
    pipeline_world, make_opportunity, client_as, stage, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cast = pipeline_world
    pipeline.refresh()
    client = client_as(cast.carol)

    def counts() -> list[int]:
        result = []
        for url in ("/sales/board/", "/sales/forecast/", "/sales/forecast/?by=org_unit"):
            with CaptureQueriesContext(connection) as queries_run:
                assert client.get(url).status_code == 200
            result.append(len(queries_run))
        return result

    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(6):
            make_opportunity(cast.alice if i % 2 else cast.bob, cast.backed_up, name=f"新商机{i}",
                             stage=stage["negotiation"], expected_close=date(2027, 1 + i % 3, 10))  # fmt: skip
    assert counts() == before
    assert max(before) <= 20
