"""Sales pages: leads, opportunities, the pipeline board, the forecast and a manager's own pipeline.
Thin: reads come from queries.py, writes go to services.py. HTMX requests get just the partial that
changes, from the same view (STYLE §7)."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiketong.core.forms import apply_errors, form_page, submit
from jiketong.core.listing import list_page, render_htmx
from jiketong.customers import queries as customer_queries
from jiketong.deals.queries import record_chain  # the chain reaches into quotes, contracts and orders
from jiketong.org.models import Role, can

from . import queries, services
from .forms import (
    AssignForm,
    CasePublishForm,
    ConvertForm,
    DisqualifyForm,
    LeadForm,
    LeadImportForm,
    MoveForm,
    OpportunityForm,
)
from .models import Lead

LIST_PAGE_SIZE = 20
HISTORY_LIMIT = 100


# --- leads -----------------------------------------------------------------------------------------
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    lead_filter, queryset = queries.lead_list(request.user, request.GET)
    return list_page(
        request, "sales/lead_list.html", queryset, per_page=LIST_PAGE_SIZE, context={"filter": lead_filter}
    )


@require_GET
def lead_duplicates(request: HttpRequest) -> HttpResponse:
    """The live duplicate warning under the lead form's name and USCC fields."""
    exclude = request.GET.get("lead")
    matches = queries.lead_duplicates(
        request.user,
        name=request.GET.get("name", ""),
        uscc=request.GET.get("uscc", ""),
        exclude_lead=int(exclude) if exclude and exclude.isdigit() else None,
    )
    return render(request, "sales/_duplicates.html", {"matches": matches})


def _lead_form_page(request: HttpRequest, form: LeadForm, lead: Lead | None, save, message) -> HttpResponse:
    return form_page(
        request, form, save, message=message, template="sales/lead_form.html",
        # A new lead is always visible to its author: its region lies in the author's unit (services._check_region).
        done=lambda saved: reverse("sales:lead_detail", args=[(lead or saved).pk]),
        context=lambda: {"lead": lead, "show_confirm": "name" in form.errors or "uscc" in form.errors},
    )  # fmt: skip


def lead_create(request: HttpRequest) -> HttpResponse:
    services.require_edit(request.user)
    form = LeadForm(request.POST or None, user=request.user)
    return _lead_form_page(
        request, form, None, lambda: services.lead_create(actor=request.user, **form.service_kwargs()),
        lambda lead: _("Lead %(name)s recorded.") % {"name": lead.name},
    )  # fmt: skip


def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_edit(request.user)
    lead = queries.lead_get(request.user, pk)
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    return _lead_form_page(
        request, form, lead, lambda: services.lead_update(actor=request.user, lead=lead, **form.service_kwargs()),
        lambda _r: _("Changes to %(name)s saved.") % {"name": lead.name},
    )  # fmt: skip


def _lead_detail_page(request: HttpRequest, lead: Lead, **forms) -> HttpResponse:
    context = {
        "lead": lead,
        "disqualify_form": forms.get("disqualify_form") or DisqualifyForm(),
        "assign_form": forms.get("assign_form") or AssignForm(user=request.user),
        "history": queries.lead_history(request.user, lead)[:HISTORY_LIMIT],
        "chain": record_chain(request.user, lead),
    }
    return render(request, "sales/lead_detail.html", context)


@require_GET
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _lead_detail_page(request, queries.lead_get(request.user, pk))


@require_POST
def lead_disqualify(request: HttpRequest, pk: int) -> HttpResponse:
    lead = queries.lead_get(request.user, pk)
    form = DisqualifyForm(request.POST)
    ok, _result = submit(
        form,
        lambda: services.lead_disqualify(actor=request.user, lead=lead, reason=form.cleaned_data.get("reason", "")),
    )
    if ok:
        messages.success(request, _("Lead disqualified."))
        return redirect("sales:lead_detail", pk=lead.pk)
    return _lead_detail_page(request, lead, disqualify_form=form)


@require_POST
def lead_assign(request: HttpRequest, pk: int) -> HttpResponse:
    lead = queries.lead_get(request.user, pk)
    form = AssignForm(request.POST, user=request.user)
    ok, assigned = submit(form, lambda: services.lead_assign(actor=request.user, lead=lead, **form.cleaned_data))
    if ok:
        lead = assigned
        messages.success(request, _("Lead assigned to %(name)s.") % {"name": lead.owner.name})
        return redirect("sales:lead_detail", pk=lead.pk)
    return _lead_detail_page(request, lead, assign_form=form)


