"""`python -m jiketong appmessages APP`: extract and compile one app's Chinese catalogue into the app's own
`locale/`, so apps translate their strings without sharing (and fighting over) one big .po file.

Django's makemessages would file every string under `jiketong/` into the project catalogue (LOCALE_PATHS),
so it runs here from the app's directory with LOCALE_PATHS emptied.
"""

import os
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test.utils import override_settings


class Command(BaseCommand):
    help = "Update and compile an app's zh_Hans message catalogue in <app>/locale/."

    def add_arguments(self, parser) -> None:
        parser.add_argument("app", help="App label, e.g. sales")
        parser.add_argument("--compile-only", action="store_true", help="Only compile the .po into .mo.")

    def handle(self, *args, app: str, compile_only: bool, **options) -> None:
        root = Path(apps.get_app_config(app).path)
        (root / "locale").mkdir(exist_ok=True)
        cwd = os.getcwd()
        os.chdir(root)
        try:
            with override_settings(LOCALE_PATHS=[]):
                if not compile_only:
                    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
                call_command("compilemessages", locale=["zh_Hans"], verbosity=0)
        finally:
            os.chdir(cwd)
        self.stdout.write(str(root / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
