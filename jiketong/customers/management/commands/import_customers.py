"""`python -m jiketong import_customers FILE [--mode all|good] [--match uscc|number] [--action upsert|create|update]
[--allow-same-name] [--user NAME]`: import customers, key persons and members from a survey sheet or a BOSS
customer master (customers.imports) in this process, with progress on the terminal; the web upload runs the same
code (in the task worker for a large file). Exits non-zero when nothing was loaded."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from jiketong.core.imports import RunMode, RunStatus
from jiketong.customers import imports
from jiketong.customers.models import ImportAction, ImportMatch


class Command(BaseCommand):
    help = "Import customers with their key persons and members from an .xlsx or .csv file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--mode",
            choices=RunMode.values,
            default=RunMode.ALL_OR_NOTHING,
            help="all: one bad row stops the file; good: the good rows land.",
        )
        parser.add_argument(
            "--match",
            choices=ImportMatch.values,
            default=ImportMatch.USCC,
            help="Match rows to customers by credit code or by customer number (集团编号).",
        )
        parser.add_argument(
            "--action",
            choices=ImportAction.values,
            default=ImportAction.UPSERT,
            help="upsert: update the customers found and create the others; create or update only.",
        )
        parser.add_argument(
            "--allow-same-name", action="store_true", help="Create customers even when one with the same name exists."
        )
        parser.add_argument("--user", help="Username recorded as the importer (default: the first superuser).")

    def handle(self, *args, file: Path, mode: str, match: str, action: str, allow_same_name: bool, user, **options):
        actor = self._user(user)
        try:
            run = imports.import_path(
                actor=actor, path=file, mode=mode, match=match, action=action, allow_same_name=allow_same_name
            )
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        run = imports.run_archive_import(run.pk, on_tick=self._progress)
        self.stdout.write(f"\n#{run.pk} {run.get_status_display()}: {run.message}")
        if run.error_path:
            self.stdout.write(f"Error report: {run.error_path}")
        if run.status == RunStatus.FAILED:
            raise CommandError(run.message)

    def _progress(self, fraction: float, fields: dict) -> None:
        self.stdout.write(f"\r{int(fraction * 100)}%", ending="")
        self.stdout.flush()

    @staticmethod
    def _user(username: str | None):
        users = get_user_model().objects.filter(is_active=True)
        user = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
        if user is None:
            raise CommandError(f"No active user {username}." if username else "No superuser; pass --user.")
        return user
