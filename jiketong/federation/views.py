"""HQ's national pages (thin: queries do the reading). They exist on HQ and on a single instance; a province
instance answers 404 (its national view is HQ's)."""

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiketong.core.htmx import is_partial
from jiketong.core.paging import CappedPaginator

from . import instance, queries
from .models import NationalGroup


def _guard(request: HttpRequest) -> None:
    if not instance.serves_national_views():
        raise Http404
    queries.require_national(request.user)


def group_list(request: HttpRequest) -> HttpResponse:
    _guard(request)
    search = request.GET.get("search", "").strip()[:100]
    national_only = request.GET.get("national") == "1"
    page = CappedPaginator(queries.groups(search, national_only), 50).get_page(request.GET.get("page"))
    context = {"page": page, "search": search, "national_only": national_only}
    template = "federation/group_list.html#rows" if is_partial(request) else "federation/group_list.html"
    return render(request, template, context)


def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    _guard(request)
    group = get_object_or_404(NationalGroup.objects.select_related("account"), pk=group_id)
    return render(request, "federation/group_detail.html", {"group": group, **queries.group_360(group)})


def indicators(request: HttpRequest) -> HttpResponse:
    _guard(request)
    periods = queries.periods()
    try:
        period = date.fromisoformat(request.GET.get("period", "") + "-01") if request.GET.get("period") else None
    except ValueError:
        period = None
    period = period if period in periods else (periods[0] if periods else None)
    return render(
        request,
        "federation/indicators.html",
        {"periods": periods, "period": period, **queries.national_indicators(period)},
    )


def freshness(request: HttpRequest) -> HttpResponse:
    _guard(request)
    return render(request, "federation/freshness.html", {"rows": queries.freshness()})


@require_POST
def share(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A province supervisor or administrator shares a group with HQ (its head: the whole group)."""
    from jiketong.customers.models import Customer

    from .services import group_share

    if not instance.is_province():
        raise Http404
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_id)
    group_share(actor=request.user, customer=customer)
    messages.success(request, _("The group is shared with HQ; the next sync sends it."))
    return redirect("customers:detail", customer.pk)
