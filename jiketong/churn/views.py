"""The warning list (流失预警), its export and the one-click retention task. Thin: reads in queries.py,
writes in services.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiketong.core.audit import record_export
from jiketong.core.xlsx import Workbook
from jiketong.customers import queries as customer_queries

from . import queries, rules, services

PAGE_SIZE = 20
EXPORT_CAP = 10_000


def _partial_request(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


@require_GET
def warning_list(request: HttpRequest) -> HttpResponse:
    warning_filter, queryset = queries.warnings(request.user, request.GET)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": warning_filter, "page": page}
    if _partial_request(request):
        return render(request, "churn/warnings.html#table", context)
    return render(request, "churn/warnings.html", context)


@require_GET
def warning_export(request: HttpRequest) -> HttpResponse:
    """The filtered warning list as .xlsx (capped, logged)."""
    _filter, queryset = queries.warnings(request.user, request.GET)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Churn warnings")[:31])
    sheet.append([_("Customer number"), _("Customer"), _("Region"), _("Customer manager"), _("Risk score"),
                  _("Risk level"), _("Reasons"), _("Scored on")])  # fmt: skip
    count = 0
    for score in queryset[:EXPORT_CAP].iterator(chunk_size=2000):
        customer = score.customer
        sheet.append([
            customer.number or "", customer.name, customer.org_unit.name, str(customer.owner or ""), score.score,
            score.get_risk_display(), "；".join(rules.describe(r) for r in score.reasons), score.scored_on,
        ])  # fmt: skip
        count += 1
    params = request.GET.copy()
    params.pop("page", None)
    record_export(actor=request.user, what="churn.churnscore", count=count, filters=params.urlencode())
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="churn-warnings.xlsx"'
    workbook.save(response)
    return response


@require_POST
def retention_task(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """One click on a warning: a retention task for the customer's manager (never a second open one)."""
    customer = customer_queries.customer_get(request.user, customer_pk)
    try:
        task, created = services.retention_task_create(actor=request.user, customer=customer)
    except ValidationError as exc:
        error = "; ".join(exc.messages)
        if _partial_request(request):
            return render(request, "churn/_task_button.html", {"error": error, "customer": customer}, status=400)
        messages.error(request, error)
        return redirect("churn:warnings")
    if _partial_request(request):
        return render(request, "churn/_task_button.html", {"task": task, "created": created, "customer": customer})
    if created:
        messages.success(request, _("Retention task created for %(owner)s.") % {"owner": task.owner.name})
    else:
        messages.info(request, _("This customer already has an open retention task."))
    return redirect("churn:warnings")
