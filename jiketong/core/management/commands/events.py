"""`python -m jiketong events`: which app reacts to which event; `events run` handles what is due."""

from django.core.management.base import BaseCommand

from jiketong.core import events


class Command(BaseCommand):
    help = "List the domain events and who reacts to each (default), or `run` the reactions that are due."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", nargs="?", choices=["list", "run"], default="list")

    def handle(self, *args, action: str, **options) -> None:
        if action == "run":
            self.stdout.write(f"{events.run_due()} reactions handled")
            return
        table = events.subscriptions()
        for name, (description, fields) in events.EVENTS.items():
            self.stdout.write(f"{name}  — {description}")
            self.stdout.write(f"    payload: {', '.join(fields)}")
            for label, reaction in table[name] or [("-", None)]:
                if reaction is None:
                    self.stdout.write("    (no reaction)")
                    continue
                mode = "background task" if reaction.background else "in process"
                self.stdout.write(f"    {label}: {reaction.path} ({mode})")
