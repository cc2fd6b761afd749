"""Scorecard pages: my scorecard, a unit's scorecard with its ranking, a manager's scorecard, the settings, the
months (compute, close, reopen) and the ranking's export. Thin: reads in queries.py, writes in services.py."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiketong.core import exports
from jiketong.core.filters import fits_int64
from jiketong.core.forms import form_page
from jiketong.core.htmx import is_partial
from jiketong.core.listing import paginate
from jiketong.org.models import OrgUnit, Rank, Role, Staff, can, staff_of

from . import queries, rules, services
from .components import COMPONENTS
from .forms import RankGradesForm, ReopenForm, SettingsForm
from .models import MonthStatus

PAGE_SIZE = 25
READ_ROLES = Role.PORTFOLIO_ROLES | Role.SUBTREE_ROLES | {Role.ADMIN}


def _reader(request: HttpRequest) -> None:
    if not can(request.user, READ_ROLES):
        raise PermissionDenied(_("Scorecards are for managers, supervisors, analysts and auditors."))


def _id(value) -> int | None:
    """An id from a query or form value: None when empty, 404 when it cannot be a key (as for an unknown id)."""
    if value in (None, ""):
        return None
    text = str(value)
    if not text.isdigit() or not fits_int64(text):
        raise Http404
    return int(text)


def _month(request: HttpRequest):
    period = queries.month_of(request.GET.get("month") or request.POST.get("period"))
    return period, queries.is_closed(period)


def _manager_page(request: HttpRequest, score, staff, period, closed, months) -> HttpResponse:
    unit = None
    if score is not None:
        unit = queries.unit_scores(request.user, period, closed).filter(org_unit_id=score.org_unit_id).first()
    context = {
        "score": score,
        "person": staff,
        "period": period,
        "closed": closed,
        "months": months,
        "rows": queries.component_rows(score) if score else [],
        "unit_rows": {r["component"].code: r for r in queries.component_rows(unit)} if unit else {},
        "unit_score": unit,
        "history": queries.history(request.user, staff.pk, period),
    }
    return render(request, "assessment/manager.html", context)


@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """A customer manager's own scorecard; supervisors and the others go to their unit's."""
    _reader(request)
    staff = staff_of(request.user)
    if staff is None or not staff.role_codes & Role.PORTFOLIO_ROLES:
        return redirect("assessment:unit")
    period, closed = _month(request)
    score = queries.my_scorecard(request.user, period, closed)
    return _manager_page(request, score, staff, period, closed, queries.months())


@require_GET
def manager(request: HttpRequest, staff_pk: int) -> HttpResponse:
    _reader(request)
    staff = queries.manager_visible(request.user, staff_pk)
    period, closed = _month(request)
    score = queries.manager_scores(request.user, period, closed).filter(staff_id=staff.pk).first()
    return _manager_page(request, score, staff, period, closed, queries.months())


def _unit_context(request: HttpRequest) -> dict:
    period, closed = _month(request)
    unit = queries.unit_get(request.user, _id(request.GET.get("unit")))
    score = queries.unit_scores(request.user, period, closed).filter(org_unit=unit).first()
    ranking = paginate(request, queries.ranking(request.user, period, unit), PAGE_SIZE, capped=False)
    return {
        "unit": unit,
        "period": period,
        "closed": closed,
        "score": score,
        "page": ranking,
        "rows": queries.component_rows(score) if score else [],
        "components": COMPONENTS,
        "children": queries.children(request.user, period, unit),
    }


@require_GET
def unit(request: HttpRequest) -> HttpResponse:
    _reader(request)
    context = _unit_context(request)
    if is_partial(request):
        return render(request, "assessment/unit.html#ranking", context)
    context |= {
        "months": queries.months(),
        "can_close": services._can_close(request.user),
        "can_configure": queries.can_configure(request.user),
        "export_note": exports.note(),
    }
    return render(request, "assessment/unit.html", context)


def ranking_table(user, params) -> exports.Table:
    """A unit's ranking as plain values: rank, manager, unit, every component's actual and score, the total."""
    period = queries.month_of(params.get("month"))
    unit = queries.unit_get(user, _id(params.get("unit")))
    rows = queries.ranking(user, period, unit)
    header = [pgettext("ranking", "Rank"), _("Customer manager"), _("Org unit")]
    actual, scored = _("actual"), _("score")
    for component in COMPONENTS:
        header += [f"{component.name} · {actual}", f"{component.name} · {scored}"]
    header += [_("Total score"), _("Month"), _("Status")]
    status = MonthStatus.CLOSED.label if queries.is_closed(period) else MonthStatus.OPEN.label

    def values():
        for row in rows.iterator(chunk_size=exports.CHUNK_ROWS):
            cells = [row.position if row.total is not None else "", row.staff.name, row.org_unit.name]
            for component in COMPONENTS:
                term = row.terms.get(component.code, {})
                cells += [term.get("actual") or "", term.get("score") or ""]
            yield [*cells, row.total if row.total is not None else "", f"{period:%Y-%m}", str(status)]

    return exports.Table(
        what="assessment.scorecards",
        filename=f"scorecards-{unit.code}-{period:%Y-%m}",
        sheet=_("Scorecards"),
        header=header,
        rows=values,
        count=rows.count,
    )


@require_GET
def unit_export(request: HttpRequest) -> HttpResponse:
    _reader(request)
    return exports.respond(request, ranking_table)


# --- settings --------------------------------------------------------------------------------------------
def _subject(request: HttpRequest, data) -> tuple[OrgUnit | None, Staff | None]:
    staff_id, unit_id = _id(data.get("staff")), _id(data.get("unit"))
    if staff_id is not None:
        return None, get_object_or_404(queries.configurable_staff(request.user), pk=staff_id)
    if unit_id is not None:
        unit = get_object_or_404(OrgUnit, pk=unit_id)
        if not services._over_unit(request.user, unit):
            raise PermissionDenied(_("You can set weights and targets only in your own org unit."))
        return unit, None
    return queries.home_unit(request.user), None


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    if not queries.can_configure(request.user):
        raise PermissionDenied(_("Only a supervisor or an administrator can set weights and targets."))
    org_unit, staff = _subject(request, request.POST if request.method == "POST" else request.GET)
    versions = list(queries.settings_of(org_unit=org_unit, staff=staff)[:20])
    latest = versions[0] if versions else None
    period = queries.month_of(None)
    initial = {"valid_from": f"{period:%Y-%m}", "base_version": latest.version if latest else 0}
    if latest:
        initial["cap"] = latest.cap
    form = SettingsForm(request.POST or None, terms=latest.terms if latest else None, initial=initial)

    def page_context() -> dict:
        context = {
            "org_unit": org_unit,
            "staff": staff,
            "versions": versions,
            "managers": queries.configurable_staff(request.user).select_related("org_unit").order_by("name")[:200],
            "is_admin": can(request.user, {Role.ADMIN}),
        }
        if context["is_admin"]:
            table = rules.matrix()
            context["ranks"] = [(value, label, table.get(value, rules.ALL)) for value, label in Rank.choices]
            context["grades"] = rules.ALL
        return context

    return form_page(
        request,
        form,
        lambda: services.settings_save(
            actor=request.user,
            org_unit=org_unit,
            staff=staff,
            valid_from=form.cleaned_data.get("valid_from"),
            terms=form.terms(),
            cap=form.cleaned_data.get("cap"),
            base_version=form.cleaned_data.get("base_version"),
        ),
        done=lambda _r: request.path + (f"?staff={staff.pk}" if staff else f"?unit={org_unit.pk}"),
        message=_("The weights and targets were saved as a new version."),
        template="assessment/settings.html",
        context=page_context,
    )


@require_POST
def rank_grades(request: HttpRequest) -> HttpResponse:
    form = RankGradesForm(request.POST)
    if form.is_valid():
        try:
            services.rank_grades_save(
                actor=request.user, rank=form.cleaned_data["rank"], grades=form.cleaned_data["grades"]
            )
            messages.success(request, _("Saved which grades the rank may own."))
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, _("Choose a rank and its grades."))
    return redirect("assessment:settings")


# --- months --------------------------------------------------------------------------------------------------
@require_GET
def month_list(request: HttpRequest) -> HttpResponse:
    _reader(request)
    context = {
        "months": queries.months(),
        "can_close": services._can_close(request.user),
        "is_admin": can(request.user, {Role.ADMIN}),
        "can_compute": can(request.user, services.CLOSE_ROLES),
        "next_period": queries.month_of(None),
    }
    return render(request, "assessment/months.html", context)


def _month_step(request: HttpRequest, action, done: str) -> HttpResponse:
    period = queries.month_of(request.POST.get("period"))
    try:
        action(actor=request.user, period=period)
        messages.success(request, done)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("assessment:months")


@require_POST
def month_compute(request: HttpRequest) -> HttpResponse:
    return _month_step(request, services.month_compute, _("The scorecards of the month were computed."))


@require_POST
def month_close(request: HttpRequest) -> HttpResponse:
    return _month_step(request, services.month_close, _("The month is closed: its figures are frozen."))


@require_POST
def month_reopen(request: HttpRequest) -> HttpResponse:
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the month is reopened."))
        return redirect("assessment:months")
    return _month_step(
        request,
        lambda actor, period: services.month_reopen(actor=actor, period=period, reason=form.cleaned_data["reason"]),
        _("The month is open again."),
    )
