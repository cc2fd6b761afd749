"""Pending approvals on the approver's workbench (the home page): the count and the oldest few, for the
quotes the user may decide, in two queries; nothing for someone who approves nothing."""

import pytest
from django.urls import reverse

from jiketong.deals import queries, services
from jiketong.deals.models import Quote

pytestmark = pytest.mark.django_db


def test_the_supervisor_sees_the_count_and_the_oldest_quotes_waiting(deals, quote_at, client_as):
    quotes = [quote_at("5") for _ in range(7)]
    services.quote_approve(actor=deals.carol.user, quote=quotes[0])  # decided: no longer waits
    response = client_as(deals.carol).get(reverse("home"))
    card = response.context["approvals"]
    assert card["count"] == 6
    assert [q.pk for q in card["quotes"]] == [q.pk for q in quotes[1:6]]  # oldest first, five of them
    html = response.content.decode()
    assert 'data-testid="workbench-approvals"' in html
    assert reverse("deals:quote_detail", args=[quotes[1].pk]) in html
    assert reverse("deals:quote_detail", args=[quotes[0].pk]) not in html


def test_only_quotes_the_user_may_decide_are_counted(deals, quote_at):
    quote_at("25")  # needs the province: Hank, not Carol
    assert queries.workbench_approvals(deals.carol.user)["count"] == 0
    assert queries.workbench_approvals(deals.hank.user)["count"] == 1
    assert queries.workbench_approvals(deals.dave.user)["count"] == 0  # another province


def test_someone_who_approves_nothing_gets_no_card_and_no_query(deals, quote_at, client_as, django_assert_num_queries):
    quote_at("5")
    from jiketong.org.models import staff_of

    staff_of(deals.alice.user)
    with django_assert_num_queries(0):
        assert queries.workbench_approvals(deals.alice.user) is None
    html = client_as(deals.alice).get(reverse("home")).content.decode()
    assert 'data-testid="workbench-approvals"' not in html


def test_the_card_costs_one_query(deals, quote_at, django_assert_num_queries):
    for _ in range(8):
        quote_at("5")
    from jiketong.org.models import staff_of

    staff_of(deals.carol.user)
    with django_assert_num_queries(1):
        card = queries.workbench_approvals(deals.carol.user)
        [(q.customer.name, q.submitted_by.username) for q in card["quotes"]]
    assert card["count"] == Quote.objects.filter(status="pending").count()
