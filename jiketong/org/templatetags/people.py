"""`{% person user %}`: a person as colleagues know them, by their staff name and unit, not by their login.

Views pass users (a stage change's `changed_by`, a quote's `submitted_by`). Before a list, `{% people rows "actor" %}`
looks up everyone the rows name in one query; `person` then reads them from the request's cache (and looks up
anyone not prefetched once per request), so a list costs one query, not one per row."""

from django import template
from django.utils.translation import gettext as _

from jiketong.org.models import Staff

register = template.Library()


def _cache(context) -> dict:
    request = context.get("request")
    if request is None:
        return {}
    if not hasattr(request, "_jiketong_people"):
        request._jiketong_people = {}
    return request._jiketong_people


def _staff(ids) -> dict:
    found = Staff.objects.filter(pk__in=ids).select_related("org_unit").only("name", "org_unit__name")
    return {pk: None for pk in ids} | {staff.pk: staff for staff in found}


def person_text(user, *, unit: bool = True, cache: dict | None = None) -> str:
    if user is None or not getattr(user, "pk", None):
        return ""
    cache = {} if cache is None else cache
    if user.pk not in cache:
        cache.update(_staff([user.pk]))
    staff = cache[user.pk]
    if staff is None:
        return user.get_full_name() or user.get_username()
    if unit:
        return _("%(name)s (%(unit)s)") % {"name": staff.name, "unit": staff.org_unit.name}
    return staff.name


@register.simple_tag(takes_context=True)
def people(context, rows, attr: str) -> str:
    """Look up, in one query, the people that `rows` name in `attr` (a user foreign key); renders nothing."""
    cache = _cache(context)
    ids = {getattr(row, f"{attr}_id", None) for row in rows or ()} - {None} - set(cache)
    if ids:
        cache.update(_staff(ids))
    return ""


@register.simple_tag(takes_context=True)
def person(context, user, unit: bool = True) -> str:
    """李晓红 (天河区分公司); `unit=False` for the name alone. Empty for no one."""
    return person_text(user, unit=unit, cache=_cache(context))
