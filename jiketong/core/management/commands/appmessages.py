"""`python -m jiketong appmessages APP`: extract and compile one app's Chinese catalogue into the app's own
`locale/`, so apps translate their strings without sharing (and fighting over) one big .po file.

Django's makemessages would file every string under `jiketong/` into the project catalogue (LOCALE_PATHS),
so it runs here from the app's directory with LOCALE_PATHS emptied.

`appmessages project` does the project catalogue (jiketong/locale): the archive's apps without a catalogue of
their own (core, customers, api, demo) and the templates in jiketong/templates/. It runs from the
repository root and leaves out every app that has its own catalogue, so their strings are not swept in.
"""

import os
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

# Never part of a catalogue: tests, migrations, and what lies outside the application.
NOT_SOURCES = [
    "*/tests/*", "*/tests_browser/*", "*/tests_scope/*", "*/migrations/*", "jiketong/testing.py",
    "jiketong/conftest.py", "node_modules/*", "benchmarks/*", "scripts/*", "docs/*", "var/*", "*.egg-info/*",
]  # fmt: skip


def own_catalogue_apps() -> list[Path]:
    """The apps under jiketong/ that keep their own locale/ (appmessages APP)."""
    root = Path(settings.BASE_DIR) / "jiketong"
    return sorted(p.parent for p in root.glob("*/locale") if p.parent.name != "jiketong" and p.parent != root)


class Command(BaseCommand):
    help = "Update and compile an app's zh_Hans message catalogue in <app>/locale/ (or the project's: 'project')."

    def add_arguments(self, parser) -> None:
        parser.add_argument("app", help="App label, e.g. sales; or 'project' for jiketong/locale")
        parser.add_argument("--compile-only", action="store_true", help="Only compile the .po into .mo.")

    def handle(self, *args, app: str, compile_only: bool, **options) -> None:
        if app == "project":
            self._project(compile_only)
            return
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

    def _project(self, compile_only: bool) -> None:
        base = Path(settings.BASE_DIR)
        ignore = [*NOT_SOURCES, *(f"{p.relative_to(base)}/*" for p in own_catalogue_apps())]
        cwd = os.getcwd()
        os.chdir(base)
        try:
            if not compile_only:
                call_command(
                    "makemessages", locale=["zh_Hans"], ignore_patterns=ignore, no_obsolete=True,
                    add_location="file", verbosity=0,
                )  # fmt: skip
            call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=ignore, verbosity=0)
        finally:
            os.chdir(cwd)
        self.stdout.write(str(Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.po"))
