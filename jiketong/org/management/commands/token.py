"""`python -m jiketong token USERNAME`: print a new API token for that user."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiketong.org.services import token_issue


class Command(BaseCommand):
    help = "Print a new REST API token for USERNAME (only its hash is stored, so it is shown this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None, help="Days it stays valid (default: API_TOKEN_DAYS).")

    def handle(self, *args, username: str, days: int | None, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("There is no user %(username)s.") % {"username": username})
        if not user.is_active:
            raise CommandError(_("User %(username)s is disabled; a token would not work.") % {"username": username})
        if days is not None and days < 1:
            raise CommandError(_("--days must be at least 1."))
        self.stdout.write(token_issue(user=user, days=days))
