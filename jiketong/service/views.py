"""Service pages: tickets, the breach board, surveys, the satisfaction quadrant and the calendar.
Thin: reads come from queries.py, writes go to services.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiketong.core.forms import form_page, submit
from jiketong.core.listing import list_page
from jiketong.customers import queries as customer_queries
from jiketong.customers.services import require_edit
from jiketong.customers.views import form_frame
from jiketong.org.models import Role, can, staff_of

from . import queries, services
from .charts import quadrant_chart
from .forms import (
    CalendarDayForm,
    NoteForm,
    RateForm,
    ReasonForm,
    ResolveForm,
    SlaPolicyForm,
    SurveyForm,
    TicketForm,
    TransferForm,
)
from .models import CalendarDay, SlaPolicy

PAGE_SIZE = 20


# --- tickets --------------------------------------------------------------------------------------
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    ticket_filter, queryset = queries.ticket_list(request.user, request.GET)
    return list_page(
        request, "service/ticket_list.html", queryset, per_page=PAGE_SIZE, context={"filter": ticket_filter}
    )


def ticket_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Quick entry from the customer 360 page: the person who records it is its first responder."""
    require_edit(request.user)
    customer = customer_queries.customer_get(request.user, customer_pk)
    form = TicketForm(request.POST or None, contacts=customer_queries.contacts_of(request.user, customer.pk))
    return form_page(
        request, form, lambda: services.ticket_receive(actor=request.user, customer=customer, **form.cleaned_data),
        done=_ticket_url, message=lambda new: _("Ticket %(number)s received; you own it.") % {"number": new.number},
        context=form_frame(customer, _("New ticket")),
    )  # fmt: skip


def ticket_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct an open ticket's title, description, priority or contact."""
    require_edit(request.user)
    ticket = queries.ticket_get(request.user, pk)
    initial = {name: getattr(ticket, name) for name in services.TICKET_EDIT_FIELDS}
    contacts = customer_queries.contacts_of(request.user, ticket.customer_id)
    form = TicketForm(request.POST or None, initial=initial, contacts=contacts, record=ticket)
    return form_page(
        request, form, lambda: services.ticket_update(actor=request.user, ticket=ticket, **form.cleaned_data),
        done=_ticket_url(ticket), message=lambda _r: _("Ticket %(number)s saved.") % {"number": ticket.number},
        context=lambda: form_frame(ticket.customer, _("Edit ticket %(number)s") % {"number": ticket.number}),
    )  # fmt: skip


def _ticket_url(ticket) -> str:
    return reverse("service:ticket_detail", args=[ticket.pk])


def _action_forms(request: HttpRequest, ticket) -> dict:
    return {
        "respond_form": NoteForm(prefix="respond"),
        "resolve_form": ResolveForm(prefix="resolve"),
        "close_form": NoteForm(prefix="close"),
        "reopen_form": ReasonForm(prefix="reopen"),
        "transfer_form": TransferForm(prefix="transfer", user=request.user),
        "decline_form": ReasonForm(prefix="decline"),
        "rate_form": RateForm(prefix="rate"),
    }


def _detail(request: HttpRequest, ticket, status: int = 200, **bound) -> HttpResponse:
    staff = staff_of(request.user)
    context = {
        "ticket": ticket,
        "events": queries.ticket_history(ticket),
        "is_owner": staff is not None and ticket.owner_id == staff.pk,
        "is_transfer_target": staff is not None and ticket.transfer_to_id == staff.pk,
        "can_edit": can(request.user, Role.EDIT_ROLES),
        **_action_forms(request, ticket),
        **bound,
    }
    return render(request, "service/ticket_detail.html", context, status=status)


@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, queries.ticket_get(request.user, pk))


# action → (form class, service, how the form's data maps onto the service's arguments, success message)
ACTIONS = {
    "respond": (
        NoteForm,
        services.ticket_respond,
        lambda d: {"note": d["note"]},
        gettext_lazy("Ticket taken in hand."),
    ),
    "resolve": (ResolveForm, services.ticket_resolve, lambda d: d, gettext_lazy("Ticket resolved.")),
    "close": (NoteForm, services.ticket_close, lambda d: {"note": d["note"]}, gettext_lazy("Ticket closed.")),
    "reopen": (ReasonForm, services.ticket_reopen, lambda d: d, gettext_lazy("Ticket reopened.")),
    "transfer": (TransferForm, services.transfer_request, lambda d: d, gettext_lazy("Transfer requested.")),
    "accept": (None, services.transfer_accept, lambda d: {}, gettext_lazy("You now own this ticket.")),
    "decline": (ReasonForm, services.transfer_decline, lambda d: d, gettext_lazy("Transfer declined.")),
    "rate": (RateForm, services.ticket_rate, lambda d: d, gettext_lazy("Rating recorded.")),
}


