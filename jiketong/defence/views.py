"""The defence pages: the threatened-customers board and its export, a customer's defence page, the attack log,
defence plans and retention cases with countermeasures and outcomes, the win-back list and the reports. Thin:
reads in queries.py, writes in services.py."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiketong.analytics.periods import parse_period
from jiketong.core import exports
from jiketong.core.forms import form_page
from jiketong.core.listing import list_page, paginate, render_htmx
from jiketong.customers import queries as customer_queries
from jiketong.customers.models import Competitor, ThreatLevel
from jiketong.customers.services import require_edit

from . import queries, services
from .forms import AttackForm, CloseForm, CountermeasureForm, PlanForm
from .models import PlanKind, PlanStatus, RiskSetKind

PAGE_SIZE = 20
PLAN_DUE_DAYS = 30


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    board_filter, queryset = queries.board(request.user, request.GET)
    page = paginate(request, queryset, PAGE_SIZE)
    today = timezone.localdate()
    for threat in page.object_list:
        threat.days_since_visit = (today - threat.last_visit).days if threat.last_visit else None
    return render_htmx(request, "defence/board.html", {"filter": board_filter, "page": page})


def export_table(user, params) -> exports.Table:
    """The filtered board as plain values (core.exports: streamed, in the background past a size, audited)."""
    _filter, queryset = queries.board(user, params)
    today = timezone.localdate()
    levels = dict(ThreatLevel.choices)
    competitors = dict(Competitor.choices)
    values = exports.rows_of(
        queryset, "customer__number", "customer__name", "customer__grade", "customer__org_unit__name",
        "customer__owner__name", "competitor", "offer", "their_contract_end", "our_contract_end", "revenue",
        "members", "level", "last_visit", "value_at_risk", "has_plan",
    )  # fmt: skip

    def rows():
        yes, no = _("Yes"), _("No")
        for row in values():
            number, name, grade, unit, owner, competitor, offer, theirs, ours, revenue, members = row[:11]
            level, visit, value, has_plan = row[11:]
            yield [number or "", name, grade, unit, owner or "", str(competitors.get(competitor, competitor)), offer,
                   theirs, ours, revenue, members, str(levels.get(level, level)),
                   (today - visit).days if visit else "", value, yes if has_plan else no]  # fmt: skip

    header = [_("Customer number"), _("Customer"), _("Grade"), _("Region"), _("Customer manager"),
              _("Competitor"), _("What they offer"), _("Their contract ends"), _("Our contract ends"),
              _("Monthly revenue at stake (yuan)"), _("Members at stake"), _("Threat level"),
              _("Days since our last visit"), _("Value at risk (yuan a year)"), _("Open defence plan")]  # fmt: skip
    return exports.Table(what="defence.threat", filename="defence-board", sheet=_("Threatened customers"),
                         header=header, rows=rows, count=queryset.count)  # fmt: skip


@require_GET
def board_export(request: HttpRequest) -> HttpResponse:
    """The filtered board as .xlsx, streamed (in the background past a size); logged."""
    return exports.respond(request, export_table)


@require_GET
def customer_page(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """One customer's defence: the board's facts, the rivals on record, the attack log and the plans."""
    customer = customer_queries.customer_get(request.user, customer_pk)
    context = {
        "customer": customer,
        "threat": queries.threat_of(request.user, customer.pk),
        "presences": list(queries.presences_of(request.user, customer.pk)[:20]),
        "attacks": list(queries.attacks_of(request.user, customer.pk)[:50]),
        "plans": list(queries.plans_of(request.user, customer.pk)[:20]),
        "can_edit": services.can_edit(request.user),
        "today": timezone.localdate(),
    }
    context["open_defence"] = next(
        (p for p in context["plans"] if p.kind == PlanKind.DEFENCE and p.status == PlanStatus.OPEN), None
    )
    return render(request, "defence/customer.html", context)


def _frame(title: str, customer, back: str) -> dict:
    """The simple form page's frame (core.forms.form_page): Defence board › the customer › the title."""
    crumbs = [
        (_("Defence board"), reverse("defence:board")),
        (customer.name, reverse("defence:customer", args=[customer.pk])),
    ]
    return {"title": title, "customer": customer, "crumbs": crumbs, "cancel": back}


def attack_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    require_edit(request.user)
    customer = customer_queries.customer_get(request.user, customer_pk)
    form = AttackForm(request.POST or None, initial={"observed_on": timezone.localdate()})
    back = reverse("defence:customer", args=[customer.pk])
    return form_page(
        request, form, lambda: services.attack_record(actor=request.user, customer=customer, **form.service_data()),
        done=back, message=_("Competitor action recorded."),
        context=_frame(_("Record a competitor action"), customer, back),
    )  # fmt: skip


def plan_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    require_edit(request.user)
    customer = customer_queries.customer_get(request.user, customer_pk)
    threat = queries.threat_of(request.user, customer.pk)
    initial = {
        "due_on": timezone.localdate() + timedelta(days=PLAN_DUE_DAYS),
        "competitor": threat.competitor if threat else "",
        "owner": customer.owner_id,
    }
    form = PlanForm(request.POST or None, customer=customer, initial=initial)
    back = reverse("defence:customer", args=[customer.pk])
    return form_page(
        request, form, lambda: services.plan_open(actor=request.user, customer=customer, **form.service_data()),
        done=lambda plan: reverse("defence:plan", args=[plan.pk]), message=_("Defence plan opened."),
        context=_frame(_("Open a defence plan"), customer, back),
    )  # fmt: skip


@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    plan_filter, queryset = queries.plans(request.user, request.GET)
    return list_page(request, "defence/plans.html", queryset, per_page=PAGE_SIZE, context={"filter": plan_filter})


