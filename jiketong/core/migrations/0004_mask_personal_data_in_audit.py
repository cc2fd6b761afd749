"""Mask the personal data that audit rows written before the trail masked at write time still hold in clear
(a lead contact's mobile, a deleted contact's birthday, member numbers): the trail must not keep them."""

from django.db import migrations

BATCH = 1000


def mask_existing_rows(apps, schema_editor):
    # The masking rule reads each model's PERSONAL_FIELDS, which live on the real model classes.
    from jiketong.core.masking import mask_audit_values
    from jiketong.core.validators import mask_text

    AuditEvent = apps.get_model("core", "AuditEvent")
    fields = ["before", "after", "note", "target_repr"]
    changed = []
    for event in AuditEvent.objects.order_by("pk").only("pk", "target_type", *fields).iterator(chunk_size=BATCH):
        masked = (
            mask_audit_values(event.target_type, event.before),
            mask_audit_values(event.target_type, event.after),
            mask_text(event.note),
            mask_text(event.target_repr),
        )
        if masked != (event.before, event.after, event.note, event.target_repr):
            event.before, event.after, event.note, event.target_repr = masked
            changed.append(event)
        if len(changed) >= BATCH:
            AuditEvent.objects.bulk_update(changed, fields)
            changed = []
    if changed:
        AuditEvent.objects.bulk_update(changed, fields)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_events")]

    operations = [migrations.RunPython(mask_existing_rows, migrations.RunPython.noop, elidable=True)]
