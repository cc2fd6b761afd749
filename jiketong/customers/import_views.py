"""The archive import pages (supervisors and administrators): upload, a run's progress, its error report.
Thin: the work is customers.imports; reads of runs are its queries below (a run is its uploader's)."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from jiketong.core.imports import RunMode
from jiketong.core.listing import paginate, render_htmx

from . import imports
from .forms import BootstrapMixin, apply_errors
from .models import CustomerImportRun, ImportAction, ImportMatch

RUNS_PAGE_SIZE = 20


class ArchiveImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("file (.xlsx or .csv)"))
    match = forms.ChoiceField(
        label=gettext_lazy("match rows to customers"), choices=ImportMatch.choices, initial=ImportMatch.USCC
    )
    action = forms.ChoiceField(
        label=gettext_lazy("what the rows do"), choices=ImportAction.choices, initial=ImportAction.UPSERT
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("when a row is wrong"), choices=RunMode.choices, initial=RunMode.ALL_OR_NOTHING
    )
    allow_same_name = forms.BooleanField(
        label=gettext_lazy("Create customers even when one with the same name exists"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


def archive_import(request: HttpRequest) -> HttpResponse:
    """The upload form and the importer's recent runs."""
    imports.require_import(request.user)
    form = ArchiveImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = imports.archive_import_start(
                actor=request.user,
                upload=data["file"],
                mode=data["mode"],
                match=data["match"],
                action=data["action"],
                allow_same_name=data["allow_same_name"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("customers:import_run", archive_run_pk=run.pk)
    page = paginate(request, imports.import_runs(request.user), RUNS_PAGE_SIZE, capped=False)
    return render(request, "customers/import.html", {"form": form, "page": page})


@require_GET
def archive_import_run(request: HttpRequest, archive_run_pk: int) -> HttpResponse:
    """A run's progress and outcome; while it runs, the status card polls itself every second (HTMX)."""
    imports.require_import(request.user)
    run = imports.import_run_get(request.user, archive_run_pk)
    errors = _first_problems(run) if run.is_done else []
    context = {"run": run, "errors": errors, "errors_shown": max(len(errors) - 1, 0)}
    return render_htmx(request, "customers/import_run.html", context, partial="status")


ERRORS_SHOWN = 50


def _first_problems(run: CustomerImportRun) -> list[list[str]]:
    """The error report's heading and first problems, to show on the page (the report has them all)."""
    import csv
    from itertools import islice

    if not run.error_path:
        return []
    try:
        with open(run.error_path, encoding="utf-8-sig", newline="") as report:
            return list(islice(csv.reader(report), ERRORS_SHOWN + 1))
    except OSError:
        return []


@require_GET
def archive_import_errors(request: HttpRequest, archive_run_pk: int) -> FileResponse:
    imports.require_import(request.user)
    run, path = imports.error_report(request.user, archive_run_pk)
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"archive-import-{run.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )
