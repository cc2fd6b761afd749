"""Decision 0605: a customer manager's warnings through the portfolio's ids, sorted by score, are the rows and the
order of the rule written as a join; the list counts up to the cap."""

import pytest
from django.db.models import Q

from jiketong import testing
from jiketong.analytics import queries as analytics_queries
from jiketong.churn import queries
from jiketong.churn.models import ChurnScore
from jiketong.org.scope import customer_scope

from .test_views import LIST, score

pytestmark = pytest.mark.django_db


def test_a_managers_warnings_are_the_join_rule_highest_first(cast):
    """Alice owns alice_customer (80) and a second customer (80: the tie goes to the lower id), backs up
    backed_up (20); Bob's 50 and Shenzhen's 90 are not hers."""
    second = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice)
    scores = [
        score(cast.alice_customer, 80), score(second, 80), score(cast.bob_customer, 50, "medium"),
        score(cast.backed_up, 20, "low", []), score(cast.shenzhen_customer, 90),
    ]  # fmt: skip
    for person in (cast.alice, cast.bob):
        joined = ChurnScore.objects.filter(Q(customer_scope(person.user, "customer__"))).order_by("-score", "id")
        assert list(queries.warnings(person.user)[1]) == list(joined)
    assert [s.pk for s in queries.warnings(cast.alice.user)[1]] == [scores[0].pk, scores[1].pk, scores[3].pk]


def test_the_warning_list_counts_up_to_the_cap(cast, client_as, monkeypatch):
    for customer in (cast.alice_customer, cast.bob_customer, cast.backed_up, cast.shenzhen_customer):
        score(customer)
    monkeypatch.setattr(analytics_queries.CappedPaginator.__init__, "__defaults__", (2,))
    response = client_as(cast.carol).get(LIST)
    assert (response.context["page"].paginator.count, response.context["page"].paginator.capped) == (2, True)
