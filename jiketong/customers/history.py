"""The audit trail as lines a person reads: field labels, names instead of ids, phone numbers masked.

Used by the 360 page's change history and by the audit log, so both show an event the same way.
"""

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiketong.catalog.models import Product
from jiketong.core.models import AuditEvent
from jiketong.core.validators import mask_email, mask_mobile
from jiketong.org.models import OrgUnit, Staff

from . import queries
from .models import Industry


@dataclass
class HistoryChange:
    label: str
    before: str
    after: str


@dataclass
class HistoryLine:
    event: AuditEvent
    changes: list[HistoryChange]


EXTRA_LABELS = {
    "parent": gettext_lazy("parent group"),
    "related": gettext_lazy("related customer"),
    "members_added": gettext_lazy("members added"),
    "members_removed": gettext_lazy("members removed"),
    "dates": gettext_lazy("important dates"),
    "count": gettext_lazy("count"),
    "filters": gettext_lazy("filters"),
}
PHONE_KEYS = {"mobile", "phone"}
PHONE_LIST_KEYS = {"members_added", "members_removed"}
PHONE_LIST_SHOWN = 10
# Which table a foreign-key id in the trail points to, so it can be shown by name.
REFERENCE_KEYS = {
    "owner": "staff",
    "backup_owner": "staff",
    "org_unit": "org_unit",
    "industry": "industry",
    "parent": "customer",
    "related": "customer",
    "product": "product",
}


def _references(user, events: list[AuditEvent]) -> dict[str, dict]:
    """Names for the ids that appear on this page of the trail: one query per kind, not per row."""
    wanted: dict[str, set] = {kind: set() for kind in set(REFERENCE_KEYS.values())}
    for event in events:
        for key, before, after in event.changes():
            kind = REFERENCE_KEYS.get(key)
            if kind:
                wanted[kind].update(v for v in (before, after) if v not in (None, ""))
    names: dict[str, dict] = {kind: {} for kind in wanted}
    if wanted["staff"]:
        names["staff"] = dict(Staff.objects.filter(pk__in=wanted["staff"]).values_list("user_id", "name"))
    if wanted["org_unit"]:
        names["org_unit"] = dict(OrgUnit.objects.filter(pk__in=wanted["org_unit"]).values_list("pk", "name"))
    if wanted["industry"]:
        names["industry"] = dict(Industry.objects.filter(pk__in=wanted["industry"]).values_list("pk", "name"))
    if wanted["customer"]:
        # Only customers the user may see are named; others stay an anonymous id.
        names["customer"] = dict(
            queries.customers_visible(user).filter(pk__in=wanted["customer"]).values_list("pk", "name")
        )
    if wanted["product"]:
        names["product"] = dict(Product.objects.filter(pk__in=wanted["product"]).values_list("pk", "name"))
    return names


def _model_field(target_type: str, key: str):
    try:
        return apps.get_model(target_type)._meta.get_field(key)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None


def _show(event: AuditEvent, key: str, value: Any, names: dict[str, dict]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if key in PHONE_KEYS:
        return mask_mobile(str(value))
    if key == "email":
        return mask_email(str(value))
    if key in PHONE_LIST_KEYS and isinstance(value, list):
        shown = ", ".join(mask_mobile(str(v)) for v in value[:PHONE_LIST_SHOWN])
        more = len(value) - PHONE_LIST_SHOWN
        return shown + (_(" … and %(n)d more") % {"n": more} if more > 0 else "")
    if key in REFERENCE_KEYS:
        return str(names[REFERENCE_KEYS[key]].get(value, f"#{value}"))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    field = _model_field(event.target_type, key)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def history_lines(user, events: list[AuditEvent]) -> list[HistoryLine]:
    """The audit events as lines a person reads: field labels, names for ids, phone numbers masked."""
    names = _references(user, events)
    lines = []
    for event in events:
        changes = []
        for key, before, after in event.changes():
            field = _model_field(event.target_type, key)
            label = field.verbose_name if field is not None else EXTRA_LABELS.get(key, key)
            change = HistoryChange(str(label), _show(event, key, before, names), _show(event, key, after, names))
            if change.before != change.after:  # a created record's empty fields say nothing
                changes.append(change)
        lines.append(HistoryLine(event, changes))
    return lines
