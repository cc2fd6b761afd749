"""Decision 0605: 我的商机 sums only the user's own pipeline; the lists count up to a cap."""

from datetime import date
from decimal import Decimal

import pytest

from jiketong.analytics import queries as analytics_queries
from jiketong.sales import queries

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


def test_my_pipeline_forecast_is_my_row_of_the_whole_forecast(cast, make_opportunity, stage):
    """Worked example: Carol (广州 supervisor) owns one opportunity closing in December (¥1,000 a month + ¥500
    once at the 40% stage), Alice one of ¥2,000 a month. Carol's forecast by owner has both rows; 我的商机
    shows only hers: (1,000 + 500) × 40% = ¥600 in December."""
    make_opportunity(
        cast.carol, cast.alice_customer, owner=cast.carol, stage=stage["solution"], amount_monthly=1000,
        amount_once=500, expected_close=date(2026, 12, 10),
    )  # fmt: skip
    make_opportunity(
        cast.alice, cast.alice_customer, stage=stage["solution"], amount_monthly=2000, expected_close=date(2026, 12, 5)
    )
    whole = queries.forecast(cast.carol.user, months=3, by="owner", today=TODAY)
    mine = queries.my_pipeline(cast.carol.user, today=TODAY)["forecast"]
    assert {row.key for row in whole.rows} == {cast.carol.pk, cast.alice.pk}
    assert [row.key for row in mine.rows] == [cast.carol.pk]
    carol = next(row for row in whole.rows if row.key == cast.carol.pk)
    probability = Decimal(stage["solution"].probability) / 100
    assert mine.rows[0].values == carol.values
    assert mine.rows[0].values[0] == (Decimal(1500) * probability).quantize(Decimal("0.01"))


def test_the_opportunity_and_lead_lists_count_up_to_the_cap(cast, client_as, make_opportunity, make_lead, monkeypatch):
    for i in range(4):
        make_opportunity(cast.alice, cast.alice_customer, name=f"商机{i}")
        make_lead(cast.alice, name=f"线索{i}科技有限公司")
    monkeypatch.setattr(analytics_queries.CappedPaginator.__init__, "__defaults__", (3,))
    client = client_as(cast.alice)
    for url in ("/sales/opportunities/", "/sales/leads/"):
        response = client.get(url)
        paginator = response.context["page"].paginator
        assert (paginator.count, paginator.capped) == (3, True)
        assert "超过 3" in response.content.decode() or "More than 3" in response.content.decode()
