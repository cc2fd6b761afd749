"""Cross-sell: the nightly peer shares and ranked offers (a worked example), the 360 panel, the whitespace list."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from jiketong import testing
from jiketong.campaigns import crosssell, queries
from jiketong.campaigns.models import CrossSellOffer, PeerShare
from jiketong.customers.models import LifecycleStatus

from .helpers import bill, product, subscribe

TODAY = date(2026, 6, 2)


@pytest.fixture
def schools(cast):
    """Five 教育 customers of 200–999 people in Alice's county. A–D hold 校讯通, A and B 企信通, A alone MAS; E
    holds nothing. A small school (30 people) and a prospect are in no such group."""
    items = {code: product(code, name) for code, name in [("SCHOOL", "校讯通"), ("SMS", "企信通"), ("MAS", "MAS")]}
    unit = cast.org["440106"]
    made = {
        key: testing.make_customer(
            org_unit=unit, owner=cast.alice, industry_id="education", size=300, name=f"广州第{key}中学"
        )  # fmt: skip
        for key in "ABCDE"
    }
    for key in "ABCD":
        subscribe(made[key], items["SCHOOL"])
    for key in "AB":
        subscribe(made[key], items["SMS"])
    subscribe(made["A"], items["MAS"])
    made["small"] = testing.make_customer(org_unit=unit, owner=cast.alice, industry_id="education", size=30)
    made["prospect"] = testing.make_customer(
        org_unit=unit, owner=cast.alice, industry_id="education", size=300, status=LifecycleStatus.PROSPECT
    )
    subscribe(made["prospect"], items["MAS"])  # a prospect's products count for nobody's share
    return made, items


def _offers(customer) -> list[tuple[str, int, str]]:
    rows = CrossSellOffer.objects.filter(customer=customer).select_related("product", "industry").order_by("rank")
    return [(o.product.code, o.rank, o.reason) for o in rows]


def test_offers_rank_what_peers_of_the_same_industry_and_size_hold(schools):
    made, _items = schools
    groups, offers = crosssell.refresh(TODAY)
    share = PeerShare.objects.get(industry_id="education", size_band="l", product__code="SCHOOL")
    assert (share.peers, share.holders, share.share) == (5, 4, Decimal("0.8000"))
    assert _offers(made["E"]) == [
        ("SCHOOL", 1, "80% of 教育 customers of this size (200–999 people) hold 校讯通"),
        ("SMS", 2, "40% of 教育 customers of this size (200–999 people) hold 企信通"),
        ("MAS", 3, "20% of 教育 customers of this size (200–999 people) hold MAS"),
    ]
    assert [code for code, _r, _t in _offers(made["D"])] == ["SMS", "MAS"]
    assert _offers(made["A"]) == []  # holds all three
    assert _offers(made["small"]) == []  # its group is itself: too few peers to say anything
    assert _offers(made["prospect"]) == []  # not in service
    assert offers == 3 + 2 + 2 + 1  # E; D; C (企信通, MAS); B (MAS)
    assert groups == PeerShare.objects.count()


def test_refresh_again_gives_the_same_offers(schools):
    made, _items = schools
    crosssell.refresh(TODAY)
    first = _offers(made["E"])
    crosssell.refresh(TODAY)
    assert _offers(made["E"]) == first


def test_the_360_page_shows_next_best_offers_with_their_reason(cast, schools):
    made, _items = schools
    crosssell.refresh(TODAY)
    client = Client()
    client.force_login(cast.alice.user)
    response = client.get(reverse("customers:detail", args=[made["E"].pk]))
    assert response.status_code == 200
    panel = response.content.decode().split('data-testid="offers-panel"')[1].split("</ul>")[0]
    assert "80%" in panel and "校讯通" in panel and "200–999" in panel


def test_the_panel_reads_one_query(cast, schools, django_assert_num_queries):
    made, _items = schools
    crosssell.refresh(TODAY)
    queries.offers_for(cast.carol.user, made["A"].pk)  # the user's staff record, read once per request
    with django_assert_num_queries(1):
        offers = queries.offers_for(cast.carol.user, made["E"].pk)
    assert len(offers) == 3


def test_whitespace_lists_customers_without_the_product_most_valuable_first(cast, schools):
    made, items = schools
    for key, revenue in [("A", "900"), ("C", "100"), ("D", "500"), ("E", "300"), ("small", "50")]:
        bill(made[key], date(2026, 5, 1), revenue)
    rows = queries.whitespace(cast.carol.user, items["SMS"])
    assert [row.customer for row in rows] == [made["D"], made["E"], made["C"], made["small"]]
    assert [row.customer for row in queries.whitespace(cast.dave.user, items["SMS"])] == []


def test_whitespace_page_and_export_are_for_subtree_roles(cast, schools):
    made, items = schools
    bill(made["E"], date(2026, 5, 1), "300")
    client = Client()
    client.force_login(cast.carol.user)
    page = client.get(reverse("campaigns:whitespace") + f"?product={items['SCHOOL'].pk}")
    assert made["E"].name in page.content.decode()
    export = client.get(reverse("campaigns:whitespace_export") + f"?product={items['SCHOOL'].pk}")
    assert export.status_code == 200
    assert b"".join(export.streaming_content)[:2] == b"PK"
    client.force_login(cast.alice.user)
    assert client.get(reverse("campaigns:whitespace") + f"?product={items['SCHOOL'].pk}").status_code == 403


def test_the_whitespace_page_counts_up_to_its_cap_in_the_same_queries_at_any_size(
    cast, schools, monkeypatch, django_assert_max_num_queries
):
    from jiketong.campaigns import views

    made, items = schools
    client = Client()
    client.force_login(cast.carol.user)
    url = reverse("campaigns:whitespace") + f"?product={items['SMS'].pk}"
    monkeypatch.setattr(views, "WHITESPACE_COUNT_CAP", 2)
    for key in ("C", "D", "E"):
        bill(made[key], date(2026, 5, 1), "100")
    with django_assert_max_num_queries(14) as few:
        page = client.get(url)
    assert page.context["page"].paginator.count == 2 and page.context["page"].paginator.capped
    for n in range(6):
        more = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, industry_id="education", size=300)
        bill(more, date(2026, 5, 1), str(200 + n))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.context["page"].paginator.count == 2 and len(page.context["page"].object_list) == 2


def test_one_click_turns_the_whitespace_list_into_a_campaign(cast, schools):
    made, items = schools
    client = Client()
    client.force_login(cast.carol.user)
    response = client.post(reverse("campaigns:whitespace_campaign"), {"product": items["SMS"].pk, "region": "440106"})
    assert response.status_code == 302
    from jiketong.campaigns.models import Campaign

    campaign = Campaign.objects.get()
    assert campaign.criteria == {"lacks": items["SMS"].pk, "region": "440106"}
    listed = set(campaign.targets.values_list("customer_id", flat=True))
    assert {made["C"].pk, made["D"].pk, made["E"].pk, made["small"].pk} <= listed
    assert made["A"].pk not in listed and made["prospect"].pk not in listed
