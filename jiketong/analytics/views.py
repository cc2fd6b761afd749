"""Dashboards, indicator tables, drill-downs, segments and grade proposals (thin: reads in queries,
writes in services)."""

from datetime import date
from importlib import import_module
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiketong.core import exports
from jiketong.core.dbrouter import reading_replica
from jiketong.core.forms import apply_errors, form_page
from jiketong.core.listing import paginate
from jiketong.core.xlsx import Workbook
from jiketong.org.models import Role, can

from . import indicators, queries, segments, services
from .forms import TargetForm, TargetImportForm
from .indicators import BY_CHOICES, SECTIONS, Calculation
from .models import ProposalStatus, RunKind
from .periods import parse_period

PAGE_SIZE = 50
EXPORT_CAP = 100_000
ANALYSIS_ROLES = Role.SUBTREE_ROLES | {Role.ADMIN}
VIEW_ROLES = ANALYSIS_ROLES | Role.PORTFOLIO_ROLES


def _require(user, roles) -> None:
    if not can(user, roles):
        raise PermissionDenied(_("Your role cannot open this page."))


def _period(request: HttpRequest, name: str = "period") -> date | None:
    text = request.GET.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_period(text)
    except ValueError:
        raise ValidationError({name: [_("Give a month as YYYY-MM.")]}) from None


def _calculation(request: HttpRequest, *, by: str | None = None) -> Calculation:
    return Calculation(
        request.user,
        period=_period(request),
        start=_period(request, "start"),
        by=request.GET.get("by", "") if by is None else by,
        product=request.GET.get("product", "").strip(),
    )


