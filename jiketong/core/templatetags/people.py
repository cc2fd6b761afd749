"""`{% person user %}`: a person as colleagues know them, by their staff name and unit, not by their login.

Views pass users (a stage change's `changed_by`, a quote's `submitted_by`); the tag looks each person up once
per request, so a list of events costs one query per person shown, not one per row."""

from django import template
from django.utils.translation import gettext as _

from jiketong.org.models import Staff

register = template.Library()


def person_text(user, *, unit: bool = True, cache: dict | None = None) -> str:
    if user is None or not getattr(user, "pk", None):
        return ""
    cache = {} if cache is None else cache
    if user.pk not in cache:
        # staff_of() may have loaded it already (the request's own user).
        loaded = getattr(user, "_jiketong_staff", None)
        staff = Staff.objects.filter(pk=user.pk).select_related("org_unit").only("name", "org_unit__name")
        cache[user.pk] = loaded if loaded is not None else staff.first()
    staff = cache[user.pk]
    if staff is None:
        return user.get_full_name() or user.get_username()
    if unit:
        return _("%(name)s (%(unit)s)") % {"name": staff.name, "unit": staff.org_unit.name}
    return staff.name


@register.simple_tag(takes_context=True)
def person(context, user, unit: bool = True) -> str:
    """李晓红 (天河区分公司); `unit=False` for the name alone. Empty for no one."""
    request = context.get("request")
    cache = getattr(request, "_jiketong_people", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._jiketong_people = cache
    return person_text(user, unit=unit, cache=cache)
