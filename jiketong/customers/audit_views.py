"""The audit log for auditors and administrators: every audited write in the reader's scope
(queries.audit_events), the lines as the customer history shows them (history_lines), filtered, paged, exported."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from jiketong.core import exports
from jiketong.core.listing import list_page
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.models import Role, can

from . import queries as customer_queries
from .history import history_lines

AUDIT_PAGE_SIZE = 50
AUDIT_EXPORT_CHUNK = 500  # names are looked up per chunk, as per page on screen
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("action"), choices=[("", "---------"), *AuditAction.choices], required=False
    )
    actor = forms.CharField(label=gettext_lazy("actor (name or username)"), required=False, max_length=150)
    since = forms.DateField(label=gettext_lazy("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filter(self, events):
        if not self.is_valid():
            return events.none()
        data = self.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["actor"]:
            who = data["actor"].strip()
            events = events.filter(Q(actor__username=who) | Q(actor__staff__name=who))
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
        return events


def _audit_events(request: HttpRequest):
    if not can(request.user, AUDIT_ROLES):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    return form, form.filter(customer_queries.audit_events(request.user))


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    """The audit trail for auditors and administrators (read-only), within their scope."""
    form, events = _audit_events(request)
    return list_page(
        request, "core/audit_list.html", events, per_page=AUDIT_PAGE_SIZE, capped=False,
        context=lambda page: {"form": form, "lines": history_lines(request.user, list(page.object_list))},
    )  # fmt: skip


def audit_table(user, params) -> exports.Table:
    """The filtered audit log, the lines exactly as on screen (names, labels, personal data masked), the names
    looked up per chunk of AUDIT_EXPORT_CHUNK events as per page on screen."""
    if not can(user, AUDIT_ROLES):
        raise PermissionDenied
    events = AuditFilterForm(params).filter(customer_queries.audit_events(user))
    # Up to the newest event at the time of asking: the export's own line is not in its file.
    newest = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    events = events.filter(pk__lte=newest)

    def rows():
        for chunk in exports.batches(events.iterator(chunk_size=AUDIT_EXPORT_CHUNK), AUDIT_EXPORT_CHUNK):
            for line in history_lines(user, chunk):
                changes = "\n".join(f"{c.label}: {c.before} → {c.after}" for c in line.changes)
                when = timezone.localtime(line.event.at).strftime("%Y-%m-%d %H:%M")
                who = str(line.actor) if line.actor else _("system")
                yield [when, who, line.action, line.record_type, str(line.record), changes, line.note]

    header = [_("When"), _("Who"), _("Action"), _("Record type"), _("Record"), _("Changes"), _("Note")]
    return exports.Table(what="core.auditevent", filename="audit-log", sheet=_("Audit log"), header=header,
                         rows=rows, count=events.count)  # fmt: skip


@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered audit log as .xlsx, streamed (in the background past a size), and itself logged."""
    return exports.respond(request, audit_table)