@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = queries.plan_get(request.user, pk)
    context = {
        "plan": plan,
        "customer": plan.customer,
        "countermeasures": list(plan.countermeasures.select_related("owner")),
        "can_edit": services.can_edit(request.user) and plan.status == PlanStatus.OPEN,
        "form": CountermeasureForm(customer=plan.customer, initial={"due_on": timezone.localdate() + timedelta(7)}),
    }
    return render(request, "defence/plan.html", context)


def countermeasure_create(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    plan = queries.plan_get(request.user, pk)
    form = CountermeasureForm(
        request.POST or None, customer=plan.customer, initial={"due_on": timezone.localdate() + timedelta(7)}
    )
    back = reverse("defence:plan", args=[plan.pk])
    return form_page(
        request, form, lambda: services.countermeasure_add(actor=request.user, plan=plan, **form.service_data()),
        done=back, message=_("Countermeasure added."), context=_frame(_("Add a countermeasure"), plan.customer, back),
    )  # fmt: skip


@require_POST
def countermeasure_status(request: HttpRequest, countermeasure_pk: int) -> HttpResponse:
    require_edit(request.user)
    item = queries.countermeasure_get(request.user, countermeasure_pk)
    try:
        services.countermeasure_set_status(actor=request.user, countermeasure=item, status=request.POST.get("status"))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("defence:plan", pk=item.plan_id)


def plan_close(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    plan = queries.plan_get(request.user, pk)
    back = reverse("defence:plan", args=[plan.pk])
    if plan.status != PlanStatus.OPEN:
        messages.info(request, _("This plan is already closed."))
        return redirect(back)
    form = CloseForm(request.POST or None, initial={"lost_to": plan.competitor})
    return form_page(
        request, form, lambda: services.plan_close(actor=request.user, plan=plan, **form.service_data()),
        done=back, message=lambda closed: _("Plan closed: %(outcome)s.") % {"outcome": closed.get_outcome_display()},
        context=_frame(_("Close the plan with its outcome"), plan.customer, back),
    )  # fmt: skip


@require_GET
def winback_list(request: HttpRequest) -> HttpResponse:
    winback_filter, queryset = queries.winbacks(request.user, request.GET)
    return list_page(request, "defence/winback.html", queryset, per_page=PAGE_SIZE, context={"filter": winback_filter})


@require_GET
def report(request: HttpRequest) -> HttpResponse:
    try:
        start = parse_period(request.GET["start"]) if request.GET.get("start") else None
        end = parse_period(request.GET["end"]) if request.GET.get("end") else None
    except ValueError:
        messages.error(request, _("Months are written like 2026-05."))
        start = end = None
    start, end = queries.report_range(start, end)
    return render(request, "defence/report.html", {"report": queries.report(request.user, start, end)})


# --- one group, one risk --------------------------------------------------------------------------------
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    """The group risk view: groups and affiliated sets with several kinds of risk at once, by value at risk."""
    group_filter, queryset = queries.group_risks(request.user, request.GET)
    page = paginate(request, queryset, PAGE_SIZE)
    queries.decorate(request.user, list(page.object_list))
    return render_htmx(request, "defence/groups.html", {"filter": group_filter, "page": page})


@require_GET
def group_detail(request: HttpRequest, group_pk: int) -> HttpResponse:
    """One group or affiliated set: its totals over every unit, its trend, its chained warnings and the units
    the reader sees (the others counted)."""
    risk = queries.group_risk_get(request.user, group_pk)
    queries.decorate(request.user, [risk])
    context = {"risk": risk, "units": queries.group_units(request.user, risk)}
    return render(request, "defence/group.html", context)


def group_export_table(user, params) -> exports.Table:
    """The filtered group risk view as plain values: a head out of the reader's scope is not named."""
    _filter, queryset = queries.group_risks(user, params)
    kinds = dict(RiskSetKind.choices)
    values = exports.rows_of(
        queries.with_reader_fields(queryset, user), "kind", "head_visible", "head__name", "units", "units_seen",
        "revenue", "revenue_change_pct",
        "members", "arrears_units", "open_complaints", "contracts_expiring", "churn_max", "churn_units",
        "competitor_units", "competitor_high_units", "risk_chain", "value_at_risk",
    )  # fmt: skip

    def rows():
        hidden = {RiskSetKind.GROUP: _("Group head outside your scope"),
                  RiskSetKind.AFFILIATED: _("Affiliated set (its first company is outside your scope)")}  # fmt: skip
        yes, no = _("Yes"), _("No")
        for row in values():
            kind, visible, name, units, seen = row[:5]
            rest = list(row[5:])
            rest[-2] = yes if rest[-2] else no
            yield [str(kinds.get(kind, kind)), name if visible else hidden[kind], units, units - seen, *rest]

    header = [_("Kind"), _("Group"), _("Units"), _("Units outside your scope"), _("Monthly revenue (yuan)"),
              _("Revenue change over 3 months (%)"), _("Members"), _("Units in arrears"), _("Open complaints"),
              _("Contracts expiring within 90 days"), _("Highest churn score"), _("Units with a churn warning"),
              _("Units with a competitor"), _("Units under a high threat"), _("Chained warning (连锁联动)"),
              _("Value at risk (yuan a year)")]  # fmt: skip
    return exports.Table(what="defence.group_risk", filename="group-risk", sheet=_("Group risk"), header=header,
                         rows=rows, count=queryset.count)  # fmt: skip


@require_GET
def group_export(request: HttpRequest) -> HttpResponse:
    """The filtered group risk view as .xlsx (in the background past a size); logged."""
    return exports.respond(request, group_export_table)