@require_POST
def ticket_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Every step of a ticket's life posts here from the detail page; errors re-render it with the form."""
    ticket = queries.ticket_get(request.user, pk)
    form_class, service, arguments, done = ACTIONS[action]
    form = None
    if form_class is not None:
        extra = {"user": request.user} if form_class is TransferForm else {}
        form = form_class(request.POST, prefix=action, **extra)
    if form is None:
        try:
            service(actor=request.user, ticket=ticket)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("service:ticket_detail", pk=ticket.pk)
        ok = True
    else:
        ok, _result = submit(form, lambda: service(actor=request.user, ticket=ticket, **arguments(form.cleaned_data)))
    if ok:
        messages.success(request, str(done))
        return redirect("service:ticket_detail", pk=ticket.pk)
    return _detail(request, ticket, status=400, **{f"{action}_form": form, "open_action": action})


@require_GET
def breach_board(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    queryset = queries.breach_board(request.user, now, queries.business_calendar())
    context = {"now": now, "horizon": queries.BREACH_HORIZON_MINUTES}
    return list_page(request, "service/breach_board.html", queryset, per_page=PAGE_SIZE, capped=False, context=context)


# --- surveys and satisfaction ---------------------------------------------------------------------
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    survey_filter, queryset = queries.survey_list(request.user, request.GET)
    return list_page(
        request,
        "service/survey_list.html",
        queryset,
        per_page=PAGE_SIZE,
        capped=False,
        context={"filter": survey_filter},
    )


@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = queries.survey_get(request.user, pk)
    return render(request, "service/survey_detail.html", {"survey": survey, "answers": survey.answers.all()})


def survey_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    require_edit(request.user)
    customer = customer_queries.customer_get(request.user, customer_pk)
    form = SurveyForm(request.POST or None)
    return form_page(
        request,
        form,
        lambda: services.survey_create(
            actor=request.user,
            customer=customer,
            period=form.cleaned_data["period"],
            surveyed_on=form.cleaned_data["surveyed_on"],
            note=form.cleaned_data["note"],
            answers=form.answers(),
        ),
        done=lambda survey: reverse("service:survey_detail", args=[survey.pk]),
        message=_("Survey recorded."),
        context=form_frame(customer, _("New survey")),
    )


@require_GET
def quadrant(request: HttpRequest) -> HttpResponse:
    periods = [p for p in request.GET.getlist("period") if p]
    result = queries.satisfaction_quadrant(request.user, periods=periods)
    context = {"quadrant": result, "chart": quadrant_chart(result), "periods": periods}
    return render(request, "service/quadrant.html", context)


def _calendar_page(request: HttpRequest, day_form: CalendarDayForm | None = None, status: int = 200) -> HttpResponse:
    is_admin = can(request.user, {Role.ADMIN})
    context = {**queries.calendar_overview(timezone.localdate()), "is_admin": is_admin}
    if is_admin:
        context["day_form"] = day_form or CalendarDayForm()
    return render(request, "service/calendar.html", context, status=status)


@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """The working hours, the holiday and make-up days ahead, and the SLA policies; administrators edit the
    days and the policies here (service.services)."""
    return _calendar_page(request)


@require_POST
def calendar_day_add(request: HttpRequest) -> HttpResponse:
    services.require_admin(request.user)
    form = CalendarDayForm(request.POST)
    ok, day = submit(form, lambda: services.calendar_day_add(actor=request.user, **form.service_data()))
    if not ok:
        return _calendar_page(request, form)
    messages.success(
        request,
        _("%(date)s %(name)s added: tickets received from now on count their deadlines with it.")
        % {"date": day.date.isoformat(), "name": day.name},
    )
    return redirect("service:calendar")


@require_POST
def calendar_day_remove(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    day = get_object_or_404(CalendarDay, pk=pk)
    services.calendar_day_remove(actor=request.user, day=day)
    messages.success(request, _("%(date)s removed from the calendar.") % {"date": day.date.isoformat()})
    return redirect("service:calendar")


@require_http_methods(["GET", "POST"])
def sla_policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    policy = get_object_or_404(SlaPolicy, pk=pk)
    initial = {"response_minutes": policy.response_minutes, "resolution_minutes": policy.resolution_minutes}
    form = SlaPolicyForm(request.POST or None, initial=initial)
    return form_page(
        request,
        form,
        lambda: services.sla_policy_update(
            actor=request.user,
            policy=policy,
            response_minutes=form.cleaned_data.get("response_minutes"),
            resolution_minutes=form.cleaned_data.get("resolution_minutes"),
        ),
        done="service:calendar",
        message=lambda _r: _("SLA policy %(policy)s saved.") % {"policy": policy},
        template="service/sla_form.html",
        context={"policy": policy},
    )