def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_edit(request.user)
    lead = queries.lead_get(request.user, pk)
    form = ConvertForm(
        request.POST or None, user=request.user, lead=lead, initial={"opportunity_name": lead.need[:100]}
    )
    return form_page(
        request, form, lambda: services.lead_convert(actor=request.user, lead=lead, **form.cleaned_data),
        done=lambda converted: _opportunity_url(converted.opportunity_id),
        message=_("Lead converted: the opportunity is open."), template="sales/lead_convert.html",
        context={"lead": lead},
    )  # fmt: skip


def lead_import(request: HttpRequest) -> HttpResponse:
    """Upload a lead file: a small one is imported at once (its bad rows listed here), a large one is handed to
    the task worker and the browser goes to its progress page (services.lead_import_start)."""
    services.require_edit(request.user)
    form = LeadImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result, run = services.lead_import_start(
                actor=request.user, upload=form.cleaned_data["file"], all_or_nothing=form.cleaned_data["all_or_nothing"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if run is not None:
                return redirect("sales:lead_import_run", lead_run_pk=run.pk)
            if result.ok:
                messages.success(request, _("%(n)d leads imported.") % {"n": result.done})
                return redirect("sales:lead_list")
    context = {
        "form": form,
        "result": result,
        "rows": _error_rows(result),
        "runs": queries.lead_import_runs(request.user)[:5],
    }
    return render(request, "sales/lead_import.html", context)


@require_GET
def lead_import_run(request: HttpRequest, lead_run_pk: int) -> HttpResponse:
    """A large import's progress; while it runs, the status card polls itself every second (HTMX)."""
    run = queries.lead_import_run_get(request.user, lead_run_pk)
    return render_htmx(request, "sales/lead_import_run.html", {"run": run}, partial="status")


@require_GET
def lead_import_errors(request: HttpRequest, lead_run_pk: int) -> FileResponse:
    run, path = queries.lead_import_error_report(request.user, lead_run_pk)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"lead-import-{run.pk}-errors.csv",
                        content_type="text/csv; charset=utf-8")  # fmt: skip


def _error_rows(result) -> list[dict]:
    """One line per (row, field, message) for the error table."""
    if result is None:
        return []
    labels = {f.name: f.verbose_name for f in Lead._meta.get_fields() if f.concrete}
    return [
        {"row": e["row"], "name": e["name"], "field": str(labels.get(name, name)), "message": message}
        for e in result.errors
        for name, messages_ in e["errors"].items()
        for message in messages_
    ]


# --- opportunities ---------------------------------------------------------------------------------
@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    opportunity_filter, queryset = queries.opportunity_list(request.user, request.GET)
    context = {"filter": opportunity_filter}
    return list_page(request, "sales/opportunity_list.html", queryset, per_page=LIST_PAGE_SIZE, context=context)


def opportunity_create(request: HttpRequest) -> HttpResponse:
    services.require_edit(request.user)
    customer = None
    if (customer_id := request.GET.get("customer", "")).isdigit():
        customer = customer_queries.customers_visible(request.user).filter(pk=customer_id).first()
    form = OpportunityForm(request.POST or None, user=request.user, customer=customer)
    return form_page(
        request, form, lambda: services.opportunity_create(actor=request.user, **form.service_kwargs()),
        done=lambda opportunity: _opportunity_url(opportunity.pk),
        message=lambda opportunity: _("Opportunity %(name)s opened.") % {"name": opportunity.name},
        template="sales/opportunity_form.html", context={"opportunity": None},
    )  # fmt: skip


def _opportunity_url(pk: int) -> str:
    return reverse("sales:opportunity_detail", kwargs={"opportunity_pk": pk})


def opportunity_edit(request: HttpRequest, opportunity_pk: int) -> HttpResponse:
    services.require_edit(request.user)
    opportunity = queries.opportunity_get(request.user, opportunity_pk)
    form = OpportunityForm(request.POST or None, instance=opportunity, user=request.user)
    return form_page(
        request, form,
        lambda: services.opportunity_update(actor=request.user, opportunity=opportunity, **form.service_kwargs()),
        done=_opportunity_url(opportunity.pk),
        message=lambda _r: _("Changes to %(name)s saved.") % {"name": opportunity.name},
        template="sales/opportunity_form.html", context={"opportunity": opportunity},
    )  # fmt: skip


def _opportunity_page(request: HttpRequest, opportunity, move_form: MoveForm | None = None) -> HttpResponse:
    context = {
        "opportunity": opportunity,
        "lines": list(queries.opportunity_lines(opportunity)),
        "history": list(queries.stage_history(opportunity)[:HISTORY_LIMIT]),
        "move_form": move_form or MoveForm(initial={"stage": opportunity.stage.code}),
        "chain": record_chain(request.user, opportunity),
        "similar_cases": queries.cases_like(request.user, opportunity),
        "own_case": queries.case_of(opportunity),
    }
    return render(request, "sales/opportunity_detail.html", context)


@require_GET
def opportunity_detail(request: HttpRequest, opportunity_pk: int) -> HttpResponse:
    return _opportunity_page(request, queries.opportunity_get(request.user, opportunity_pk))


@require_POST
def opportunity_move(request: HttpRequest, opportunity_pk: int) -> HttpResponse:
    """The stage change from the detail page and from a board card (HTMX: the board is redrawn)."""
    services.require_edit(request.user)
    opportunity = queries.opportunity_get(request.user, opportunity_pk)
    form = MoveForm(request.POST)
    errors: list[str] = []
    submit(form, lambda: services.opportunity_move(request.user, opportunity, **form.cleaned_data))
    if form.errors:
        errors = [message for messages_ in form.errors.values() for message in messages_]
    if request.POST.get("from") == "board":
        return _board_page(request, QueryDict(request.POST.get("board_query", "")), {opportunity.pk: errors})
    if errors:
        return _opportunity_page(request, opportunity, move_form=form)
    messages.success(request, _("Stage changed."))
    return redirect("sales:opportunity_detail", opportunity_pk=opportunity.pk)


# --- board, forecast, my pipeline ---------------------------------------------------------------
def _board_page(request: HttpRequest, params: QueryDict, card_errors: dict | None = None) -> HttpResponse:
    board_filter, columns = queries.board(request.user, params)
    for column in columns:
        for card in column.cards:
            card.move_errors = (card_errors or {}).get(card.pk, [])
    # The stage menu of every card, drawn once: 120 cards × 6 options through the template cost more than the SQL.
    stage_options = format_html_join(
        "", '<option value="{}">{}</option>', [("", _("Move to…"))] + [(c.stage.code, c.stage.name) for c in columns]
    )
    context = {
        "filter": board_filter,
        "columns": columns,
        "stage_options": stage_options,
        "can_edit": can(request.user, Role.EDIT_ROLES),
        "board_query": params.urlencode(),
        "cards_per_stage": queries.BOARD_CARDS,
    }
    return render_htmx(request, "sales/board.html", context, partial="board")


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    return _board_page(request, request.GET)


def _month(value: str | None) -> date:
    try:
        return date.fromisoformat(f"{value}-01") if value else queries.forecast_months(months=1)[0]
    except ValueError:
        return queries.forecast_months(months=1)[0]


@require_GET
def forecast(request: HttpRequest) -> HttpResponse:
    start = _month(request.GET.get("start"))
    context = {
        "start": start,
        "by_owner": queries.forecast(request.user, start=start, months=3, by="owner"),
        "by_unit": queries.forecast(request.user, start=start, months=3, by="org_unit"),
        "definition": queries.FORECAST_DEFINITION,
    }
    return render(request, "sales/forecast.html", context)


@require_GET
def my_pipeline(request: HttpRequest) -> HttpResponse:
    context = queries.my_pipeline(request.user) | {"definition": queries.FORECAST_DEFINITION}
    return render(request, "sales/my_pipeline.html", context)


# --- reference cases (标杆案例) ---------------------------------------------------------------------
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    case_filter, queryset = queries.case_list(request.user, request.GET)
    return list_page(
        request, "sales/case_list.html", queryset, per_page=LIST_PAGE_SIZE, context={"filter": case_filter}
    )


@require_GET
def case_detail(request: HttpRequest, case_pk: int) -> HttpResponse:
    return render(request, "sales/case_detail.html", {"case": queries.case_get(request.user, case_pk)})


def case_publish(request: HttpRequest, opportunity_pk: int) -> HttpResponse:
    """Publish a won opportunity as a reference case (the form, then the case's page)."""
    opportunity = queries.opportunity_get(request.user, opportunity_pk)
    services.require_edit(request.user)
    form = CasePublishForm(request.POST or None, initial={"title": ""})
    return form_page(
        request, form,
        lambda: services.case_publish(actor=request.user, opportunity=opportunity, **form.cleaned_data),
        done=lambda case: reverse("sales:case_detail", kwargs={"case_pk": case.pk}),
        message=_("Published as a reference case for the province."), template="sales/case_publish.html",
        context={"opportunity": opportunity},
    )  # fmt: skip
