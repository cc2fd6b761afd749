"""`python -m jiketong demo`: load deterministic demo data and print the demo logins."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiketong.core import events
from jiketong.demo import generator
from jiketong.demo.generator import DEMO_PASSWORD, demo_logins, generate, is_empty

DEFAULT_HOST = "127.0.0.1:8000"  # runserver's default; `make demo HOST=…` passes its own


def demo_url(host: str) -> str:
    """The address to open for a runserver `addrport` (`8000`, `0.0.0.0:8000`, `[::1]:8000`, `name:80`)."""
    host = (host or DEFAULT_HOST).strip()
    if host.isdigit():
        host = f"127.0.0.1:{host}"
    return f"http://{host}/"


class Command(BaseCommand):
    help = _("Generate demo data: org tree, staff with one login per role, catalog and group customers.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--groups", type=int, default=300, help=_("Number of group customers (default 300)."))
        parser.add_argument("--seed", type=int, default=2026, help=_("Random seed; the same seed gives the same data."))
        parser.add_argument(
            "--host",
            default=DEFAULT_HOST,
            help=_("Address the server listens on, as given to runserver (default 127.0.0.1:8000)."),
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--if-empty", action="store_true", help=_("Do nothing but print the logins if data already exists.")
        )
        mode.add_argument(
            "--reset", action="store_true", help=_("Delete existing customers, staff, users and org units first.")
        )

    def handle(self, *args, groups: int, seed: int, if_empty: bool, reset: bool, host: str, **options) -> None:
        self.url = demo_url(host)
        if groups < 1:
            raise CommandError(_("--groups must be at least 1."))
        if not is_empty():
            if if_empty:
                self.stdout.write(_("Demo data already present; nothing generated."))
                self.print_logins()
                return
            if not reset:
                raise CommandError(
                    _("The database already holds data. Use --reset to replace it, or --if-empty to keep it.")
                )
            self.stdout.write(_("Deleting existing data…"))
            generator.reset()
        started = time.monotonic()
        progress = self.stdout.write if groups >= 20000 else None
        counts = generate(groups=groups, seed=seed, progress=progress)
        elapsed = time.monotonic() - started
        self.run_daily_jobs()
        total = sum(counts.values())
        self.stdout.write(
            _("Generated %(groups)s group customers, %(rows)s rows in %(seconds).1f s (%(rate)s rows/s).")
            % {
                "groups": f"{groups:,}",
                "rows": f"{total:,}",
                "seconds": elapsed,
                "rate": f"{total / elapsed:,.0f}",
            }
        )
        self.stdout.write(", ".join(f"{table} {count:,}" for table, count in counts.items()))
        self.print_logins()

    def run_daily_jobs(self) -> None:
        """The morning after the load, as cron would run it: churn scores and their warnings, contract and
        competitor reminders, visit tasks and digests, the indicator summary, and the reactions they cause."""
        call_command("jobs", "daily", stdout=self.stdout)
        # The reactions the jobs left to the task worker (a group's risk re-rolled after a churn warning…), so the
        # first page shows a finished morning whether or not a worker is running yet.
        self.stdout.write(f"events: {events.run_pending()} background reactions handled")

    def print_logins(self) -> None:
        rows = [(_("Username"), _("Role"), _("Org unit"), _("Password"))]
        rows += [(username, role, unit, DEMO_PASSWORD) for username, role, unit in demo_logins()]
        widths = [max(_width(row[i]) for row in rows) for i in range(4)]
        self.stdout.write("")
        for row in rows:
            self.stdout.write(
                "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True))
            )
        self.stdout.write("")
        self.stdout.write(_("Open %(url)s and log in with one of the accounts above.") % {"url": self.url})


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))
