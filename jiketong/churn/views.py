"""The warning list (流失预警), its export and the one-click retention task. Thin: reads in queries.py,
writes in services.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiketong.core import exports
from jiketong.core.htmx import is_partial
from jiketong.core.listing import list_page
from jiketong.customers import queries as customer_queries

from . import queries, rules, services
from .models import ChurnScore

PAGE_SIZE = 20
# The risk inbox counts up to 1,000 alerts ("1000+"): each counted alert is read with its customer for the scope,
# so the count costs what a thousand alerts cost for a province of any size (decision 1002).
INBOX_COUNT_CAP = 1_000


@require_GET
def warning_list(request: HttpRequest) -> HttpResponse:
    warning_filter, queryset = queries.warnings(request.user, request.GET)
    return list_page(request, "churn/warnings.html", queryset, per_page=PAGE_SIZE, context={"filter": warning_filter})


def export_table(user, params) -> exports.Table:
    """The filtered warning list as plain values; the reasons in the current language."""
    _filter, queryset = queries.warnings(user, params)
    risks = {key: str(label) for key, label in ChurnScore._meta.get_field("risk").flatchoices}
    values = exports.rows_of(queryset, "customer__number", "customer__name", "customer__org_unit__name",
                             "customer__owner__name", "score", "risk", "reasons", "scored_on")  # fmt: skip

    def rows():
        for number, name, unit, owner, score, risk, reasons, scored_on in values():
            reasons = "；".join(rules.describe(r) for r in reasons or [])
            yield [number or "", name, unit, owner or "", score, risks.get(risk, risk), reasons, scored_on]

    header = [_("Customer number"), _("Customer"), _("Region"), _("Customer manager"), _("Risk score"),
              _("Risk level"), _("Reasons"), _("Scored on")]  # fmt: skip
    return exports.Table(what="churn.churnscore", filename="churn-warnings", sheet=_("Churn warnings"),
                         header=header, rows=rows, count=queryset.count)  # fmt: skip


@require_GET
def warning_export(request: HttpRequest) -> HttpResponse:
    """The filtered warning list as .xlsx, streamed (in the background past a size); logged."""
    return exports.respond(request, export_table)


@require_POST
def retention_task(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """One click on a warning: a retention task for the customer's manager (never a second open one)."""
    customer = customer_queries.customer_get(request.user, customer_pk)
    try:
        task, created = services.retention_task_create(actor=request.user, customer=customer)
    except ValidationError as exc:
        error = "; ".join(exc.messages)
        if is_partial(request):
            return render(request, "churn/_task_button.html", {"error": error, "customer": customer}, status=400)
        messages.error(request, error)
        return redirect("churn:warnings")
    if is_partial(request):
        return render(request, "churn/_task_button.html", {"task": task, "created": created, "customer": customer})
    if created:
        messages.success(request, _("Retention task created for %(owner)s.") % {"owner": task.owner.name})
    else:
        messages.info(request, _("This customer already has an open retention task."))
    return redirect("churn:warnings")


# --- the risk inbox (风险提醒) ---------------------------------------------------------------------------
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    alert_filter, queryset = queries.alerts(request.user, request.GET)
    return list_page(
        request,
        "churn/alerts.html",
        queryset,
        per_page=PAGE_SIZE,
        cap=INBOX_COUNT_CAP,
        context={"filter": alert_filter},
    )


def _alert_answer(request, alert, *, error: str = "", done: str = "") -> HttpResponse:
    """The alert's row again for HTMX (with the error, 400), else back to the inbox with a message."""
    if is_partial(request):
        alert = queries.alert_get(request.user, alert.pk)
        return render(request, "churn/_alert_row.html", {"a": alert, "error": error}, status=400 if error else 200)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect("churn:alerts")


@require_POST
def alert_acknowledge(request: HttpRequest, alert_pk: int) -> HttpResponse:
    alert = queries.alert_get(request.user, alert_pk)
    services.alert_acknowledge(actor=request.user, alert=alert)
    return _alert_answer(request, alert, done=_("Alert acknowledged."))


@require_POST
def alert_resolve(request: HttpRequest, alert_pk: int) -> HttpResponse:
    alert = queries.alert_get(request.user, alert_pk)
    try:
        services.alert_resolve(actor=request.user, alert=alert, note=request.POST.get("note", ""))
    except ValidationError as exc:
        return _alert_answer(request, alert, error="; ".join(exc.messages))
    return _alert_answer(request, alert, done=_("Alert resolved."))


@require_POST
def alert_retention(request: HttpRequest, alert_pk: int) -> HttpResponse:
    """One click on an alert: the retention task (and its defence case), as from a warning."""
    alert = queries.alert_get(request.user, alert_pk)
    try:
        task, created = services.alert_retention_open(actor=request.user, alert=alert)
    except ValidationError as exc:
        return _alert_answer(request, alert, error="; ".join(exc.messages))
    if created:
        done = _("Retention task created for %(owner)s.") % {"owner": task.owner.name}
    else:
        done = _("This customer already has an open retention task.")
    return _alert_answer(request, alert, done=done)
