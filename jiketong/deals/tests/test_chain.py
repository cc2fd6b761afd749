"""Each record shows its chain (lead → opportunity → quote → contract → order → subscriptions): the same
steps on all five detail pages, links only to what the reader may see, a bounded number of queries."""

from datetime import date

import pytest
from django.urls import reverse

from jiketong.customers.models import Industry
from jiketong.deals import queries, services
from jiketong.deals.models import OrderStatus
from jiketong.deals.tests.conftest import make_quote
from jiketong.sales import services as sales_services
from jiketong.sales.models import Opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(deals, django_capture_on_commit_callbacks):
    """Alice's lead converted on her customer, quoted (approved at once by Carol), contracted and ordered."""
    lead = sales_services.lead_create(
        actor=deals.alice.user, source="visit", name="地铁二期", industry=Industry.objects.get(code="it"),
        confirm_duplicates=True,
    )  # fmt: skip
    lead = sales_services.lead_convert(
        actor=deals.alice.user, lead=lead, customer=deals.alice_customer, expected_close=date(2026, 12, 15)
    )
    quote = make_quote(deals.carol, deals.alice_customer, (deals.vnet, 10, "5"))
    services.quote_update(actor=deals.carol.user, quote=quote, opportunity=lead.opportunity)
    quote = services.quote_submit(actor=deals.carol.user, quote=quote)
    contract = services.contract_create(
        actor=deals.alice.user,
        customer=deals.alice_customer,
        quote=quote,
        start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31),
    )
    contract = services.contract_activate(actor=deals.alice.user, contract=contract)
    order = services.order_create_from_contract(actor=deals.alice.user, contract=contract)
    services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        order, _ = services.order_set_state(actor=deals.alice.user, order=order, state=OrderStatus.COMPLETED)
    deals.records = {
        "lead": lead,
        "opportunity": Opportunity.objects.get(pk=lead.opportunity_id),
        "quote": quote,
        "contract": contract,
        "order": order,
    }
    deals.subscription = order.lines.get().subscription
    return deals


def steps(chain_steps) -> list[tuple[str, list[str]]]:
    return [(step.kind, [link.label for link in step.links]) for step in chain_steps]


@pytest.mark.parametrize("kind", ["lead", "opportunity", "quote", "contract", "order"])
def test_every_record_shows_the_whole_chain_with_itself_marked(chain, kind, django_assert_max_num_queries):
    record = chain.records[kind]
    with django_assert_max_num_queries(5):
        found = queries.record_chain(chain.alice.user, record)
    r = chain.records
    assert steps(found) == [
        ("lead", ["地铁二期"]),
        ("opportunity", [r["opportunity"].name]),
        ("quote", [str(r["quote"])]),
        ("contract", [r["contract"].number]),
        ("order", [r["order"].number]),
        ("subscription", ["集团V网"]),
    ]
    current = [(step.kind, link.label) for step in found for link in step.links if link.current]
    assert [kind for kind, _label in current] == [kind]
    links = {step.kind: step.links[0].url for step in found}
    assert links["quote"] == reverse("deals:quote_detail", args=[r["quote"].pk])
    assert links["opportunity"] == reverse("sales:opportunity_detail", args=[r["opportunity"].pk])
    assert links["subscription"].startswith(reverse("customers:detail", args=[chain.alice_customer.pk]))


def test_a_record_alone_has_a_chain_of_one_step_that_the_page_does_not_draw(chain, client_as):
    quote = make_quote(chain.alice, chain.alice_customer, (chain.vnet, 1, "0"))
    assert steps(queries.record_chain(chain.alice.user, quote)) == [("quote", [str(quote)])]
    html = client_as(chain.alice).get(reverse("deals:quote_detail", args=[quote.pk])).content.decode()
    assert 'data-testid="chain"' not in html


def test_an_order_straight_from_a_quote_has_no_contract_step(chain):
    # A second order of the same products: its line changes the subscription the first one created.
    order = services.order_create_from_quote(actor=chain.alice.user, quote=chain.records["quote"])
    assert steps(queries.record_chain(chain.alice.user, order)) == [
        ("lead", ["地铁二期"]),
        ("opportunity", [chain.records["opportunity"].name]),
        ("quote", [str(chain.records["quote"])]),
        ("order", [order.number]),
        ("subscription", ["集团V网"]),
    ]


def test_a_step_the_reader_may_not_see_shows_its_kind_without_a_link(chain):
    # Ivan (inside sales in Shenzhen) owns the opportunity on Alice's customer: he sees it and its lead's
    # conversion, but none of the customer's quotes, contracts or orders.
    Opportunity.objects.filter(pk=chain.records["opportunity"].pk).update(owner=chain.ivan)
    found = queries.record_chain(chain.ivan.user, Opportunity.objects.get(pk=chain.records["opportunity"].pk))
    hidden = {step.kind: step.links[0] for step in found if step.kind in ("quote", "contract", "order")}
    assert set(hidden) == {"quote", "contract", "order"}
    assert all(link.label == "" and link.url == "" for link in hidden.values())


def test_the_five_pages_draw_the_chain_within_their_query_budgets(chain, client_as, django_assert_max_num_queries):
    r = chain.records
    client = client_as(chain.alice)
    pages = [
        reverse("sales:lead_detail", args=[r["lead"].pk]),
        reverse("sales:opportunity_detail", args=[r["opportunity"].pk]),
        reverse("deals:quote_detail", args=[r["quote"].pk]),
        reverse("deals:contract_detail", args=[r["contract"].pk]),
        reverse("deals:order_detail", args=[r["order"].pk]),
    ]
    for url in pages:
        client.get(url)
        with django_assert_max_num_queries(20):
            html = client.get(url).content.decode()
        assert 'data-testid="chain"' in html and 'data-testid="chain-current"' in html
        for other in pages:
            if other != url:
                assert f'href="{other}"' in html, (url, other)
