"""`python -m jiketong jobs daily|frequent [--at ISO]`: run every app's scheduled work.

Each app may have a `jobs.py` with `daily(today: date) -> str` (once a day, early morning: visit tasks,
reminders, digests, scores) and `frequent(now: datetime) -> str` (every few minutes: SLA breaches).
Both must be idempotent, so cron may run them again after a failure. See docs/operations.md.
"""

import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jiketong.core.registry import app_modules


class Command(BaseCommand):
    help = "Run the scheduled jobs of every app: `daily` (once a day) or `frequent` (every few minutes)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("schedule", choices=["daily", "frequent"])
        parser.add_argument("--at", help="Run as of this local date or datetime (ISO), e.g. 2026-11-23.")

    def handle(self, *args, schedule: str, at: str | None, **options) -> None:
        now = timezone.localtime()
        if at:
            try:
                parsed = datetime.fromisoformat(at)
            except ValueError as exc:
                raise CommandError(f"--at: {exc}") from exc
            now = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        for module in app_modules("jobs"):
            job = getattr(module, schedule, None)
            if job is None:
                continue
            started = time.monotonic()
            summary = job(now.date()) if schedule == "daily" else job(now)
            self.stdout.write(f"{module.__name__}.{schedule}: {summary} ({time.monotonic() - started:.1f} s)")
