"""Billing pages: imports (analysts and admins) and a customer's points statement. Thin: reads from
queries.py, writes through services.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from jiketong.core.htmx import is_partial
from jiketong.customers import queries as customer_queries
from jiketong.customers.forms import apply_errors

from . import queries, services
from .forms import ImportForm

RUNS_PAGE_SIZE = 25
POINTS_PAGE_SIZE = 24



@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.import_runs(request.user), RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/import_list.html", {"page": page})


def import_new(request: HttpRequest) -> HttpResponse:
    services.require_import(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.import_upload(actor=request.user, upload=form.cleaned_data["file"],
                                         kind=form.cleaned_data["kind"], mode=form.cleaned_data["mode"])  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("billing:import_detail", pk=run.pk)
    return render(request, "billing/import_new.html", {"form": form})


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's progress; while it runs, the status card polls itself every second (HTMX)."""
    run = queries.import_run_get(request.user, pk)
    template = "billing/import_detail.html#status" if is_partial(request) else "billing/import_detail.html"
    return render(request, template, {"run": run, "may_decide": services.may_decide(request.user, run)})


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The uploader agrees to replace months with far fewer rows: the run goes back in the queue."""
    return _decide(request, pk, services.import_confirm_drop)


@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, services.import_cancel)


def _decide(request: HttpRequest, pk: int, service) -> HttpResponse:
    run = queries.import_run_get(request.user, pk)
    try:
        service(actor=request.user, run_id=run.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("billing:import_detail", pk=run.pk)


@require_GET
def import_errors(request: HttpRequest, pk: int) -> FileResponse:
    run, path = queries.error_report(request.user, pk)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"import-{run.pk}-errors.csv",
                        content_type="text/csv; charset=utf-8")  # fmt: skip


@require_GET
def customer_points(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = customer_queries.customer_get(request.user, customer_pk)
    page = Paginator(queries.points_of(request.user, customer.pk), POINTS_PAGE_SIZE).get_page(request.GET.get("page"))
    summary = queries.points_summary(request.user, customer.pk)
    return render(request, "billing/points.html", {"customer": customer, "page": page, "summary": summary})
