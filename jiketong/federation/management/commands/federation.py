"""`python -m jiketong federation …`: the two-level system's commands (docs/federation.md).

On HQ:        province-add CODE NAME   register a province (or give it a new token), printed once
On a province: collect                  put what changed in the outbox (the nightly job does it too)
               sync [--loop N]          send the outbox and read HQ's directives (the frequent job does it too)
               resync --since YYYY-MM   send every row of the months from then again, changed or not
               status                   the cursor, what waits, the last error
Anywhere:     demo                     HQ and two provinces on three local ports (docs/federation.md "Demo")
"""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiketong.federation import client, collect, instance
from jiketong.federation.models import OutboxRow


def _month(text: str) -> date:
    try:
        year, month = text.split("-")[:2]
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(_("Give the month as YYYY-MM, e.g. 2026-01.")) from exc


class Command(BaseCommand):
    help = _("The two-level system: register provinces (HQ), collect, send and replay (a province).")

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("province-add", help=_("HQ: register a province and print its token."))
        add.add_argument("code")
        add.add_argument("name", nargs="?", default="")
        sub.add_parser("collect", help=_("Province: put what changed in the outbox."))
        run = sub.add_parser("sync", help=_("Province: send the outbox and read HQ's directives."))
        run.add_argument("--loop", type=float, default=0, help=_("Repeat every so many seconds."))
        again = sub.add_parser("resync", help=_("Province: send every row of the months from --since again."))
        again.add_argument("--since", required=True, help="YYYY-MM")
        sub.add_parser("status", help=_("Province: the cursor and the last error."))
        demo = sub.add_parser("demo", help=_("Start HQ and two provinces on three local ports."))
        demo.add_argument("--base-port", type=int, default=8100)
        demo.add_argument("--groups", type=int, default=60)
        demo.add_argument("--var", default="")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, action.replace("-", "_"))(**options)

    def province_add(self, *, code: str, name: str, **options) -> None:
        from jiketong.federation.services import federation_actor, province_add

        if not instance.serves_national_views():
            raise CommandError(_("Provinces are registered on the HQ instance."))
        province, token = province_add(actor=federation_actor(), code=code, name=name)
        self.stdout.write(_("Province %(name)s registered. Its token (shown once):") % {"name": province})
        self.stdout.write(token)

    def _province(self) -> None:
        if not instance.is_province():
            raise CommandError(_("This is not a province instance (set JIKETONG_INSTANCE=province)."))

    def collect(self, **options) -> None:
        self._province()
        self.stdout.write(_("%(n)s rows queued.") % {"n": collect.collect()})

    def sync(self, *, loop: float, **options) -> None:
        self._province()
        while True:
            result, applied = client.sync(force=True)
            if result.failed:
                self.stderr.write(_("Sending failed: %(error)s") % {"error": result.error})
            else:
                self.stdout.write(
                    _("%(rows)s rows sent in %(batches)s batches, %(applied)s directives applied.")
                    % {"rows": result.sent, "batches": result.batches, "applied": applied}
                )
            if not loop:
                if result.failed:
                    raise CommandError(result.error)
                return
            time.sleep(loop)

    def resync(self, *, since: str, **options) -> None:
        self._province()
        rows = collect.resync(_month(since))
        self.stdout.write(_("%(n)s rows queued again; the next sync sends them.") % {"n": rows})

    def status(self, **options) -> None:
        self._province()
        state = client.state()
        waiting = OutboxRow.objects.filter(pk__gt=state.sent_through).count()
        self.stdout.write(
            _("Sent through %(seq)s; %(waiting)s rows waiting; last success %(ok)s; failures in a row %(n)s %(error)s")
            % {
                "seq": state.sent_through,
                "waiting": waiting,
                "ok": state.last_success_at or "-",
                "n": state.failures,
                "error": state.last_error,
            }
        )

    def demo(self, *, base_port: int, groups: int, var: str, **options) -> None:
        from jiketong.federation.localdemo import run

        run(base_port=base_port, groups=groups, var=var, out=self.stdout)
