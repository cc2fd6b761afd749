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
from jiketong.core.models import AuditAction
from jiketong.core.notes import stored
from jiketong.core.validators import normalize_mobile

from .models import ApiToken, OrgUnit, Role, Staff, can

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
    unknown = set(roles) - {code for code, _label in Role.CHOICES}
    if unknown:
        errors["roles"] = [_("Unknown role: %(roles)s.") % {"roles": ", ".join(sorted(unknown))}]
    if not roles:
        errors["roles"] = [_("Give the staff member at least one role.")]
    user = User(username=username)
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
    staff = Staff.objects.create(user=user, name=name, org_unit=org_unit, rank=rank, mobile=mobile)
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
    """Close a leaver's account. Their sessions die at once (the auth backend refuses inactive users
    on every request) and their API tokens are deleted."""
    require_admin(actor)
    user = staff.user
    if user.pk == actor.pk:
        # Disabling yourself also revokes the token or session doing it, and may leave no admin at all.
        raise ValidationError(_("You cannot disable your own account: ask another administrator to do it."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    staff.left_on = left_on or timezone.localdate()
    staff.save(update_fields=["left_on", "updated_at"])
    revoked = ApiToken.objects.filter(user=user).delete()[0]
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


def require_admin(actor) -> None:
    """Accounts and the org are a system administrator's job (DOMAIN §2)."""
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only a system administrator can manage staff accounts."))


STAFF_UPDATE_FIELDS = {"name", "org_unit", "rank", "mobile", "roles"}


@transaction.atomic
def staff_update(*, actor, staff: Staff, **fields) -> Staff:
    """Change a colleague's name, org unit, rank, mobile or roles (admins only); audited like other records."""
    require_admin(actor)
    unknown = set(fields) - STAFF_UPDATE_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    staff = Staff.objects.select_for_update().select_related("user", "org_unit").get(pk=staff.pk)
    before = snapshot(staff, STAFF_AUDIT_FIELDS) | {"roles": sorted(staff.role_codes)}
    roles = fields.pop("roles", None)
    errors: dict[str, list[str]] = {}
    if roles is not None:
        unknown_roles = set(roles) - {code for code, _label in Role.CHOICES}
        if unknown_roles:
            errors["roles"] = [_("Unknown role: %(roles)s.") % {"roles": ", ".join(sorted(unknown_roles))}]
        elif not roles:
            errors["roles"] = [_("Give the staff member at least one role.")]
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
    for name, value in fields.items():
        setattr(staff, name, value)
    staff.full_clean(exclude=["user", "roles"])
    staff.save()
    if roles is not None:
        staff.roles.set(roles)
        # role_codes is cached on the instance; the answer must show the roles just set.
        staff.__dict__.pop("role_codes", None)
    after = snapshot(staff, STAFF_AUDIT_FIELDS) | {"roles": sorted(staff.role_codes)}
    record_changes(actor=actor, target=staff, customer_id=None, before=before, after=after)
    return staff
