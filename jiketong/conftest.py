"""Shared fixtures: the org tree and the fixed cast of personas (see jiketong/testing.py)."""

import pytest
from django.test import Client
from django.utils import translation

from jiketong import testing


@pytest.fixture(autouse=True)
def fast_argon2(settings):
    """Still argon2 (tests check the algorithm), with the cost turned down: the cast hashes eight passwords."""
    settings.PASSWORD_HASHERS = ["jiketong.testing.FastArgon2Hasher"]


@pytest.fixture(autouse=True)
def english():
    """Code called straight from a test speaks English, so service and validator tests assert the msgids.

    Pages requested through the test client get Chinese (the default) unless the client carries the language
    cookie of the language switch; the API follows Accept-Language. core/tests/test_i18n.py checks that side.
    """
    with translation.override("en"):
        yield


@pytest.fixture
def org(db):
    return testing.make_org_tree()


@pytest.fixture
def cast(org):
    """The personas and a customer or two for each, as a simple namespace."""
    return testing.make_cast(org)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_as():
    """`client_as(cast.alice)` → a logged-in test client for that staff member."""
    return lambda staff: login(staff.user)
