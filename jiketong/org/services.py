"""Every write to staff, accounts and tokens."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.concurrency import check_version
from jiketong.core.models import AuditAction
from jiketong.core.notes import stored
from jiketong.core.validators import normalize_mobile

from .models import ApiToken, OrgUnit, Rank, Role, Staff, can

User = get_user_model()
STAFF_AUDIT_FIELDS = ["name", "org_unit", "rank", "mobile", "left_on"]


@transaction.atomic
def staff_create(
    *,
    actor,
    username: str,
    password: str,
    name: str,
    org_unit: OrgUnit,
    roles: list[str],
    rank: str = "",
    mobile: str = "",
) -> Staff:
    """Open an account for a new colleague: the login, the staff record and the roles, in one step."""
    require_admin(actor)
    errors = {}
    try:
        User.username_validator(username)
    except ValidationError as exc:
        errors["username"] = list(exc.messages)
    if User.objects.filter(username=username).exists():
        errors["username"] = [_("This username is already taken.")]
    errors |= _roles_errors(roles)
    if not (name or "").strip():
        errors["name"] = [_("Give the staff member's name.")]
    if org_unit is None:
        errors["org_unit"] = [_("Choose the staff member's org unit.")]
    if rank and rank not in Rank.values:
        errors["rank"] = [_("Unknown rank: %(rank)s.") % {"rank": rank}]
    user = User(username=username, first_name=(name or "")[:150])
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if mobile:
        try:
            mobile = normalize_mobile(mobile)
        except ValidationError as exc:
            errors["mobile"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    staff = Staff.objects.create(user=user, name=name.strip(), org_unit=org_unit, rank=rank, mobile=mobile)
    staff.roles.set(roles)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=staff,
        customer_id=None,
        after=snapshot(staff, STAFF_AUDIT_FIELDS) | {"roles": sorted(roles), "username": username},
    )
    return staff


@transaction.atomic
def staff_deactivate(*, actor, staff: Staff, left_on=None) -> Staff:
    """Close a leaver's account. Their sessions end at once (deleted here; the auth backend also refuses
    inactive users on every request) and their API tokens are deleted. Their customers stay theirs until a
    handover (work) gives them to someone else. Disabling an account already disabled changes nothing."""
    require_admin(actor)
    if staff.user_id == actor.pk:
        # Disabling yourself also revokes the token or session doing it, and may leave no admin at all.
        raise ValidationError(_("You cannot disable your own account: ask another administrator to do it."))
    given, staff = staff, Staff.objects.select_for_update().select_related("user", "org_unit").get(pk=staff.pk)
    user = staff.user
    if not user.is_active:
        return staff
    user.is_active = False
    user.save(update_fields=["is_active"])
    staff.left_on = left_on or timezone.localdate()
    staff.save(update_fields=["left_on", "updated_at"])
    revoked = ApiToken.objects.filter(user=user).delete()[0]
    sessions_end(user)
    _sync(given, staff)
    record(
        actor=actor,
        action=AuditAction.DEACTIVATE,
        target=staff,
        customer_id=None,
        before={"is_active": True},
        after={"is_active": False, "left_on": staff.left_on.isoformat()},
        note=stored(gettext_noop("%(n)d API tokens revoked"), n=revoked),
    )
    return staff


def token_issue(*, user, days: int | None = None) -> str:
    """Create an API token and return it; only its hash is kept, so it is shown this once."""
    key = "jkt_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash(key),
        prefix=key[:8],
        expires_at=timezone.now() + timedelta(days=days or settings.API_TOKEN_DAYS),
    )
    return key


def token_authenticate(key: str):
    """The active user a bearer token belongs to, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash(key), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # One write per minute at most: the token table must not become a hot spot.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def staff_reactivate(*, actor, staff: Staff) -> Staff:
    """Open a disabled account again (a leaver who came back, an account closed by mistake): the login works
    again with the password it had; API tokens revoked on leaving stay revoked. Audited."""
    require_admin(actor)
    given, staff = staff, Staff.objects.select_for_update().select_related("user", "org_unit").get(pk=staff.pk)
    user = staff.user
    if user.is_active:
        raise ValidationError(_("This account is already active."))
    left_on = staff.left_on
    user.is_active = True
    user.save(update_fields=["is_active"])
    staff.left_on = None
    staff.save(update_fields=["left_on", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=staff,
        customer_id=None,
        before={"is_active": False, "left_on": left_on.isoformat() if left_on else None},
        after={"is_active": True, "left_on": None},
        note=stored(gettext_noop("Account enabled again")),
    )
    _sync(given, staff)
    return staff


def _sync(given: Staff, staff: Staff) -> None:
    """The caller's instance shows the account as it now is (callers go on using the object they passed)."""
    if given is not staff:
        given.left_on, given.row_version = staff.left_on, staff.row_version
        given.user.is_active = staff.user.is_active


@transaction.atomic
def staff_set_password(*, actor, staff: Staff, password: str) -> Staff:
    """An administrator sets a colleague's password (forgotten, or a first login). Checked by the password
    rules; the colleague's open sessions end (Django ties a session to the password it was opened with) and
    so do the ones this function deletes. The audit trail says that it was set, never what to."""
    require_admin(actor)
    staff = Staff.objects.select_for_update().select_related("user").get(pk=staff.pk)
    user = staff.user
    try:
        password_validation.validate_password(password or "", user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    if user.pk != actor.pk:
        sessions_end(user)  # an administrator setting their own keeps the session doing it
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=staff,
        customer_id=None,
        note=stored(gettext_noop("Password set by an administrator")),
    )
    return staff


def password_generate() -> str:
    """A password an administrator can read out once: 4 groups of 4 letters and digits, none look-alike
    (no 0/O, 1/l/I), which the password rules accept."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        groups = ["".join(secrets.choice(alphabet) for _i in range(4)) for _g in range(4)]
        text = "-".join(groups)
        if any(c.isdigit() for c in text) and any(c.isupper() for c in text) and any(c.islower() for c in text):
            return text


def sessions_end(user) -> int:
    """Delete the user's open sessions. Sessions do not index their user, so the unexpired ones are read
    (with the idle timeout they are the sessions of the last half hour, a few per active user)."""
    from django.contrib.sessions.models import Session

    mine = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            mine.append(session.pk)
    return Session.objects.filter(pk__in=mine).delete()[0] if mine else 0


def _roles_errors(roles) -> dict[str, list[str]]:
    unknown = set(roles or ()) - {code for code, _label in Role.CHOICES}
    if unknown:
        return {"roles": [_("Unknown role: %(roles)s.") % {"roles": ", ".join(sorted(unknown))}]}
    if not roles:
        return {"roles": [_("Give the staff member at least one role.")]}
    return {}


def require_admin(actor) -> None:
    """Accounts and the org are a system administrator's job (DOMAIN §2)."""
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only a system administrator can manage staff accounts."))


STAFF_UPDATE_FIELDS = {"name", "org_unit", "rank", "mobile", "roles"}


@transaction.atomic
def staff_update(*, actor, staff: Staff, expected_version: int | None = None, **fields) -> Staff:
    """Change a colleague's name, org unit, rank, mobile or roles (admins only); audited like other records.
    `expected_version`: the version the caller read (core.concurrency); a record changed since is refused."""
    require_admin(actor)
    unknown = set(fields) - STAFF_UPDATE_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    staff = Staff.objects.select_for_update().select_related("user", "org_unit").get(pk=staff.pk)
    check_version(staff, expected_version)
    before = snapshot(staff, STAFF_AUDIT_FIELDS) | {"roles": sorted(staff.role_codes)}
    roles = fields.pop("roles", None)
    errors: dict[str, list[str]] = {}
    if "name" in fields and not (fields["name"] or "").strip():
        errors["name"] = [_("Give the staff member's name.")]
    if "org_unit" in fields and fields["org_unit"] is None:
        errors["org_unit"] = [_("Choose the staff member's org unit.")]
    if roles is not None:
        roles = list(roles)
        if role_errors := _roles_errors(roles):
            errors |= role_errors
        elif staff.user_id == actor.pk and Role.ADMIN in before["roles"] and Role.ADMIN not in roles:
            # Like disabling yourself: it takes away the right to undo it, and may leave no administrator at all.
            errors["roles"] = [_("You cannot remove your own administrator role: ask another administrator to do it.")]
    if fields.get("mobile"):
        try:
            fields["mobile"] = normalize_mobile(fields["mobile"])
        except ValidationError as exc:
            errors["mobile"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    for name, value in fields.items():
        setattr(staff, name, value)
    staff.full_clean(exclude=["user", "roles", "row_version"])
    staff.save()
    if roles is not None:
        staff.roles.set(roles)
        # role_codes is cached on the instance; the answer must show the roles just set.
        staff.__dict__.pop("role_codes", None)
    after = snapshot(staff, STAFF_AUDIT_FIELDS) | {"roles": sorted(staff.role_codes)}
    record_changes(actor=actor, target=staff, customer_id=None, before=before, after=after)
    return staff
