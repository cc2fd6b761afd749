"""A body naming several ids the caller cannot use answers one 400 that names each of them (api.base.resolve_ids)."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_task_for_an_unknown_colleague_at_an_invisible_customer_names_both_fields(cast, api_as):
    answer = api_as(cast.alice).post_json(
        "/tasks", {"title": "回访", "owner": 2**62, "customer": cast.zhejiang_customer.pk, "due_on": "2026-12-10"}
    )
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"owner", "customer"}


def test_a_quote_for_another_managers_customer_and_an_unknown_opportunity_names_both_fields(cast, api_as):
    answer = api_as(cast.alice).post_json("/quotes", {"customer": cast.bob_customer.pk, "opportunity": 2**62})
    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "customer": ["There is no customer with this id."],
        "opportunity": ["There is no opportunity with this id."],
    }
