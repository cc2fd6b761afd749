"""Writing the audit trail. Services call these inside their transaction.

Personal data never lands in the trail in clear: the values of the fields a model declares in `PERSONAL_FIELDS`
are masked by the one masking rule (`core.validators.mask_personal`), and mobile numbers in any other text are
masked too. AuditEvent applies `core.masking.mask_event` on every save and bulk_create, so `record()` and the
services that bulk-create events (imports, handovers) are covered alike; readers apply it again for rows older
than the rule.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models

from .models import AuditAction, AuditEvent


def _json_value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The audited fields of a record as JSON-ready values (foreign keys as ids)."""
    data = {}
    for name in fields:
        field = instance._meta.get_field(name)
        value = getattr(instance, field.attname) if field.is_relation else getattr(instance, name)
        data[name] = _json_value(value)
    return data


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose value differs, so a history line shows what really changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    *,
    actor,
    action: AuditAction,
    target: models.Model,
    customer_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_repr=str(target)[:200],
        customer_id=customer_id,
        before=before,
        after=after,
        note=note[:500],
    )


def record_changes(
    *, actor, target: models.Model, customer_id: int | None, before: dict, after: dict
) -> AuditEvent | None:
    """Audit a save with only the fields that changed (an empty `before` means the record is new);
    a save that changed nothing leaves no event."""
    old, new = changed(before, after)
    if not new:
        return None
    action = AuditAction.UPDATE if before else AuditAction.CREATE
    return record(actor=actor, action=action, target=target, customer_id=customer_id, before=old or None, after=new)


def record_export(*, actor, what: str, count: int, filters: str = "", **extra) -> AuditEvent:
    """An export of records leaves the building: log who took how many of what, with which filters (and, from
    core.exports, whether it ran in the background and where a cap stopped it)."""
    return AuditEvent.objects.create(
        actor=actor,
        action=AuditAction.EXPORT,
        target_type=what,
        target_repr=f"{what} × {count}",
        after={"count": count, "filters": filters, **extra},
    )
