"""No lost updates: a version on each record people edit, checked where the write happens (decision 0015).

Every edited record (customer, contact, lead, opportunity, quote, contract, ticket) carries `row_version`, an
integer that every write adds one to in the same UPDATE (`VersionedModel.save`, `bump()` for queryset updates).
Whoever read a record knows the version they read; a service given that `expected_version` re-reads the row
under `select_for_update` and, when the row has moved on, raises `StaleEdit` instead of writing over a change
its caller never saw. The check and the write share the row lock, so two saves of the same version cannot
both pass.

Where the version travels:
- forms: `VersionedForm` adds two hidden fields, the version the page was read at and when (NetBox's
  `_init_time`), and refuses a stale save in `clean()` with the other person's changes next to the user's
  (read from the audit trail since the page was read); the refused form carries the current version, so
  saving again overwrites knowingly;
- the API: `W/"<version>"` in the ETag of a record's GET and PATCH answers; `If-Match` on PATCH and DELETE
  becomes the `expected_version` (see api/base.py: 412 on a mismatch). If-Match stays optional.
"""

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import AuditEvent
from .validators import mask_personal

VERSION_FIELD = "row_version"
READ_AT_FIELD = "row_read_at"
EXPECTED = "expected_version"  # the services' keyword, in a versioned form's cleaned_data and service_data()


class VersionedModel(models.Model):
    """A record two people may edit at once: `row_version` goes up by one with every write to the row."""

    # db_default too: the bulk writers (COPY, multi-row INSERT of core.bulk) name only the columns they fill.
    row_version = models.PositiveIntegerField(gettext_lazy("row version"), default=1, db_default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if self._state.adding or kwargs.get("force_insert") or (update_fields is not None and not update_fields):
            super().save(*args, **kwargs)
            return
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, VERSION_FIELD}
        read = self.row_version
        # In the UPDATE itself, so a write that did not lock the row still moves the version on.
        self.row_version = F(VERSION_FIELD) + 1
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.row_version = read
            raise
        # At least the version written: when another write slipped in between (no row lock), the real one is
        # higher and a check against this value errs on the side of refusing.
        self.row_version = read + 1


def bump() -> dict[str, Any]:
    """The version step for a queryset update: `Customer.objects.filter(...).update(owner=x, **bump())`."""
    return {VERSION_FIELD: F(VERSION_FIELD) + 1}


class StaleEdit(ValidationError):
    """A save based on an older version of the record than the one now stored. Carries the record as it is
    now (`instance`), the version the caller had read (`expected`) and the current one (`current`)."""

    def __init__(self, instance: VersionedModel, expected: int):
        self.instance = instance
        self.expected = expected
        self.current = instance.row_version
        super().__init__(
            _(
                "Someone else changed this record while you were editing it (you read version %(expected)s, it "
                "is now at version %(current)s). Open it again to see their change before you save yours."
            ),
            code="stale",
            params={"expected": expected, "current": self.current},
        )

    def changes(self, since: dt.datetime | None = None) -> list[AuditEvent]:
        """The audit events on the record since `since` (who changed what, when), oldest first."""
        return changes_since(self.instance, since)


def check_version(instance: VersionedModel, expected_version: int | None) -> None:
    """Refuse to write over a version the caller never saw. Call it on the row the service has just re-read
    with `select_for_update`, before it changes anything; `None` (no version given) skips the check."""
    if expected_version is not None and int(expected_version) != instance.row_version:
        raise StaleEdit(instance, int(expected_version))


def changes_since(instance: models.Model, since: dt.datetime | None) -> list[AuditEvent]:
    """Audit events on `instance` after `since` (the core_audit_target index), oldest first."""
    if since is None:
        return []
    events = AuditEvent.objects.filter(
        target_type=instance._meta.label_lower, target_id=instance.pk, at__gt=since
    ).select_related("actor")
    return list(events.order_by("at", "id")[:50])


# --- the API -----------------------------------------------------------------------------------------
def etag(instance: VersionedModel) -> str:
    """Weak: it names the record's version, not the bytes of an answer (counts shown beside a record change
    without a write to it)."""
    return f'W/"{instance.row_version}"'


_TAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')


def expected_from_if_match(header: str | None) -> int | None:
    """The version an `If-Match` header names: None when it is absent or `*` (no check); 0, which no record
    has, for a header naming no version of ours (so it answers 412, as the standard asks)."""
    if header is None or not header.strip() or header.strip() == "*":
        return None
    match = _TAG.match(header)
    return int(match.group(1)) if match else 0


# --- forms -------------------------------------------------------------------------------------------
def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


