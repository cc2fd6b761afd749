"""`python -m jiketong restore ARCHIVE --yes`: replace this installation's data with a backup and verify it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jiketong.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database and media files with a backup made by `backup`, then verify rows and audit trail."

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive")
        parser.add_argument("--yes", action="store_true", help="Confirm that the current data is to be replaced.")

    def handle(self, *args, archive: str, yes: bool, **options) -> None:
        if not yes:
            raise CommandError("This replaces every record and file of this installation. Run again with --yes.")
        try:
            result = restore(Path(archive))
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if not (result["rows_match"] and result["audit_match"]):
            raise CommandError(
                f"Restored, but the check failed: rows {result['rows_match']}, audit {result['audit_match']}"
            )
        total = sum(result["manifest"]["rows"].values())
        self.stdout.write(f"Restored {total} rows from {result['manifest']['created_at']}; audit trail verified.")
