"""Work pages: the workbench (the home page), activities, tasks, agenda, inbox, compliance reports and handovers.
Thin: reads come from queries.py, writes go to services.py; HTMX requests get the partial that changes (STYLE §7)."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from jiketong.core import exports
from jiketong.core.forms import form_page, submit
from jiketong.core.htmx import is_partial
from jiketong.core.listing import list_page, paginate, render_htmx
from jiketong.customers import queries as customer_queries
from jiketong.customers.models import Grade, LifecycleStatus
from jiketong.customers.queries import customer_get
from jiketong.deals import queries as deal_queries
from jiketong.org.models import Role, can, staff_of
from jiketong.org.scope import EVERYTHING, customer_scope

from . import queries, services
from .forms import ActivityForm, CancelForm, HandoverForm, TaskForm
from .models import ActivityKind, TaskKind, TaskStatus
from .panels import panel_context

PAGE_SIZE = 25
REPORT_ROLES = {Role.SUPERVISOR, Role.ADMIN}


def _require_reports(user) -> None:
    if not can(user, REPORT_ROLES):
        raise PermissionDenied(_("Compliance reports and handovers are for supervisors."))


# --- activities -------------------------------------------------------------------------------------
@require_GET
def activity_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "") if request.GET.get("kind") in ActivityKind.values else ""
    mine = request.GET.get("mine") == "1"
    customer_id = int(request.GET["customer"]) if request.GET.get("customer", "").isdigit() else None
    activities = queries.activity_list(request.user, kind=kind, mine=mine, customer_id=customer_id)
    context = {"kinds": ActivityKind.choices, "kind": kind, "mine": mine}
    return list_page(request, "work/activity_list.html", activities, per_page=PAGE_SIZE, context=context)


@require_GET
def activity_detail(request: HttpRequest, activity_pk: int) -> HttpResponse:
    activity = queries.activity_get(request.user, activity_pk)
    return render(
        request,
        "work/activity_detail.html",
        {"activity": activity, "contacts": activity.contacts.all(), "staff": activity.staff.all()},
    )


def activity_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Quick entry: a page of its own on a phone, or the 360 panel's form (HTMX answers the panel)."""
    services.require_worker(request.user)
    customer = customer_get(request.user, customer_pk)
    form = ActivityForm(request.POST or None, user=request.user, customer=customer)
    if request.method == "POST":
        ok, activity = submit(
            form, lambda: services.activity_create(request.user, customer=customer, **form.cleaned_data)
        )
        if ok:
            if is_partial(request):
                return render(request, "work/_customer_panel.html", {"panel": panel_context(request, customer)})
            messages.success(request, _activity_recorded(activity))
            return redirect("customers:detail", pk=customer.pk)
    if is_partial(request):
        context = panel_context(request, customer) | {"form": form}
        return render(request, "work/_customer_panel.html", {"panel": context})
    return render(request, "work/activity_form.html", {"form": form, "customer": customer})


def follow_up_create(request: HttpRequest, lead_pk: int | None = None, opportunity_pk: int | None = None):
    """A follow-up on a lead or an opportunity (DOMAIN §6: each open one gets one every month)."""
    services.require_worker(request.user)
    lead = queries.lead_get(request.user, lead_pk) if lead_pk else None
    opportunity = queries.opportunity_get(request.user, opportunity_pk) if opportunity_pk else None
    customer = opportunity.customer if opportunity else lead.customer
    form = ActivityForm(request.POST or None, user=request.user, customer=customer, initial={"kind": ActivityKind.CALL})
    return form_page(
        request, form,
        lambda: services.activity_create(
            request.user, customer=customer, lead=lead, opportunity=opportunity, **form.cleaned_data
        ),
        done=lambda activity: reverse("work:activity_detail", kwargs={"activity_pk": activity.pk}),
        message=_activity_recorded, template="work/activity_form.html",
        context={"customer": customer, "about": opportunity or lead},
    )  # fmt: skip


def _activity_recorded(activity) -> str:
    return _("Activity recorded: %(subject)s") % {"subject": activity.subject}


