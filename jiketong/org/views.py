"""用户管理: the system administrator keeps staff accounts here (list, open, change, disable, enable, set a
password). Thin: reads in queries.py, every write through services.py, as the API does."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiketong.core.forms import form_page
from jiketong.core.listing import list_page

from . import queries, services
from .forms import PasswordForm, StaffCreateForm, StaffEditForm

PAGE_SIZE = 25


def _shown_once(request: HttpRequest, staff, password: str) -> HttpResponse:
    """A generated password, on this one answer only: never stored in clear, never cached by the browser."""
    response = render(request, "org/password_shown.html", {"record": staff, "password": password})
    add_never_cache_headers(response)
    return response


@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    services.require_admin(request.user)
    staff_filter, rows = queries.staff_list(request.user, request.GET)
    context = {"filter": staff_filter}
    return list_page(request, "org/staff_list.html", rows, per_page=PAGE_SIZE, capped=False, context=context)


@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    services.require_admin(request.user)
    form = StaffCreateForm(request.POST or None)
    return form_page(
        request, form, lambda: services.staff_create(actor=request.user, **form.service_data()),
        done=lambda staff: _saved(
            request, form, staff, _("Account %(username)s opened.") % {"username": staff.user.username}
        ),
        template="org/staff_form.html",
    )  # fmt: skip


def _saved(request: HttpRequest, form, staff, done: str) -> HttpResponse:
    """A password the form generated is shown once; otherwise the message and back to the account."""
    if form.cleaned_data["generated"]:
        return _shown_once(request, staff, form.cleaned_data["password"])
    messages.success(request, done)
    return redirect("org:staff_edit", staff.pk)


@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    staff = queries.staff_get(request.user, pk)
    form = StaffEditForm(request.POST or None, instance=staff)
    return form_page(
        request, form,
        lambda: services.staff_update(actor=request.user, staff=staff, **form.service_data(only_changed=True)),
        done=reverse("org:staff_edit", args=[staff.pk]),
        message=lambda _r: _("Changes to %(name)s saved.") % {"name": staff.name},
        template="org/staff_form.html", context={"record": staff},
    )  # fmt: skip


def _account_step(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    services.require_admin(request.user)
    staff = queries.staff_get(request.user, pk)
    try:
        action(staff)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, done % {"name": staff.name})
    return redirect("org:staff_edit", staff.pk)


@require_POST
def staff_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_step(
        request,
        pk,
        lambda staff: services.staff_deactivate(actor=request.user, staff=staff),
        _("%(name)s's account is disabled: their sessions and API tokens no longer work."),
    )


@require_POST
def staff_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_step(
        request,
        pk,
        lambda staff: services.staff_reactivate(actor=request.user, staff=staff),
        _("%(name)s's account is active again."),
    )


@require_http_methods(["GET", "POST"])
def staff_password(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    staff = queries.staff_get(request.user, pk)
    form = PasswordForm(request.POST or None)
    return form_page(
        request, form,
        lambda: services.staff_set_password(
            actor=request.user, staff=staff, password=form.cleaned_data.get("password") or ""
        ),
        done=lambda _r: _saved(request, form, staff, _("%(name)s's password is set.") % {"name": staff.name}),
        template="org/password_form.html", context={"record": staff},
    )  # fmt: skip