def _bad_request(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return render(request, "analytics/error.html", {"errors": error.message_dict}, status=400)


def _optional(module: str, name: str):
    """A query another app may provide (sales' forecast, churn's warnings): None until it exists."""
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


# --- dashboard -----------------------------------------------------------------------------------------
@require_GET
@reading_replica()
def dashboard(request: HttpRequest) -> HttpResponse:
    _require(request.user, VIEW_ROLES)
    try:
        calc = _calculation(request, by="")
        grouped = _dashboard_grouping(request, calc.period)
    except ValidationError as error:
        return _bad_request(request, error)
    portfolio = queries.is_portfolio_user(request.user)
    context = {
        "calc": calc,
        "portfolio": portfolio,
        "kpis": queries.indicator_table(calc, queries.KPI_CODES),
        "structure": queries.indicator_table(calc, queries.STRUCTURE_CODES),
        "products": queries.penetration_by_product(calc),
        "trend_chart": _trend_chart(request.user, calc.period),
        "by_choices": [(key, label) for key, label in BY_CHOICES.items() if key not in ("", "month")],
        "forecast": _forecast(request.user),
        "warnings": _churn_warnings(request.user),
    }
    if portfolio:
        context["segmented"] = queries.segments_held(calc.period)
        if context["segmented"]:
            context["rfm_top"] = list(queries.rfm_list(request.user, calc.period)[:10])
            context["segment_counts"] = segments.segment_counts(queries.value_list(request.user, calc.period))
    else:
        context["grouped"] = queries.indicator_table(grouped, queries.TABLE_CODES)
        context["targets"] = queries.target_progress(
            request.user, queries.targets_visible(request.user).filter(period__lte=calc.period).order_by("-period")[:10]
        )
        context["can_set_targets"] = can(request.user, services.TARGET_ROLES)
        context["pending_proposals"] = queries.proposals_visible(request.user).count()
        context["quadrant_chart"] = _quadrant_chart(request.user)
    context["face_labels"] = segments.Face.LABELS
    context["tier_labels"] = segments.Tier.LABELS
    context["value_labels"] = segments.ValueClass.LABELS
    return render(request, "analytics/dashboard.html", context)


def _dashboard_grouping(request: HttpRequest, period: date) -> Calculation:
    """The dashboard's "indicators by" table: by org unit (the default), industry or grade."""
    by = request.GET.get("by", "org")
    return Calculation(request.user, period=period, by=by if by in BY_CHOICES and by not in ("", "month") else "org")


@require_GET
@reading_replica()
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The dashboard's "indicators by" table as the screen shows it: the same columns, rows and total."""
    _require(request.user, ANALYSIS_ROLES)
    try:
        grouped = _dashboard_grouping(request, _calculation(request, by="").period)
    except ValidationError as error:
        return _bad_request(request, error)
    table = queries.indicator_table(grouped, queries.TABLE_CODES)
    return _table_xlsx(request, "dashboard", table, what="analytics.dashboard")


def _trend_chart(user, period: date) -> dict:
    """Revenue (line, yuan axis) and customers in service, new and churned (bars) over 12 months."""
    codes = ["revenue", "in_service", "new_customers", "churned_customers"]
    trend = queries.trend(user, period, codes)
    return {
        "labels": trend["months"],
        "axes": [{"type": "value", "name": str(indicators.UNITS["yuan"])}, {"type": "value"}],
        "series": [
            {
                "name": str(indicators.get(code).name),
                "type": "line" if code == "revenue" else "bar",
                "axis": 0 if code == "revenue" else 1,
                "data": trend[code],
            }
            for code in codes
        ],
    }


def _forecast(user):
    """Next month's weighted pipeline by child org unit (sales' forecast), when the sales app provides it.
    The pipeline looks ahead from today, whichever billed month the page shows: it covers the first of the
    months 我的商机 and the forecast page cover (sales.queries.forecast_months)."""
    forecast = _optional("jiketong.sales.queries", "forecast")
    if forecast is None:
        return None
    return forecast(user, months=1, by="org_unit")


def _churn_warnings(user) -> list | None:
    """The ten highest churn scores in scope (churn's early warning), when the churn app provides them."""
    warnings = _optional("jiketong.churn.queries", "warnings")
    if warnings is None:
        return None
    return list(warnings(user)[1][:10])


def _quadrant_chart(user) -> dict | None:
    """Importance × satisfaction per survey dimension (service's quadrant), as a scatter chart."""
    quadrant = _optional("jiketong.service.queries", "satisfaction_quadrant")
    if quadrant is None:
        return None
    points = quadrant(user).points
    if not points:
        return None
    return {
        "labels": [],
        "scatter": True,
        "series": [{"name": p.label, "data": [[p.importance, p.satisfaction]], "type": "scatter"} for p in points],
    }


# --- indicator tables ------------------------------------------------------------------------------------
def _section_codes(request: HttpRequest) -> tuple[str, list[str]]:
    section = request.GET.get("section", "development")
    if section not in SECTIONS:
        raise ValidationError({"section": [_("Unknown section.")]})
    codes = [code for code, item in indicators.REGISTRY.items() if item.section == section]
    by = request.GET.get("by", "")
    if by == "month":
        codes = [code for code in codes if indicators.REGISTRY[code].monthly]
    if not request.GET.get("product"):
        codes = [code for code in codes if not indicators.REGISTRY[code].needs_product]
    return section, codes


def _table_chart(table) -> dict:
    """The indicator table as a chart: one value axis per unit (customers, yuan, %…), the first unit's series as
    bars on the left, the others as lines on their own right-hand axes, so a rate never shares an amount's scale."""
    units = list(dict.fromkeys(item.unit for item in table.indicators))
    axes = [
        {"type": "value", "name": str(indicators.UNITS.get(unit, "")), "unit": unit}
        | ({"position": "right", "offset": 60 * (index - 1)} if index else {})
        for index, unit in enumerate(units)
    ]
    series = []
    for i, item in enumerate(table.indicators):
        axis = units.index(item.unit)
        line = {"name": str(item.name), "data": [queries.json_number(row["values"][i]) for row in table.rows]}
        series.append(line | ({"axis": axis, "type": "line"} if axis else {}))
    return {"labels": [str(row["label"]) for row in table.rows], "axes": axes, "series": series}


@require_GET
@reading_replica()
def indicator_table(request: HttpRequest) -> HttpResponse:
    _require(request.user, VIEW_ROLES)
    try:
        calc = _calculation(request)
        section, codes = _section_codes(request)
        table = queries.indicator_table(calc, codes)
    except ValidationError as error:
        return _bad_request(request, error)
    chart = _table_chart(table)
    context = {
        "calc": calc,
        "table": table,
        "section": section,
        "sections": SECTIONS,
        "by_choices": BY_CHOICES,
        "chart": chart,
    }
    return render(request, "analytics/indicators.html", context)


@require_GET
@reading_replica()
def indicator_export(request: HttpRequest) -> HttpResponse:
    _require(request.user, VIEW_ROLES)
    try:
        calc = _calculation(request)
        _section, codes = _section_codes(request)
        table = queries.indicator_table(calc, codes)
    except ValidationError as error:
        return _bad_request(request, error)
    return _table_xlsx(request, "indicators", table, what="analytics.indicators")


def _table_xlsx(request: HttpRequest, name: str, table: queries.Table, *, what: str) -> HttpResponse:
    """An indicator table as the screen shows it: a row per group and the total row, when it has one."""
    header = [str(table.by_label)] + [f"{item.name} ({indicators.UNITS[item.unit]})" for item in table.indicators]
    rows = [[str(row["label"])] + list(row["values"]) for row in table.rows]
    if table.totals:
        rows.append([_("Total")] + list(table.totals))
    return _xlsx(request, name, header, rows, what=what)


# --- drill-down ---------------------------------------------------------------------------------------------
def _drill(request: HttpRequest):
    calc = _calculation(request)
    code = request.GET.get("code", "")
    key = request.GET.get("key") or None
    if key is not None and calc.by == "month":
        key = parse_period(key)
    return calc, indicators.get(code), calc.drill(code, key).select_related("industry", "org_unit", "owner")


@require_GET
@reading_replica()
def drill(request: HttpRequest) -> HttpResponse:
    _require(request.user, VIEW_ROLES)
    try:
        calc, indicator, customers = _drill(request)
    except (ValidationError, ValueError) as error:
        return _bad_request(
            request, error if isinstance(error, ValidationError) else ValidationError({"key": [str(error)]})
        )
    key = request.GET.get("key") or None
    if key is not None and calc.by == "month":
        key = parse_period(key)
    pages = queries.drill_pages(calc, indicator, key, customers.order_by("name", "pk"), PAGE_SIZE)
    page = pages.get_page(request.GET.get("page"))
    return render(request, "analytics/drill.html", {"calc": calc, "indicator": indicator, "page": page})


def drill_table(user, params) -> exports.Table:
    """An indicator's customers as plain values (core.exports: streamed, or in the background past a size)."""
    _require(user, VIEW_ROLES)
    _calc, indicator, customers = _drill(SimpleNamespace(user=user, GET=params))
    customers = customers.order_by("name", "pk")
    header = [_("Customer number"), _("Name"), _("Industry"), _("Org unit"), _("Grade"), _("Customer manager")]
    values = exports.rows_of(customers, "number", "name", "industry__name", "org_unit__name", "grade", "owner__name")
    rows = lambda: ([number or "", *rest[:-1], rest[-1] or ""] for number, *rest in values())  # noqa: E731
    return exports.Table(what="analytics.drill", filename=f"drill-{indicator.code}", header=header, rows=rows,
                         count=customers.count)  # fmt: skip


@require_GET
def drill_export(request: HttpRequest) -> HttpResponse:
    try:
        return exports.respond(request, drill_table)
    except (ValidationError, ValueError):
        raise Http404 from None


# --- segments --------------------------------------------------------------------------------------------
SEGMENT_VIEWS = ("value", "rfm")


def _segments(request: HttpRequest):
    calc = _calculation(request, by="")
    view = request.GET.get("view", "value")
    if view not in SEGMENT_VIEWS:
        raise ValidationError({"view": [_("Unknown view.")]})
    if view == "rfm":
        return calc, view, queries.rfm_list(request.user, calc.period)
    params = {name: request.GET.get(name, "") for name in ("face", "tier", "value_class")}
    return calc, view, queries.value_list(request.user, calc.period, **params)


@require_GET
@reading_replica()
def segment_list(request: HttpRequest) -> HttpResponse:
    """The month's materialised segments; a month not computed yet says so and offers to compute it in the
    background (its progress shows here)."""
    _require(request.user, VIEW_ROLES)
    try:
        calc, view, rows = _segments(request)
    except ValidationError as error:
        return _bad_request(request, error)
    segmented = queries.segments_held(calc.period)
    page = paginate(request, rows, PAGE_SIZE) if segmented else None
    context = {
        "calc": calc,
        "view": view,
        "page": page,
        "segmented": segmented,
        "run": queries.segments_run(calc.period),
        "face_labels": segments.Face.LABELS,
        "tier_labels": segments.Tier.LABELS,
        "value_labels": segments.ValueClass.LABELS,
    }
    return render(request, "analytics/segments.html", context)


def segment_table(user, params) -> exports.Table:
    """The month's segments of the user's scope (core.exports: streamed, or in the background past a size)."""
    _require(user, VIEW_ROLES)
    _calc, view, segment_rows = _segments(SimpleNamespace(user=user, GET=params))
    header, data = _segment_data(view, lambda: segment_rows.iterator(chunk_size=exports.CHUNK_ROWS))
    return exports.Table(what="analytics.segments", filename=f"segments-{view}", header=header, rows=data,
                         count=segment_rows.count)  # fmt: skip


@require_GET
@reading_replica()
def segment_export(request: HttpRequest) -> HttpResponse:
    try:
        return exports.respond(request, segment_table)
    except ValidationError as error:
        return _bad_request(request, error)


def _segment_data(view: str, rows):
    if view == "rfm":
        header = [_("Name"), _("Last billed"), _("Months billed"), _("Revenue (yuan)"), "R", "F", "M"]
        data = lambda: (  # noqa: E731
            [c.customer.name, f"{c.last_billed:%Y-%m}", c.frequency, c.monetary, c.r_score, c.f_score, c.m_score]
            for c in rows()
        )
    else:
        header = [
            _("Name"),
            _("Grade"),
            _("Revenue (yuan)"),
            _("Estimated profit"),
            _("Net value"),
            _("Face"),
            _("Tier"),
            _("Value class"),
        ]
        data = lambda: (  # noqa: E731
            [
                c.customer.name,
                c.grade,
                c.monetary,
                c.profit,
                c.net_value,
                str(segments.Face.LABELS.get(c.face, "")),
                str(segments.Tier.LABELS.get(c.tier, "")),
                str(segments.ValueClass.LABELS.get(c.value_class, "")),
            ]
            for c in rows()
        )
    return header, data


# --- targets ---------------------------------------------------------------------------------------------
TARGET_PAGE_SIZE = 20  # each target's actual is worked out for the page: a few queries per row


@require_GET
def target_list(request: HttpRequest) -> HttpResponse:
    """Targets of the user's subtree with their actual and progress, newest period first; analysts and admins
    set, change, delete and load them here."""
    targets = queries.targets_visible(request.user)
    indicator = request.GET.get("indicator", "")
    if indicator in indicators.REGISTRY:
        targets = targets.filter(indicator=indicator)
    year = request.GET.get("year", "").strip()
    if year.isdigit() and len(year) == 4:
        targets = targets.filter(period__year=int(year))
    page = paginate(request, targets.order_by("-period", "indicator", "org_unit__path"), TARGET_PAGE_SIZE, capped=False)
    context = {
        "page": page,
        "rows": queries.target_progress(request.user, page.object_list),
        "can_set": can(request.user, services.TARGET_ROLES),
        "indicators": services.targetable_indicators(),
        "indicator": indicator,
        "year": year,
    }
    return render(request, "analytics/targets.html", context)


def target_create(request: HttpRequest) -> HttpResponse:
    services.require_target_setter(request.user)
    initial = {"org_unit": request.GET.get("org_unit"), "indicator": request.GET.get("indicator")}
    form = TargetForm(request.POST or None, user=request.user, initial=initial)
    return form_page(
        request, form, lambda: services.target_save(actor=request.user, **form.service_data()),
        done="analytics:target_list", message=_("Target saved."), template="analytics/target_form.html",
    )  # fmt: skip


def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_target_setter(request.user)
    target = queries.target_get(request.user, pk)
    form = TargetForm(request.POST or None, instance=target, user=request.user)
    return form_page(
        request, form, lambda: services.target_save(actor=request.user, target=target, **form.service_data()),
        done="analytics:target_list", message=_("Target saved."), template="analytics/target_form.html",
        context={"target": target},
    )  # fmt: skip


@require_POST
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.target_delete(actor=request.user, target=queries.target_get(request.user, pk))
    messages.success(request, _("Target deleted."))
    return redirect("analytics:target_list")


def target_import(request: HttpRequest) -> HttpResponse:
    """Load targets from an Excel or CSV file: every row checked first, nothing written when any is bad."""
    services.require_target_setter(request.user)
    form = TargetImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.targets_import(actor=request.user, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if result.ok:
                messages.success(
                    request,
                    _("%(created)s targets set and %(updated)s changed from %(rows)s rows.")
                    % {"created": result.created, "updated": result.updated, "rows": result.rows},
                )
                return redirect("analytics:target_list")
    labels = {column.name: column.label for column in services.TARGET_COLUMNS}
    order = list(labels)
    errors = [
        {"row": error["row"], "column": labels.get(name, name), "value": error["values"].get(name, ""), "message": m}
        for error in (result.errors if result else [])
        for name, messages_ in sorted(
            error["errors"].items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)
        )
        for m in messages_
    ]
    context = {
        "form": form,
        "result": result,
        "errors": errors,
        "columns": services.TARGET_COLUMNS,
        "indicators": services.targetable_indicators(),
        "max_rows": f"{services.TARGET_IMPORT_MAX_ROWS:,}",
    }
    return render(request, "analytics/target_import.html", context)


@require_GET
def target_template(request: HttpRequest) -> HttpResponse:
    """The target file template: the headings the import reads, two example rows, and the indicators and org
    units the user may give (second and third sheets)."""
    services.require_target_setter(request.user)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Targets")[:31])
    for row in services.target_template(request.user):
        sheet.append(row)
    sheet = workbook.create_sheet(title=_("Indicators")[:31])
    sheet.append([_("Indicator"), _("Code"), _("Unit of measure"), _("Year target")])
    for item in services.targetable_indicators():
        year = _("sum of the months") if item.year == "sum" else _("the year's last billed month")
        sheet.append([str(item.name), item.code, str(indicators.UNITS[item.unit]) or "—", year])
    sheet = workbook.create_sheet(title=_("Org units")[:31])
    sheet.append([services.TARGET_COLUMNS[0].label, _("Name")])
    for code, name in queries.units_visible(request.user).order_by("path").values_list("code", "name")[:EXPORT_CAP]:
        sheet.append([code, name])
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="targets-template.xlsx"'
    workbook.save(response)
    return response


# --- grade proposals ---------------------------------------------------------------------------------------
@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, ANALYSIS_ROLES)
    status = request.GET.get("status", ProposalStatus.PENDING)
    if status not in ProposalStatus.values:
        status = ProposalStatus.PENDING
    page = paginate(request, queries.proposals_visible(request.user, status), PAGE_SIZE, capped=False)
    context = {
        "page": page,
        "status": status,
        "statuses": ProposalStatus.choices,
        "can_decide": can(request.user, services.DECIDE_ROLES),
        "run": queries.latest_regrade(request.user),
    }
    return render(request, "analytics/proposals.html", context)


