"""Answers from outside the operations keep the API's error shape: unknown paths and methods a path does not take."""

import pytest

from jiketong.api.tests.conftest import API

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/nope", "/customers/1/nope", "/customers/", "/"])
def test_an_unknown_path_under_the_api_answers_json_404(cast, api_as, path):
    answer = api_as(cast.alice).get(API + path)
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json() == {"detail": "Not found.", "errors": {}}


def test_a_method_the_path_does_not_take_answers_json_405_with_allow(cast, api_as):
    answer = api_as(cast.alice).put(f"{API}/customers", "{}", content_type="application/json")
    assert answer.status_code == 405
    assert answer["Content-Type"].startswith("application/json")
    assert set(answer.json()) == {"detail", "errors"} and "PUT" in answer.json()["detail"]
    assert "GET" in answer["Allow"] and "POST" in answer["Allow"]


def test_without_a_token_an_unknown_path_is_still_json(client):
    answer = client.get(f"{API}/nope")
    assert answer.status_code == 404 and answer.json()["errors"] == {}


def test_pages_outside_the_api_keep_their_html_404(cast, client_as):
    answer = client_as(cast.alice).get("/customers/nope/")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")
