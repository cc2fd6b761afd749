"""Administrators' pages for webhooks: endpoints, their secrets and delivery logs. Thin: reads from queries.py,
writes through services.py; everyone else gets 403."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiketong.core.forms import form_page
from jiketong.core.htmx import is_partial
from jiketong.core.listing import paginate
from jiketong.org.models import Role, can

from . import queries, sender, services
from .forms import EndpointForm
from .models import DeliveryStatus, Endpoint

PAGE_SIZE = 50


def _require_admin(request: HttpRequest) -> None:
    if not can(request.user, {Role.ADMIN}):
        raise PermissionDenied


def _detail_url(endpoint: Endpoint, *, show_secret: bool = False) -> str:
    url = reverse("webhooks:detail", args=[endpoint.pk])
    return f"{url}?secret=show" if show_secret else url


@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "webhooks/endpoint_list.html", {"endpoints": queries.endpoints()})


def endpoint_create(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = EndpointForm(request.POST or None)
    return form_page(
        request, form, lambda: services.endpoint_create(actor=request.user, **form.service_data()),
        done=lambda endpoint: _detail_url(endpoint, show_secret=True),
        message=_("Endpoint registered. Copy its signing secret to the receiver now."),
        template="webhooks/endpoint_form.html", context={"endpoint": None},
    )  # fmt: skip


def endpoint_edit(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    _require_admin(request)
    endpoint = queries.endpoint_get(endpoint_pk)
    form = EndpointForm(request.POST or None, endpoint=endpoint)
    return form_page(
        request, form, lambda: services.endpoint_update(actor=request.user, endpoint=endpoint, **form.service_data()),
        done=_detail_url(endpoint), message=_("Endpoint saved."), template="webhooks/endpoint_form.html",
        context={"endpoint": endpoint},
    )  # fmt: skip


@require_GET
def endpoint_detail(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    """The endpoint, its secret (on request) and its delivery log, filtered by status; the log alone for HTMX."""
    _require_admin(request)
    endpoint = queries.endpoint_get(endpoint_pk)
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    page = paginate(request, queries.deliveries(endpoint, status), PAGE_SIZE, capped=False)
    counts = queries.status_counts(endpoint)
    context = {
        "endpoint": endpoint,
        "page": page,
        "status": status,
        "statuses": [(value, label, counts[value]) for value, label in DeliveryStatus.choices],
        "total": sum(counts.values()),
        "gave_up": counts[DeliveryStatus.GAVE_UP],
        "show_secret": request.GET.get("secret") == "show",
    }
    if context["show_secret"]:
        context["secret"] = services.endpoint_secret_reveal(actor=request.user, endpoint=endpoint)
    if is_partial(request):
        target = "secret" if request.GET.get("secret") == "show" else "log"
        return render(request, f"webhooks/endpoint_detail.html#{target}", context)
    return render(request, "webhooks/endpoint_detail.html", context)


@require_POST
def endpoint_rotate_secret(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    _require_admin(request)
    endpoint = services.endpoint_rotate_secret(actor=request.user, endpoint=queries.endpoint_get(endpoint_pk))
    messages.warning(request, _("New signing secret: give it to the receiver; the old one no longer verifies."))
    return redirect(_detail_url(endpoint, show_secret=True))


@require_POST
def endpoint_activate(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    _require_admin(request)
    endpoint = services.endpoint_activate(actor=request.user, endpoint=queries.endpoint_get(endpoint_pk))
    messages.success(request, _("Endpoint active: waiting deliveries are sent by the next run of the sender."))
    return redirect(_detail_url(endpoint))


@require_POST
def endpoint_deactivate(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    _require_admin(request)
    endpoint = services.endpoint_deactivate(actor=request.user, endpoint=queries.endpoint_get(endpoint_pk))
    messages.success(request, _("Endpoint deactivated: it receives nothing until it is activated again."))
    return redirect(_detail_url(endpoint))


def _report(request: HttpRequest, result: sender.Result, success: str) -> None:
    if result.ok:
        messages.success(request, success + f" (HTTP {result.status_code}, {result.duration_ms} ms)")
    else:
        messages.error(request, _("The receiver did not accept it: %(error)s") % {"error": result.error})


@require_POST
def endpoint_test(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    _require_admin(request)
    endpoint = queries.endpoint_get(endpoint_pk)
    _report(request, services.endpoint_send_test(actor=request.user, endpoint=endpoint), _("Test message delivered."))
    return redirect(_detail_url(endpoint))


@require_POST
def endpoint_redeliver_given_up(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    _require_admin(request)
    endpoint = queries.endpoint_get(endpoint_pk)
    count = services.endpoint_redeliver_given_up(actor=request.user, endpoint=endpoint)
    messages.success(request, _("%(count)s deliveries queued again.") % {"count": count})
    return redirect(_detail_url(endpoint))


@require_POST
def endpoint_delete(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    _require_admin(request)
    endpoint = queries.endpoint_get(endpoint_pk)
    services.endpoint_delete(actor=request.user, endpoint=endpoint)
    messages.success(request, _("Endpoint %(name)s deleted with its delivery log.") % {"name": endpoint.name})
    return redirect("webhooks:list")


@require_GET
def delivery_detail(request: HttpRequest, delivery_pk: int) -> HttpResponse:
    """One delivery: what was sent (the body, rebuilt exactly) and every attempt with its answer."""
    _require_admin(request)
    delivery = queries.delivery_get(delivery_pk)
    context = {
        "delivery": delivery,
        "endpoint": delivery.endpoint,
        "body": sender.body_for(delivery.event),
        "attempts": queries.attempts(delivery),
    }
    return render(request, "webhooks/delivery_detail.html", context)


@require_POST
def delivery_redeliver(request: HttpRequest, delivery_pk: int) -> HttpResponse:
    _require_admin(request)
    delivery = services.delivery_redeliver(actor=request.user, delivery=queries.delivery_get(delivery_pk))
    if delivery.status == DeliveryStatus.SUCCEEDED:
        messages.success(request, _("Delivered again (HTTP %(code)s).") % {"code": delivery.last_status_code})
    else:
        messages.error(request, _("The receiver did not accept it: %(error)s") % {"error": delivery.last_error})
    return redirect(request.POST.get("back") == "endpoint" and _detail_url(delivery.endpoint)
                    or reverse("webhooks:delivery", args=[delivery.pk]))  # fmt: skip