@require_POST
def segments_prepare(request: HttpRequest) -> HttpResponse:
    """Compute a month's segments in the background; the segments page shows the progress."""
    _require(request.user, VIEW_ROLES)
    try:
        period = _period(request) or indicators.latest_period()
    except ValidationError as error:
        return _bad_request(request, error)
    services.run_start(actor=request.user, kind=RunKind.SEGMENTS, period=period)
    view = request.POST.get("view", "value")
    return redirect(f"{reverse('analytics:segments')}?view={view}&period={period:%Y-%m}")


@require_POST
def proposal_run(request: HttpRequest) -> HttpResponse:
    """Start a re-grade of the user's scope in the background; the proposals page shows its progress."""
    services.run_start(actor=request.user, kind=RunKind.REGRADE)
    messages.info(request, _("Re-grade started; the proposals appear when it is done."))
    return redirect("analytics:proposal_list")


@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A background run's status card, polled by the page that started it while it runs."""
    _require(request.user, VIEW_ROLES)
    return render(request, "analytics/_run.html", {"run": queries.run_get(request.user, pk)})


@require_POST
def proposal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    confirm = request.POST.get("decision") == "confirm"
    try:
        services.proposal_decide(actor=request.user, proposal_pk=pk, confirm=confirm, note=request.POST.get("note", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("analytics:proposal_list")


# --- Excel -------------------------------------------------------------------------------------------------
def _xlsx(request: HttpRequest, name: str, header: list, rows, *, what: str) -> HttpResponse:
    """A table already worked out in the request (an indicator table: one row per group), streamed and logged."""
    return exports.respond_rows(request, what=what, filename=name, header=header, rows=rows)
