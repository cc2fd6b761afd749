"""Fuzz every API operation from its own OpenAPI description (schemathesis), as two personas.

A customer manager (Alice: her county, her portfolio) and an administrator (Frank: the province, every
write) each send schemathesis' generated requests, valid and invalid, to every operation: the coverage
phase's boundary values (huge integers, nulls, empty and odd strings), then a few random examples.
Every answer must be

- no server error (not a 5xx),
- a status code the operation documents, with the content type it documents,
- a body that matches the documented schema for that status (the error shape included).

The run is bounded and deterministic (a fixed seed, derandomised) so the suite stays fast and a failure
reproduces; it runs on SQLite and again on PostgreSQL when the suite runs under scripts/with-postgres.
For a longer hunt: `JIKETONG_FUZZ_EXAMPLES=200 pytest jiketong/api/tests/test_fuzz.py`.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis import checks

from jiketong import testing
from jiketong.org.models import Role
from jiketong.org.services import token_issue
from jiketong.wsgi import application

EXAMPLES = int(os.environ.get("JIKETONG_FUZZ_EXAMPLES", "8"))
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260101,
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": True,
            # The token is sent by the test; generated auth headers would only test the 401 path, 200 times.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
    }
)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)


@pytest.fixture(scope="module")
def keep_connection():
    """Requests go straight to the WSGI application, not through Django's test client, so they would close
    the test's database connection (inside its transaction) at the end of each request; the test client
    disconnects these two receivers for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def tokens(django_db_setup, django_db_blocker, keep_connection):
    """The two personas and a customer, made once for the module and rolled back after it; each operation's
    test runs in its own transaction inside, so what one operation writes never leaks into the next."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["jiketong.testing.FastArgon2Hasher"]),
        transaction.atomic(),
    ):
        org = testing.make_org_tree()
        alice = testing.make_staff("alice", org["440106"], [Role.CUSTOMER_MANAGER], name="李晓红", rank="manager")
        frank = testing.make_staff("frank", org["440000"], [Role.ADMIN], name="吴刚")
        testing.make_customer(org_unit=org["440106"], owner=alice, name="广州地铁集团有限公司", short_name="广州地铁")
        yield {"alice": token_issue(user=alice.user), "frank": token_issue(user=frank.user)}
        transaction.set_rollback(True)


@pytest.mark.parametrize("persona", ["alice", "frank"])
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
def test_api_answers_as_documented(case, persona, tokens, db):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {tokens[persona]}", "Accept-Language": "en"}, checks=CHECKS
    )
