"""The backup drill: back up, destroy, restore, and the rows and the audit trail are as they were."""

import pytest
from django.core.management import CommandError, call_command

from jiketong.core import backup
from jiketong.core.audit import record
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import Customer


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restore_brings_back_every_row_file_and_audit_event(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    attachment = settings.MEDIA_ROOT / "contracts" / "signed.pdf"
    attachment.parent.mkdir(parents=True)
    attachment.write_bytes(b"%PDF-1.4 signed")
    record(actor=cast.alice.user, action=AuditAction.UPDATE, target=cast.alice_customer,
           customer_id=cast.alice_customer.pk, before={"name": "旧"}, after={"name": "新"})  # fmt: skip
    rows, audit = backup.row_counts(), backup.audit_checksum()
    archive = backup.backup(tmp_path / "backups")

    Customer.objects.filter(pk=cast.alice_customer.pk).update(name="被篡改")
    AuditEvent.objects.filter(pk=AuditEvent.objects.order_by("pk").first().pk).update(note="tampered")
    AuditEvent.objects.order_by("-pk").first().delete()
    attachment.unlink()
    assert backup.audit_checksum() != audit

    call_command("restore", str(archive), "--yes")
    assert backup.row_counts() == rows
    assert backup.audit_checksum() == audit
    assert Customer.objects.get(pk=cast.alice_customer.pk).name == "广州地铁集团有限公司"
    assert attachment.read_bytes() == b"%PDF-1.4 signed"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_asks_for_confirmation_and_refuses_what_is_not_a_backup(cast, tmp_path):
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "x.tar.gz"))
    import tarfile

    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz"):
        pass
    with pytest.raises(CommandError, match="not a Jiketong backup"):
        call_command("restore", str(bogus), "--yes")
    assert Customer.objects.filter(pk=cast.alice_customer.pk).exists()
