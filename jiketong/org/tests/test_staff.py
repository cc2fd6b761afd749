"""Staff accounts: opening them with checked usernames, roles and passwords; who sees which colleagues."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.models import ApiToken, Role, Staff, can, staff_of
from jiketong.org.services import staff_create, staff_deactivate, token_issue

STRONG = "Gz-metro-2026!"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def create(cast, **fields):
    values = {
        "username": "xiaoming",
        "password": STRONG,
        "name": "刘小明",
        "org_unit": cast.org["440106"],
        "roles": [Role.CUSTOMER_MANAGER],
    }
    return staff_create(actor=cast.frank.user, **(values | fields))


def errors_of(cast, **fields) -> dict:
    with pytest.raises(ValidationError) as info:
        create(cast, **fields)
    return info.value.message_dict


def test_admin_opens_an_account_that_can_log_in(cast, client):
    staff = create(cast, rank="manager", mobile="+86 139 0000 0001")
    assert (staff.name, staff.rank, staff.mobile, staff.role_codes) == (
        "刘小明",
        "manager",
        "13900000001",
        {Role.CUSTOMER_MANAGER},
    )
    assert staff.user.check_password(STRONG)
    response = client.post("/accounts/login/", {"username": "xiaoming", "password": STRONG})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_opening_an_account_is_audited(cast):
    staff = create(cast)
    event = AuditEvent.objects.get(action=AuditAction.CREATE, target_type="org.staff", target_id=staff.pk)
    assert event.actor == cast.frank.user
    assert event.after["username"] == "xiaoming"
    assert event.after["roles"] == [Role.CUSTOMER_MANAGER]
    assert STRONG not in str(event.after)


def test_username_must_be_unique(cast):
    assert errors_of(cast, username="alice") == {"username": ["This username is already taken."]}


def test_username_must_be_a_valid_login_name(cast):
    assert list(errors_of(cast, username="liu xiaoming")) == ["username"]
    assert list(errors_of(cast, username="")) == ["username"]


def test_unknown_role_is_refused(cast):
    assert errors_of(cast, roles=["boss"]) == {"roles": ["Unknown role: boss."]}


def test_at_least_one_role_is_needed(cast):
    assert errors_of(cast, roles=[]) == {"roles": ["Give the staff member at least one role."]}


@pytest.mark.parametrize(
    "password, reason",
    [
        ("Ab1!", "too short"),
        ("password123", "too common"),
        ("58204719365", "entirely numeric"),
        ("xiaoming2026", "too similar"),
    ],
)
def test_weak_password_is_refused_with_the_reason(cast, password, reason):
    errors = errors_of(cast, password=password)
    assert list(errors) == ["password"]
    assert any(reason in message for message in errors["password"])
    assert not testing.User.objects.filter(username="xiaoming").exists()


def test_every_bad_field_is_reported_at_once(cast):
    errors = errors_of(cast, username="alice", roles=[], password="123", mobile="12345")
    assert set(errors) == {"username", "roles", "password", "mobile"}


@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_only_admins_open_accounts(cast, persona):
    with pytest.raises(PermissionDenied):
        staff_create(
            actor=getattr(cast, persona).user,
            username="xiaoming",
            password=STRONG,
            name="刘小明",
            org_unit=cast.org["440106"],
            roles=[Role.ADMIN],
        )
    assert not testing.User.objects.filter(username="xiaoming").exists()


def test_only_admins_disable_accounts(cast):
    with pytest.raises(PermissionDenied):
        staff_deactivate(actor=cast.carol.user, staff=cast.alice)
    cast.alice.user.refresh_from_db()
    assert cast.alice.user.is_active


def test_an_admin_cannot_disable_their_own_account(cast):
    token_issue(user=cast.frank.user)
    with pytest.raises(ValidationError) as info:
        staff_deactivate(actor=cast.frank.user, staff=cast.frank)
    assert info.value.messages == ["You cannot disable your own account: ask another administrator to do it."]
    frank = Staff.objects.get(pk=cast.frank.pk)
    assert frank.is_active and frank.left_on is None
    assert ApiToken.objects.filter(user=cast.frank.user).count() == 1


def test_disabled_staff_keeps_its_record_and_loses_every_right(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.alice)
    staff = Staff.objects.get(pk=cast.alice.pk)
    assert staff.left_on is not None and not staff.is_active
    user = testing.User.objects.get(pk=cast.alice.pk)
    assert not can(user, Role.EDIT_ROLES)


def test_colleagues_are_visible_within_the_province(cast):
    def names(persona):
        return set(Staff.objects.visible_to(getattr(cast, persona).user).values_list("user__username", flat=True))

    guangdong = {"alice", "bob", "ivan", "carol", "frank", "grace"}
    assert names("alice") == guangdong
    assert names("dave") == {"dave"}
    assert names("erin") == guangdong | {"dave", "erin"}


def test_staff_of_caches_the_record_per_user(cast, django_assert_num_queries):
    user = testing.User.objects.get(pk=cast.alice.pk)
    with django_assert_num_queries(2):  # the staff row with its org unit, then the roles
        assert staff_of(user) == cast.alice
        assert staff_of(user).role_codes == {Role.CUSTOMER_MANAGER}
        assert staff_of(user) is staff_of(user)
