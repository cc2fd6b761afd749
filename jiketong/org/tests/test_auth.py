"""Log-in security: argon2 hashes, lockout keyed on username + IP, idle timeout, disabling a user."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.models import ApiToken
from jiketong.org.services import staff_deactivate, token_authenticate, token_issue

LOGIN = "/accounts/login/"
IP_A, IP_B = "10.1.1.1", "10.2.2.2"
CONFIGURED_HASHERS = list(settings.PASSWORD_HASHERS)


def log_in(client, username, password=testing.PASSWORD, ip=IP_A):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(response) -> bool:
    return response.status_code == 302 and not response.url.startswith(LOGIN)


def fail(client, username, times, ip=IP_A):
    for _ in range(times):
        response = log_in(client, username, "wrong-password", ip)
        assert response.status_code in (200, 429)


def redirected_to_login(response) -> bool:
    return response.status_code == 302 and response.url.startswith(LOGIN)


def test_passwords_are_hashed_with_argon2(org, settings):
    settings.PASSWORD_HASHERS = CONFIGURED_HASHERS
    staff = testing.make_staff("xiaoli", org["440106"], ["customer_manager"])
    staff.user.refresh_from_db()
    assert staff.user.password.startswith("argon2")
    assert testing.PASSWORD not in staff.user.password
    assert logged_in(log_in(Client(), "xiaoli"))


def test_right_password_logs_in_and_wrong_one_does_not(cast):
    client = Client()
    assert not logged_in(log_in(client, "alice", "wrong-password"))
    assert redirected_to_login(client.get("/"))
    assert logged_in(log_in(client, "alice"))
    assert client.get("/").status_code == 200


def test_repeated_failures_lock_that_user_on_that_computer(cast):
    client = Client()
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    response = log_in(client, "alice", ip=IP_A)
    assert response.status_code == 429
    assert not logged_in(response)
    assert "_auth_user_id" not in client.session


def test_lockout_does_not_reach_other_computers(cast):
    fail(Client(), "alice", settings.AXES_FAILURE_LIMIT, ip=IP_A)
    assert logged_in(log_in(Client(), "alice", ip=IP_B))


def test_nobody_can_lock_out_a_colleague_from_their_own_computer(cast):
    fail(Client(), "alice", settings.AXES_FAILURE_LIMIT, ip=IP_A)
    assert logged_in(log_in(Client(), "bob", ip=IP_A))


def test_failures_below_the_limit_do_not_lock(cast):
    fail(Client(), "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert logged_in(log_in(Client(), "alice"))


def test_successful_login_resets_the_failure_count(cast):
    fail(Client(), "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert logged_in(log_in(Client(), "alice"))
    fail(Client(), "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert logged_in(log_in(Client(), "alice"))


def session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_session_lasts_the_idle_timeout_and_every_request_extends_it(cast):
    client = Client()
    assert logged_in(log_in(client, "alice"))
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    Session.objects.filter(pk=client.session.session_key).update(expire_date=timezone.now() + timedelta(seconds=30))
    assert client.get("/").status_code == 200
    remaining = session_row(client).expire_date - timezone.now()
    assert (
        timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
        < remaining
        <= timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )


def test_idle_session_expires_and_asks_to_log_in_again(cast):
    client = Client()
    assert logged_in(log_in(client, "alice"))
    Session.objects.filter(pk=client.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert redirected_to_login(client.get("/"))


def test_session_cookie_dies_with_the_browser_and_is_hidden_from_scripts(cast):
    client = Client()
    response = log_in(client, "alice")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert not cookie["max-age"]  # a browser-session cookie; the server-side expiry is the idle timeout


def test_disabling_a_user_ends_their_session_at_once(cast):
    client = Client()
    assert logged_in(log_in(client, "alice"))
    assert client.get("/").status_code == 200
    staff_deactivate(actor=cast.frank.user, staff=cast.alice)
    assert redirected_to_login(client.get("/"))
    assert redirected_to_login(client.get("/customers/"))


def test_disabling_a_user_revokes_their_api_tokens(cast):
    token = token_issue(user=cast.alice.user)
    assert token_authenticate(token) == cast.alice.user
    staff_deactivate(actor=cast.frank.user, staff=cast.alice)
    assert token_authenticate(token) is None
    assert not ApiToken.objects.filter(user=cast.alice.user).exists()


def test_disabled_user_cannot_log_in_again(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.alice)
    assert not logged_in(log_in(Client(), "alice"))


def test_disabling_a_user_is_audited(cast):
    token_issue(user=cast.alice.user)
    staff_deactivate(actor=cast.frank.user, staff=cast.alice)
    event = AuditEvent.objects.get(action=AuditAction.DEACTIVATE, target_id=cast.alice.pk)
    assert event.actor == cast.frank.user
    assert event.after["is_active"] is False
    assert event.after["left_on"] == timezone.localdate().isoformat()
    assert "1" in event.note


def test_tokens_are_stored_only_as_hashes_and_expire(cast):
    token = token_issue(user=cast.alice.user, days=1)
    row = ApiToken.objects.get(user=cast.alice.user)
    assert token not in (row.key_hash, row.prefix) and row.key_hash == ApiToken.hash(token)
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_authenticate(token) is None


def test_unknown_token_authenticates_nobody(db):
    assert token_authenticate("jkt_not-a-token") is None


@pytest.mark.parametrize("path", ["/", "/customers/", "/catalog/"])
def test_pages_need_a_login(db, path):
    assert redirected_to_login(Client().get(path))
