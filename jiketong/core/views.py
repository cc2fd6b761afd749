"""The workbench (home) and the audit log."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from jiketong.customers import queries as customer_queries
from jiketong.customers.history import history_lines
from jiketong.customers.models import Grade, LifecycleStatus
from jiketong.org.models import Role, can

from .models import AuditAction

AUDIT_PAGE_SIZE = 50
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The user's portfolio at a glance: visible customers by grade and status, each count a link."""
    counts = {(row["grade"], row["status"]): row["n"] for row in customer_queries.grade_status_counts(request.user)}
    statuses = LifecycleStatus.choices
    rows = []
    for grade, _label in Grade.choices:
        cells = [(status, counts.get((grade, status), 0)) for status, _s in statuses]
        rows.append({"grade": grade, "cells": cells, "total": sum(n for _s, n in cells)})
    status_totals = [(status, sum(counts.get((g, status), 0) for g, _l in Grade.choices)) for status, _s in statuses]
    context = {
        "rows": rows,
        "statuses": statuses,
        "status_totals": status_totals,
        "total": sum(counts.values()),
    }
    return render(request, "core/home.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("action"), choices=[("", "---------"), *AuditAction.choices], required=False)
    actor = forms.CharField(label=_("actor (username)"), required=False, max_length=150)
    since = forms.DateField(label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filter(self, events):
        if not self.is_valid():
            return events.none()
        data = self.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["actor"]:
            events = events.filter(actor__username=data["actor"].strip())
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
        return events


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    """The audit trail for auditors and administrators (read-only), within their scope."""
    if not can(request.user, AUDIT_ROLES):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    events = form.filter(customer_queries.audit_events(request.user))
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "lines": history_lines(request.user, list(page.object_list))}
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render(request, "core/audit_list.html#table", context)
    return render(request, "core/audit_list.html", context)
