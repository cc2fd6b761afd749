"""The audit trail as lines a person reads: who (by name, with their unit), what (the action and the kind of
record in the reader's language), which record (by name, linked where the reader may open it) and each change
with its field label, related records by name (or "hidden" outside the reader's scope), choices by their label
and personal data masked by the one rule (core.audit.mask_audit_values).

Used by the 360 page's change history, by the audit log and its export, so all show an event the same way.
The names on a page are looked up in one query per kind of record, whatever the number of rows.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiketong.core.masking import mask_audit_values, personal_fields
from jiketong.core.models import AuditEvent
from jiketong.core.notes import readable
from jiketong.core.validators import mask_text
from jiketong.org.models import Role, Staff

from . import queries

EMPTY = "—"
LIST_SHOWN = 10  # a bulk change lists this many values, then "… and n more"

EXTRA_LABELS = {
    "parent": gettext_lazy("parent group"),
    "related": gettext_lazy("related customer"),
    "members_added": gettext_lazy("members added"),
    "members_removed": gettext_lazy("members removed"),
    "dates": gettext_lazy("important dates"),
    "count": gettext_lazy("count"),
    "filters": gettext_lazy("filters"),
    "lead": gettext_lazy("lead"),
    "new_version": gettext_lazy("new version"),
    "previous": gettext_lazy("previous version"),
    "supervisors": gettext_lazy("supervisors told"),
    "breach": gettext_lazy("breach"),
    "roles": gettext_lazy("roles"),
    "username": gettext_lazy("username"),
    "is_active": gettext_lazy("active"),
    "level": gettext_lazy("approval level"),
    "answers": gettext_lazy("answers"),
}
# Keys that hold a record's id without being a foreign key of the audited model.
EXTRA_REFERENCES = {
    "parent": "customers.customer",
    "related": "customers.customer",
    "lead": "sales.lead",
    "new_version": "deals.quote",
    "previous": "deals.quote",
    "supervisors": "org.staff",
}
# Kinds of record that are exported under a name of their own rather than a model label.
EXPORT_TYPES = {
    "work.follow_ups": gettext_lazy("follow-up compliance"),
    "work.absent_users": gettext_lazy("users without a login"),
    "analytics.indicators": gettext_lazy("indicator report"),
    "analytics.drill": gettext_lazy("indicator drill-down"),
    "analytics.segments": gettext_lazy("customer segments"),
}
# Where a record is opened: (url name, whose id). Records that live on the 360 page open the customer.
ON_CUSTOMER_PAGE = {
    "customers.customer",
    "customers.contact",
    "customers.contactdate",
    "customers.contactrelation",
    "customers.member",
    "customers.affiliation",
    "customers.competitorpresence",
    "customers.gradechange",
    "catalog.subscription",
}
DETAIL_URLS = {
    "sales.lead": "sales:lead_detail",
    "sales.opportunity": "sales:opportunity_detail",
    "deals.quote": "deals:quote_detail",
    "deals.contract": "deals:contract_detail",
    "deals.order": "deals:order_detail",
    "service.ticket": "service:ticket_detail",
    "service.survey": "service:survey_detail",
    "work.task": "work:task_detail",
    "work.activity": "work:activity_detail",
}
NAME_FIELDS = ("name", "number", "title", "subject")
# Reference data: anyone may read its names; it has no page of its own to link to.
UNSCOPED = {"org.staff", "org.orgunit", "customers.industry", "catalog.product", "sales.stage"}


@dataclass
class Shown:
    """A value as shown: its text, a link when the reader may open the record, `hidden` outside their scope."""

    text: str
    url: str = ""
    hidden: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass
class Person:
    name: str
    unit: str = ""

    def __str__(self) -> str:
        return _("%(name)s (%(unit)s)") % {"name": self.name, "unit": self.unit} if self.unit else self.name


@dataclass
class HistoryChange:
    label: str
    before: Shown
    after: Shown


@dataclass
class HistoryLine:
    event: AuditEvent
    changes: list[HistoryChange]
    action: str = ""
    record_type: str = ""
    record: Shown = field(default_factory=lambda: Shown(EMPTY))
    actor: Person | None = None
    note: str = ""


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _model_field(target_type: str, key: str):
    model = _model(target_type)
    try:
        return model._meta.get_field(key) if model else None
    except FieldDoesNotExist:
        return None


def _reference(target_type: str, key: str) -> str | None:
    """The model label of the record a key's value points to, if it is a reference."""
    model_field = _model_field(target_type, key)
    if model_field is not None and model_field.many_to_one and model_field.related_model is not None:
        return model_field.related_model._meta.label_lower
    return EXTRA_REFERENCES.get(key)


