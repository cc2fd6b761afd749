"""Masking the audit trail's personal data: the values of the fields a model declares in `PERSONAL_FIELDS` by the
one masking rule (`core.validators.mask_personal`), mobile numbers in any other text too. Below the audit model:
AuditEvent masks itself with `mask_event` on every save and bulk_create (core.models), and core.audit writes it."""

from functools import cache
from typing import TYPE_CHECKING, Any

from django.apps import apps

from .validators import mask_personal, mask_text

if TYPE_CHECKING:
    from .models import AuditEvent


@cache
def personal_fields(target_type: str) -> frozenset[str]:
    """The keys of an audited record (`app_label.model`) that hold personal data, as its model declares them."""
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return frozenset()
    return frozenset(getattr(model, "PERSONAL_FIELDS", ()))


def _mask_free_text(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_mask_free_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _mask_free_text(item) for key, item in value.items()}
    return value


def mask_audit_values(target_type: str, data: dict | None) -> dict | None:
    """`before`/`after` of an event on a `target_type` record with its personal fields masked."""
    if not data:
        return data
    personal = personal_fields(target_type)
    return {key: mask_personal(value) if key in personal else _mask_free_text(value) for key, value in data.items()}


def mask_event(event: "AuditEvent") -> "AuditEvent":
    """Mask an event's personal data in place (before it is written, or before it is shown)."""
    event.before = mask_audit_values(event.target_type, event.before)
    event.after = mask_audit_values(event.target_type, event.after)
    event.note = mask_text(event.note)
    event.target_repr = mask_text(event.target_repr)
    return event
