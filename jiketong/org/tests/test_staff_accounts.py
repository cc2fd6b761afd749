"""The account steps of 用户管理 as services: disabling twice, enabling again, setting a password, versions."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError

from jiketong import testing
from jiketong.core.concurrency import StaleEdit
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.models import Staff
from jiketong.org.services import (
    password_generate,
    sessions_end,
    staff_deactivate,
    staff_reactivate,
    staff_set_password,
    staff_update,
)

STRONG = "Gz-metro-2026!"


def session_of(user) -> str:
    store = SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    return store.session_key


def test_disabling_an_account_already_disabled_changes_nothing(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    assert AuditEvent.objects.filter(action=AuditAction.DEACTIVATE, target_id=cast.bob.pk).count() == 1


def test_disabling_deletes_only_that_users_sessions(cast):
    bobs, alices = session_of(cast.bob.user), session_of(cast.alice.user)
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    assert set(Session.objects.values_list("session_key", flat=True)) == {alices}
    assert bobs != alices


def test_enabling_again_clears_the_leaving_day_and_is_audited_with_it(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    left_on = Staff.objects.get(pk=cast.bob.pk).left_on
    staff_reactivate(actor=cast.frank.user, staff=cast.bob)
    bob = Staff.objects.get(pk=cast.bob.pk)
    assert bob.is_active and bob.left_on is None
    event = AuditEvent.objects.get(action=AuditAction.STATUS, target_id=bob.pk)
    assert event.before == {"is_active": False, "left_on": left_on.isoformat()}


def test_enabling_an_active_account_is_refused(cast):
    with pytest.raises(ValidationError) as info:
        staff_reactivate(actor=cast.frank.user, staff=cast.bob)
    assert info.value.messages == ["This account is already active."]


@pytest.mark.parametrize("persona", ["alice", "carol", "grace"])
def test_only_admins_enable_accounts_and_set_passwords(cast, persona):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    actor = getattr(cast, persona).user
    with pytest.raises(PermissionDenied):
        staff_reactivate(actor=actor, staff=cast.bob)
    with pytest.raises(PermissionDenied):
        staff_set_password(actor=actor, staff=cast.bob, password=STRONG)


def test_setting_a_password_ends_the_colleagues_sessions_not_the_admins_own(cast):
    alices = session_of(cast.alice.user)
    franks = session_of(cast.frank.user)
    staff_set_password(actor=cast.frank.user, staff=cast.alice, password=STRONG)
    assert not Session.objects.filter(session_key=alices).exists()
    staff_set_password(actor=cast.frank.user, staff=cast.frank, password=STRONG)
    assert Session.objects.filter(session_key=franks).exists()


def test_a_weak_password_is_refused_at_the_password_key_and_nothing_changes(cast):
    with pytest.raises(ValidationError) as info:
        staff_set_password(actor=cast.frank.user, staff=cast.alice, password="alice2026")
    assert list(info.value.message_dict) == ["password"]
    assert testing.User.objects.get(pk=cast.alice.pk).check_password(testing.PASSWORD)


def test_a_generated_password_passes_the_password_rules(cast):
    passwords = {password_generate() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        staff_set_password(actor=cast.frank.user, staff=cast.alice, password=password)


def test_an_update_of_a_version_never_read_is_refused(cast):
    read = Staff.objects.get(pk=cast.alice.pk)
    staff_update(actor=cast.frank.user, staff=read, rank="senior_manager")
    with pytest.raises(StaleEdit):
        staff_update(actor=cast.frank.user, staff=read, name="李小红", expected_version=read.row_version)
    assert Staff.objects.get(pk=read.pk).name == "李晓红"


def test_an_empty_name_is_refused_at_its_field(cast):
    with pytest.raises(ValidationError) as info:
        staff_update(actor=cast.frank.user, staff=cast.alice, name="  ")
    assert info.value.message_dict == {"name": ["Give the staff member's name."]}


def test_sessions_end_finds_nobody_when_nobody_is_logged_in(cast):
    assert sessions_end(cast.alice.user) == 0