def _ids(value: Any) -> list:
    """The primary keys in a value: ids, or codes for models keyed by a code (industries)."""
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int | str) and not isinstance(v, bool) and v != ""]


def _valid_pk(model: type[models.Model], value) -> bool:
    try:
        return model._meta.pk.to_python(value) == value
    except ValidationError:
        return False


def _url(label: str, pk: int, customer_id: int | None = None) -> str:
    try:
        if label in ON_CUSTOMER_PAGE:
            target = pk if label == "customers.customer" else customer_id
            return reverse("customers:detail", args=[target]) if target else ""
        if label in DETAIL_URLS:
            return reverse(DETAIL_URLS[label], args=[pk])
    except NoReverseMatch:
        return ""
    return ""


class _Names:
    """Names of every record a page of the trail mentions, one query per model."""

    def __init__(self, user) -> None:
        self.user = user
        self.wanted: dict[str, set] = defaultdict(set)
        self.names: dict[str, dict] = {}
        self.people: dict[int, Person] = {}

    def want(self, label: str, value: Any) -> None:
        self.wanted[label].update(_ids(value))

    def load(self) -> None:
        for label, ids in self.wanted.items():
            model = _model(label)
            ids = {pk for pk in ids if model is not None and _valid_pk(model, pk)}
            if ids:
                self.names[label] = self._fetch(label, ids)

    def _fetch(self, label: str, ids: set) -> dict:
        if label == "org.staff":
            staff = Staff.objects.filter(pk__in=ids).select_related("org_unit").only("name", "org_unit__name")
            self.people = {s.pk: Person(s.name, s.org_unit.name) for s in staff}
            return {pk: Shown(str(person)) for pk, person in self.people.items()}
        if label == "customers.customer":
            rows = queries.customers_visible(self.user).filter(pk__in=ids).values_list("pk", "name")
            return {pk: Shown(name, _url(label, pk)) for pk, name in rows}
        model = _model(label)
        if model is None:
            return {}
        manager = model._default_manager
        scoped = label not in UNSCOPED and hasattr(manager, "visible_to")
        records = (manager.visible_to(self.user) if scoped else manager.all()).filter(pk__in=ids)
        names = {f.name for f in model._meta.concrete_fields}
        name_field = next((n for n in NAME_FIELDS if n in names), None)
        with_customer = label in ON_CUSTOMER_PAGE and "customer" in names
        if name_field:
            columns = ["pk", name_field, *(["customer_id"] if with_customer else [])]
            rows = [(row[0], row[1], row[2] if with_customer else None) for row in records.values_list(*columns)]
        else:
            rows = [(r.pk, str(r), getattr(r, "customer_id", None)) for r in records.select_related()]
        return {pk: Shown(mask_text(str(name)), _url(label, pk, customer_id)) for pk, name, customer_id in rows}

    def shown(self, label: str, pk) -> Shown:
        found = self.names.get(label, {}).get(pk)
        if found is not None:
            return found
        if label in UNSCOPED or not self._scoped(label):
            return Shown(f"#{pk}")
        return Shown(_("hidden"), hidden=True)

    def _scoped(self, label: str) -> bool:
        if label == "customers.customer":
            return True
        model = _model(label)
        return model is not None and hasattr(model._default_manager, "visible_to")

    def person(self, user_id: int | None, username: str) -> Person | None:
        if user_id is None:
            return None
        return self.people.get(user_id) or Person(username)


def _join(items: list[str]) -> str:
    shown = ", ".join(items[:LIST_SHOWN])
    more = len(items) - LIST_SHOWN
    return shown + (_(" … and %(n)d more") % {"n": more} if more > 0 else "")


ROLE_LABELS = dict(Role.CHOICES)


