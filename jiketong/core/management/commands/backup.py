"""`python -m jiketong backup [--output DIR]`: database and media files in one archive (docs/operations.md)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jiketong.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and media files into one .tar.gz (safe while the system runs)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", default=str(Path(settings.VAR_DIR) / "backups"), help="Directory to write to.")

    def handle(self, *args, output: str, **options) -> None:
        try:
            path = backup(Path(output))
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