# --- tasks ------------------------------------------------------------------------------------------
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", TaskStatus.OPEN)
    status = status if status in TaskStatus.values or status == "" else TaskStatus.OPEN
    kind = request.GET.get("kind", "") if request.GET.get("kind") in TaskKind.values else ""
    due = request.GET.get("due", "") if request.GET.get("due") in ("overdue", "today", "week") else ""
    mine = request.GET.get("all") != "1"
    tasks = queries.task_list(request.user, status=status, kind=kind, due=due, mine=mine)
    context = {
        "statuses": TaskStatus.choices,
        "kinds": TaskKind.choices,
        "status": status,
        "kind": kind,
        "due": due,
        "mine": mine,
        "today": timezone.localdate(),
    }
    return list_page(request, "work/task_list.html", tasks, per_page=PAGE_SIZE, context=context)


@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = queries.task_get(request.user, pk)
    return render(request, "work/task_detail.html", {"task": task, "cancel_form": CancelForm()})


def task_create(request: HttpRequest) -> HttpResponse:
    services.require_worker(request.user)
    form = TaskForm(request.POST or None, user=request.user)
    return form_page(
        request, form, lambda: services.task_create(request.user, **form.service_kwargs()),
        done=lambda task: reverse("work:task_detail", args=[task.pk]),
        message=lambda task: _("Task created: %(title)s") % {"title": task.title}, template="work/task_form.html",
    )  # fmt: skip


@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    task = queries.task_get(request.user, pk)
    try:
        services.task_complete(request.user, task=task)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("work:task_detail", pk=task.pk)


@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    task = queries.task_get(request.user, pk)
    form = CancelForm(request.POST)
    ok, _result = submit(
        form, lambda: services.task_cancel(request.user, task=task, reason=form.cleaned_data["reason"])
    )
    if ok:
        return redirect("work:task_detail", pk=task.pk)
    return render(request, "work/task_detail.html", {"task": task, "cancel_form": form}, status=400)


# --- agenda -----------------------------------------------------------------------------------------
@require_GET
def agenda(request: HttpRequest) -> HttpResponse:
    """The care calendar: what is due in the next 30 days, by day. Supervisors may look at a manager's."""
    try:
        start = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = timezone.localdate()
    manager = staff_of(request.user)
    if request.GET.get("manager"):
        try:
            manager = get_object_or_404(queries.overseen_staff(request.user), pk=int(request.GET["manager"]))
        except ValueError:
            manager = staff_of(request.user)
    context = {
        "days": queries.agenda(request.user, start, manager=manager),
        "start": start,
        "previous": start - timedelta(days=queries.AGENDA_DAYS),
        "next": start + timedelta(days=queries.AGENDA_DAYS),
        "manager": manager,
        "today": timezone.localdate(),
    }
    return render_htmx(request, "work/agenda.html", context, partial="days")


