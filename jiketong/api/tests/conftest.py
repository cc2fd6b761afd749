"""API test helpers: a client that sends a persona's bearer token (and asks for English messages)."""

from collections.abc import Callable

import pytest
from django.test import Client

from jiketong.org.models import Staff
from jiketong.org.services import token_issue

API = "/api/v1"


class ApiClient(Client):
    """A test client that speaks JSON to /api/v1 with a bearer token."""

    def __init__(self, token: str | None = None) -> None:
        headers = {"HTTP_ACCEPT_LANGUAGE": "en"}
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        super().__init__(**headers)

    def post_json(self, path: str, data=None):
        return self.post(API + path, data or {}, content_type="application/json")

    def patch_json(self, path: str, data):
        return self.patch(API + path, data, content_type="application/json")

    def api_get(self, path: str, **params):
        return self.get(API + path, params)


@pytest.fixture
def api_as() -> Callable[[Staff], ApiClient]:
    """`api_as(cast.alice)` → a client authenticated with a fresh token of Alice's."""
    return lambda staff: ApiClient(token_issue(user=staff.user))