def _show(event: AuditEvent, key: str, value: Any, names: _Names) -> Shown:
    if value is None or value == "" or value == []:
        return Shown(EMPTY)
    if key in personal_fields(event.target_type):  # already masked by the one rule
        return Shown(_join([str(v) for v in value]) if isinstance(value, list) else str(value))
    label = _reference(event.target_type, key)
    if label and _ids(value):
        shown = [names.shown(label, pk) for pk in _ids(value)]
        if len(shown) == 1:
            return shown[0]
        return Shown(_join([s.text for s in shown]))
    if isinstance(value, bool):
        return Shown(_("Yes") if value else _("No"))
    if key == "roles" and isinstance(value, list):
        return Shown(_join([str(ROLE_LABELS.get(v, v)) for v in value]))
    model_field = _model_field(event.target_type, key)
    choices = dict(model_field.flatchoices) if model_field is not None and model_field.choices else {}
    if isinstance(value, list):
        return Shown(_join([str(choices.get(v, v)) for v in value]))
    if isinstance(value, dict):
        return Shown("; ".join(f"{k}: {v}" for k, v in value.items()))
    return Shown(str(choices.get(value, value)))


def record_type_label(target_type: str, plural: bool = False) -> str:
    """The kind of record in the reader's language (`sales.opportunity` → 商机)."""
    if target_type in EXPORT_TYPES:
        return str(EXPORT_TYPES[target_type])
    model = _model(target_type)
    if model is None:
        return target_type
    return str(model._meta.verbose_name_plural if plural else model._meta.verbose_name)


DEFAULT_REPR = re.compile(r"^\w+ object \(\d+\)$")  # a model without __str__


def _record(event: AuditEvent, names: _Names) -> Shown:
    """The record the event is about, linked when the reader may open it; hidden outside their scope."""
    label, text = event.target_type, event.target_repr or EMPTY
    if DEFAULT_REPR.match(text):
        text = record_type_label(label)
    if event.target_id is None:
        return Shown(text)
    if label in ON_CUSTOMER_PAGE:
        customer_id = event.target_id if label == "customers.customer" else event.customer_id
        visible = customer_id in names.names.get("customers.customer", {})
        return Shown(text, _url("customers.customer", customer_id) if visible else "")
    if label in DETAIL_URLS:
        found = names.names.get(label, {}).get(event.target_id)
        if found is not None:
            return Shown(text, found.url)
        if names._scoped(label):
            return Shown(_("hidden"), hidden=True)
    return Shown(text)


def history_lines(user, events: list[AuditEvent]) -> list[HistoryLine]:
    """The audit events as lines a person reads (see the module docstring)."""
    names = _Names(user)
    masked = []
    for event in events:
        before = mask_audit_values(event.target_type, event.before) or {}
        after = mask_audit_values(event.target_type, event.after) or {}
        masked.append((event, before, after))
        if event.actor_id:
            names.want("org.staff", event.actor_id)
        if event.target_id is not None and event.target_type in ON_CUSTOMER_PAGE:
            customer_id = event.target_id if event.target_type == "customers.customer" else event.customer_id
            names.want("customers.customer", customer_id)
        elif event.target_id is not None and event.target_type in DETAIL_URLS:
            names.want(event.target_type, event.target_id)
        personal = personal_fields(event.target_type)
        for key in set(before) | set(after):
            label = _reference(event.target_type, key)
            if label and key not in personal:
                names.want(label, before.get(key))
                names.want(label, after.get(key))
    names.load()
    lines = []
    for event, before, after in masked:
        record = _record(event, names)
        changes = []
        if not record.hidden:
            for key in sorted(set(before) | set(after)):
                model_field = _model_field(event.target_type, key)
                label = model_field.verbose_name if model_field is not None else EXTRA_LABELS.get(key, key)
                change = HistoryChange(
                    str(label), _show(event, key, before.get(key), names), _show(event, key, after.get(key), names)
                )
                if change.before.text != EMPTY or change.after.text != EMPTY:  # a new record's empty fields
                    changes.append(change)
        lines.append(
            HistoryLine(
                event=event,
                changes=changes,
                action=str(event.get_action_display()),
                record_type=record_type_label(event.target_type, plural=event.action == "export"),
                record=record,
                actor=names.person(event.actor_id, event.actor.get_username() if event.actor_id else ""),
                note="" if record.hidden else mask_text(readable(event.note)),
            )
        )
    return lines