# --- notifications ----------------------------------------------------------------------------------
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    unread = request.GET.get("unread") == "1"
    notifications = queries.notifications_of(request.user, unread=unread)
    context = {"unread": unread, "unread_count": queries.unread_count(request.user)}
    return list_page(
        request, "work/notification_list.html", notifications, per_page=PAGE_SIZE, capped=False, partial="inbox",
        context=context,
    )  # fmt: skip


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read, then follow its link (only to our own site)."""
    notification = services.notification_read(request.user, pk=pk)
    target = notification.url if request.POST.get("follow") else ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("work:notifications")


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_read_all(request.user)
    return redirect("work:notifications")


# --- compliance -------------------------------------------------------------------------------------
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    today = timezone.localdate()
    owners = queries.overseen_staff(request.user)
    kept = queries.coverage_kept(owners)
    rows = queries.coverage(owners, today) if kept is None else kept
    page = paginate(request, rows, PAGE_SIZE * 2, capped=False)
    as_of = kept.as_of() if kept is not None else None
    return render(request, "work/coverage.html", {"page": page, "today": today, "as_of": as_of})


@require_GET
def follow_ups(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    now = timezone.now()
    context = {
        "leads": paginate(request, queries.stale_leads(request.user, now), PAGE_SIZE, param="leads_page"),
        "opportunities": paginate(
            request, queries.stale_opportunities(request.user, now), PAGE_SIZE, param="opportunities_page"
        ),
        "days": queries.FOLLOW_UP_DAYS,
    }
    return render(request, "work/follow_ups.html", context)


@require_GET
def absent_users(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    page = paginate(request, queries.absent_users(request.user, timezone.now()), PAGE_SIZE, capped=False)
    return render(request, "work/absent_users.html", {"page": page, "days": queries.NO_LOGIN_DAYS})


def _fmt(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def follow_ups_table(user, params) -> exports.Table:
    """Stale leads, then stale opportunities, as plain values."""
    _require_reports(user)
    now = timezone.now()
    leads, opportunities = queries.stale_leads(user, now), queries.stale_opportunities(user, now)
    statuses = {key: str(label) for key, label in leads.model._meta.get_field("status").flatchoices}
    lead_rows = exports.rows_of(leads, "name", "owner__name", "customer__name", "status")
    opportunity_rows = exports.rows_of(opportunities, "name", "owner__name", "customer__name", "stage__name",
                                       "stage__probability")  # fmt: skip

    def rows():
        lead, opportunity = _("Lead"), _("Opportunity")
        for name, owner, customer, status in lead_rows():
            yield [lead, name, owner or "", customer or "", statuses.get(status, status)]
        for name, owner, customer, stage, probability in opportunity_rows():
            yield [opportunity, name, owner or "", customer or "", f"{stage} ({probability}%)"]

    header = [pgettext("follow-up export", "Record"), _("Name"), _("Owner"), _("Customer"), _("Status")]
    return exports.Table(what="work.follow_ups", filename="follow-ups", header=header, rows=rows,
                         count=lambda: leads.count() + opportunities.count())  # fmt: skip


def absent_users_table(user, params) -> exports.Table:
    _require_reports(user)
    staff = queries.absent_users(user, timezone.now())
    values = exports.rows_of(staff, "name", "user__username", "org_unit__name", "user__last_login", "last_seen")

    def rows():
        for name, username, unit, last_login, last_seen in values():
            yield [name, username, unit, _fmt(last_login), _fmt(last_seen)]

    header = [pgettext("person", "Name"), _("Username"), _("Org unit"), _("Last login"), _("Absent since")]
    return exports.Table(what="work.absent_users", filename="no-login", header=header, rows=rows, count=staff.count)


@require_GET
def follow_ups_export(request: HttpRequest) -> HttpResponse:
    return exports.respond(request, follow_ups_table)


@require_GET
def absent_users_export(request: HttpRequest) -> HttpResponse:
    return exports.respond(request, absent_users_table)


# --- handovers --------------------------------------------------------------------------------------
@require_GET
def handover_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, queries.handovers_visible(request.user), PAGE_SIZE, capped=False)
    return render(request, "work/handover_list.html", {"page": page})


def handover_create(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    form = HandoverForm(request.POST or None, user=request.user)
    return form_page(
        request,
        form,
        lambda: services.handover(
            request.user,
            old_owner=form.cleaned_data["old_owner"],
            new_owner=form.cleaned_data["new_owner"],
            customer_ids=form.cleaned_data["customer_numbers"],
            note=form.cleaned_data["note"],
            disable_account=form.cleaned_data["disable_account"],
        ),
        done="work:handovers",
        message=lambda result: _("Handed over: %(handover)s") % {"handover": result},
        template="work/handover_form.html",
    )


@require_GET
def orphans(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    found = queries.orphans(request.user)
    sections = [(name, queryset.count(), list(queryset[:PAGE_SIZE])) for name, queryset in found.items()]
    return render(request, "work/orphans.html", {"sections": sections})


# --- the workbench (工作台), the home page --------------------------------------------------------------------------
def scope_kind(user) -> str:
    """How the workbench names the user's customers: "all", "area" (an org subtree) or "portfolio" (own)."""
    if customer_scope(user) == EVERYTHING:
        return "all"
    staff = staff_of(user)
    if staff is not None and staff.role_codes & Role.SUBTREE_ROLES:
        return "area"
    return "portfolio"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The workbench (the home page): the user's portfolio at a glance, visible customers by grade and status,
    each count a link, and the approvals waiting for them."""
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
        "scope_kind": scope_kind(request.user),
        "approvals": deal_queries.workbench_approvals(request.user),  # None for who approves nothing
    }
    return render(request, "core/home.html", context)