class VersionedForm:
    """Mixin for the edit form of a VersionedModel (first in the bases): the page carries the version it was
    read at, and a save of an older version is refused in `clean()` with what changed meanwhile.

    The record is the ModelForm's instance, or `record=` for a plain form. The version read reaches the service
    as `expected_version`, which the service checks again under the row lock (for a save racing this one):
    it is in `cleaned_data` (views that pass `**form.cleaned_data`) and in `service_data()` (model forms), so
    an edit view needs no code of its own for it. Without the hidden fields in the post (a page opened before
    this existed), nothing is checked. Audit keys a form names differently map through its `error_fields`
    ({"model field": "form field"}), as for errors."""

    def __init__(self, *args, record: models.Model | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        self.record = record if record is not None else (instance if getattr(instance, "pk", None) else None)
        self.expected_version: int | None = None
        self.stale = False
        if self.record is not None:
            self.fields[VERSION_FIELD] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, min_value=0, max_value=2**62
            )
            self.fields[READ_AT_FIELD] = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
            self.initial[VERSION_FIELD] = self.record.row_version
            self.initial[READ_AT_FIELD] = timezone.now().isoformat()

    def clean(self):
        data = super().clean()
        if self.record is None:
            return data
        expected = data.pop(VERSION_FIELD, None)
        read_at = parse_datetime(data.pop(READ_AT_FIELD, None) or "")
        if expected is not None and expected != self.record.row_version:
            self._refuse_stale(data, read_at)
            expected = None  # refused here: a rehearsal of the service (core.forms.submit) need not say it again
        self.expected_version = data[EXPECTED] = expected
        return data

    def service_data(self, **kwargs) -> dict:
        data = super().service_data(**kwargs)
        if self.record is not None:
            data[EXPECTED] = self.expected_version
        return data

    # The refusal: who changed which field to what, against what this user typed.
    def _refuse_stale(self, data: dict, read_at: dt.datetime | None) -> None:
        self.stale = True
        events = changes_since(self.record, read_at)
        names = self._fields_changed_by(events) if events else []
        if not names:
            names = [name for name in self._visible_names() if name in data]
        rows = [
            (name, theirs, yours)
            for name in names
            if (theirs := self._theirs(name)) is not None and (yours := self._shown(name, data.get(name))) != theirs
        ]
        self.add_error(None, self._headline(events))
        for name, theirs, yours in rows:
            self.add_error(
                None,
                _("%(field)s: they made it “%(theirs)s”, you entered “%(yours)s”")
                % {"field": self.fields[name].label or name, "theirs": theirs, "yours": yours},
            )
        if not rows:
            self.add_error(None, _("Their change is in fields this form does not show."))
        self.add_error(None, _("Check the form: saving it again keeps what it shows now and replaces their change."))
        # Asked again: the page now carries the current version, so the next save is a knowing overwrite.
        self.data = self.data.copy()
        self.data[self.add_prefix(VERSION_FIELD)] = str(self.record.row_version)
        self.data[self.add_prefix(READ_AT_FIELD)] = timezone.now().isoformat()

    def _headline(self, events: list[AuditEvent]) -> str:
        from .access import person_text

        if not events:
            return _("Someone else changed this record while you were editing it:")
        cache: dict = {}
        who = list(dict.fromkeys(person_text(e.actor, unit=False, cache=cache) or _("the system") for e in events))
        at = timezone.localtime(events[-1].at)
        when = (
            formats.time_format(at, "H:i") if at.date() == timezone.localdate() else formats.date_format(at, "m-d H:i")
        )
        return _("While you were editing, %(who)s changed this record at %(time)s:") % {
            "who": "、".join(who),
            "time": when,
        }

    def _visible_names(self) -> list[str]:
        return [name for name, field in self.fields.items() if not field.widget.is_hidden and not field.disabled]

    def _fields_changed_by(self, events: Iterable[AuditEvent]) -> list[str]:
        renamed = getattr(self, "error_fields", {})
        keys = {renamed.get(key, key) for event in events for key in (*(event.after or {}), *(event.before or {}))}
        return [name for name in self._visible_names() if name in keys]

    def _theirs(self, name: str) -> str | None:
        """The record's value of a form field as shown to this user (personal data masked), None if the
        field is not one of the record's."""
        values = model_to_dict(self.record, fields=[name])
        if name not in values:
            return None
        value = values[name]
        if name in getattr(self.record, "PERSONAL_FIELDS", ()):
            return self._shown(None, mask_personal(value))
        return self._shown(name, value)

    def _shown(self, name: str | None, value: Any) -> str:
        if _is_empty(value):
            return _("(empty)")
        field = self.fields.get(name) if name else None
        if isinstance(field, forms.ModelChoiceField):
            if not isinstance(value, models.Model):
                value = field.queryset.model._base_manager.filter(pk=value).first()
            return field.label_from_instance(value) if value is not None else _("(empty)")
        if isinstance(field, forms.BooleanField) or isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(field, forms.ChoiceField):
            for key, label in field.choices:
                if isinstance(label, list | tuple):
                    continue
                if str(key) == str(value):
                    return str(label)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        return str(value)


def with_etag(response, instance: VersionedModel):
    """Put the record's ETag on the answer an API handler is building (ninja's temporal `response`); returns
    the record, so a handler ends `return with_etag(response, record)`."""
    response["ETag"] = etag(instance)
    return instance
