"""Template helpers for the UI: masking personal data, money, dates and role checks."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

from jiketong.core.money import format_yuan
from jiketong.core.notes import readable
from jiketong.core.validators import mask_email, mask_mobile
from jiketong.org.models import Role, can

register = template.Library()

# What a template may ask about the user; the role sets themselves live in jiketong.org.models.Role.
ABILITIES: dict[str, frozenset[str]] = {
    "edit": Role.EDIT_ROLES,
    "reveal": Role.REVEAL_ROLES,
    "assign": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "audit": frozenset({Role.AUDITOR, Role.ADMIN}),
    "admin": frozenset({Role.ADMIN}),
}


@register.filter
def can_do(user, ability: str) -> bool:
    """`{% if user|can_do:"edit" %}`: show a button only to those the service would let through."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return can(user, ABILITIES[ability])


@register.filter
def masked(value: str | None) -> str:
    """138****1234."""
    return mask_mobile(value or "")


@register.filter
def masked_email(value: str | None) -> str:
    return mask_email(value or "")


@register.filter
def yuan(value) -> str:
    """¥1,234.50; empty for None."""
    if value is None or value == "":
        return ""
    try:
        return format_yuan(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter
def ymd(value) -> str:
    """Dates as YYYY-MM-DD whatever the language; datetimes in local time with minutes."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


@register.filter
def minutes(value) -> int:
    """A timedelta (axes' cool-off) in whole minutes."""
    if isinstance(value, dt.timedelta):
        return max(1, round(value.total_seconds() / 60))
    return value


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return f"{number.normalize():f}%" if number == number.to_integral() else f"{number:.2f}%"


@register.simple_tag
def yes_no(value) -> str:
    return _("Yes") if value else _("No")


@register.simple_tag(takes_context=True)
def querystring_page(context, param: str, value) -> str:
    """`?…&<param>=<value>`: the current query string with one parameter replaced, so paging keeps filters."""
    query = context["request"].GET.copy()
    query[param] = value
    return "?" + query.urlencode()


# Words a service stored as a message (core.notes), shown in the reader's language.
register.filter("readable", readable)
