"""`python -m jiketong billing import FILE --kind facts|members [--mode all|good] [--confirm-drop] [--user NAME]`:
import a BOSS file in this process, with progress on the terminal (the web upload runs the same code in the
task worker). In good-rows mode a file that would leave a month with far fewer rows stops unless
`--confirm-drop` is given. `python -m jiketong billing points --since YYYY-MM` rebuilds the points ledger, e.g.
after the points rule changed. `python -m jiketong billing remove --period YYYY-MM [--kind members]` takes
months out (loaded by mistake); the indicators follow as after an import."""

from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from jiketong.billing import services
from jiketong.billing.imports import Checker, RowError
from jiketong.billing.models import ImportKind, ImportMode, ImportStatus
from jiketong.billing.points import refresh_points


class Command(BaseCommand):
    help = "Import BOSS billing files; rebuild loyalty points."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        load = commands.add_parser("import", help="Import a CSV or XLSX file.")
        load.add_argument("file", type=Path)
        load.add_argument("--kind", choices=ImportKind.values, default=ImportKind.FACTS)
        load.add_argument("--mode", choices=ImportMode.values, default=ImportMode.ALL_OR_NOTHING)
        load.add_argument("--user", help="Username recorded as the importer (default: the first superuser).")
        load.add_argument(
            "--confirm-drop",
            action="store_true",
            help="In good-rows mode, replace months even when the file holds far fewer rows (BILLING_MAX_DROP).",
        )
        points = commands.add_parser("points", help="Rebuild the points ledger from a month on.")
        points.add_argument("--since", required=True, help="YYYY-MM")
        remove = commands.add_parser("remove", help="Remove loaded months of one kind.")
        remove.add_argument("--period", action="append", required=True, help="YYYY-MM (repeat for several)")
        remove.add_argument("--kind", choices=ImportKind.values, default=ImportKind.FACTS)
        remove.add_argument("--user", help="Username recorded as the remover (default: the first superuser).")

    def handle(self, *args, command: str, **options):
        if command == "points":
            try:
                since = date.fromisoformat(Checker().period(options["since"]))
            except RowError as exc:
                raise CommandError(str(exc)) from exc
            months = refresh_points(since)
            self.stdout.write(f"{months} months rebuilt from {since:%Y-%m}.")
            return
        if command == "remove":
            self._remove(options["period"], options["kind"], self._user(options["user"]))
            return
        user = self._user(options["user"])
        try:
            run = services.import_file(actor=user, path=options["file"], kind=options["kind"], mode=options["mode"],
                                       confirm_drop=options["confirm_drop"])  # fmt: skip
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        run = services.run_import(run.pk, on_progress=self._progress)
        self.stdout.write(f"\n#{run.pk} {run.get_status_display()}: {run.message}")
        if run.error_path:
            self.stdout.write(f"Error report: {run.error_path}")
        if run.status == ImportStatus.FAILED:
            raise CommandError(run.message)
        if run.status == ImportStatus.CONFIRM:
            raise CommandError(f"{run.message} (--confirm-drop)")

    def _remove(self, periods: list[str], kind: str, user) -> None:
        try:
            months = [date.fromisoformat(Checker().period(period)) for period in periods]
            run = services.period_remove(actor=user, kind=kind, periods=months)
        except RowError as exc:
            raise CommandError(str(exc)) from exc
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stdout.write(f"#{run.pk} {run.get_status_display()}: {run.message}")

    def _progress(self, run) -> None:
        self.stdout.write(f"\r{run.rows_total:,} rows read ({run.progress}%)", ending="")
        self.stdout.flush()

    @staticmethod
    def _user(username: str | None):
        users = get_user_model().objects.filter(is_active=True)
        user = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
        if user is None:
            raise CommandError(f"No active user {username}." if username else "No superuser; pass --user.")
        return user
