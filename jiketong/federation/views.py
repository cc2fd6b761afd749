"""HQ's national pages (thin: queries do the reading). They exist on HQ and on a single instance; a province
instance answers 404 (its national view is HQ's)."""

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiketong.core.forms import submit
from jiketong.core.listing import list_page

from . import forms, instance, queries, services
from .models import NationalGroup

PAGE_SIZE = 50


def _guard(request: HttpRequest) -> None:
    if not instance.serves_national_views():
        raise Http404
    queries.require_national(request.user)


def group_list(request: HttpRequest) -> HttpResponse:
    _guard(request)
    search = request.GET.get("search", "").strip()[:100]
    national_only = request.GET.get("national") == "1"
    context = {"search": search, "national_only": national_only, "can_direct": queries.can_direct(request.user)}
    groups = queries.groups(search, national_only)
    return list_page(request, "federation/group_list.html", groups, per_page=PAGE_SIZE, partial="rows", context=context)


def _guard_direct(request: HttpRequest) -> None:
    _guard(request)
    services.require_hq_admin(request.user)


def group_detail(request: HttpRequest, group_id: int, form=None) -> HttpResponse:
    _guard(request)
    group = get_object_or_404(NationalGroup.objects.select_related("account"), pk=group_id)
    context = {"group": group, **queries.group_360(group)}
    if queries.can_direct(request.user):
        account = context["account"]
        initial = (
            {
                "lead_province": account.lead_province,
                "manager_name": account.manager_name,
                "team": "、".join(account.team),
            }
            if account
            else {}
        )
        context["assign_form"] = form or forms.AssignmentForm(initial=initial)
    return render(request, "federation/group_detail.html", context, status=400 if form else 200)


@require_POST
def group_assign(request: HttpRequest, group_id: int) -> HttpResponse:
    """HQ names a national group's lead province and national account manager and team (every province reads it)."""
    _guard_direct(request)
    group = get_object_or_404(NationalGroup, pk=group_id)
    form = forms.AssignmentForm(request.POST)
    ok, _account = submit(form, lambda: services.account_assign(actor=request.user, group=group, **form.service_data()))
    if not ok:
        return group_detail(request, group_id, form=form)
    messages.success(request, _("The national account assignment is saved; each province applies it at its next sync."))
    return redirect("federation:group", group.pk)


def directives(request: HttpRequest, bound: dict | None = None) -> HttpResponse:
    """下达: HQ's directives to the provinces — national targets, the national catalog, HQ discount rules —
    with what was sent most recently."""
    _guard_direct(request)
    bound = bound or {}
    context = {
        "target_form": bound.get("target") or forms.TargetForm(),
        "catalog_form": bound.get("catalog") or forms.CatalogForm(),
        "discount_form": bound.get("discount") or forms.DiscountRuleForm(),
        "can_direct": True,
        **queries.directives_page(),
    }
    return render(request, "federation/directives.html", context, status=400 if bound else 200)


@require_POST
def directive_target(request: HttpRequest) -> HttpResponse:
    _guard_direct(request)
    form = forms.TargetForm(request.POST)
    ok, _target = submit(form, lambda: services.target_set(actor=request.user, **form.cleaned_data))
    if not ok:
        return directives(request, {"target": form})
    messages.success(request, _("The national target is saved; the province applies it at its next sync."))
    return redirect("federation:directives")


@require_POST
def directive_catalog(request: HttpRequest) -> HttpResponse:
    _guard_direct(request)
    form = forms.CatalogForm(request.POST)
    ok, _entry = submit(
        form,
        lambda: services.catalog_publish(
            actor=request.user, product=form.cleaned_data.get("product"), package=form.cleaned_data.get("package")
        ),
    )
    if not ok:
        return directives(request, {"catalog": form})
    messages.success(request, _("Published to the national catalog; every province applies it at its next sync."))
    return redirect("federation:directives")


@require_POST
def directive_discount(request: HttpRequest) -> HttpResponse:
    _guard_direct(request)
    form = forms.DiscountRuleForm(request.POST)
    ok, _rule = submit(form, lambda: services.discount_rule_set(actor=request.user, **form.cleaned_data))
    if not ok:
        return directives(request, {"discount": form})
    messages.success(request, _("The HQ discount rule is saved; every province applies it at its next sync."))
    return redirect("federation:directives")


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
        {
            "periods": periods,
            "period": period,
            "can_direct": queries.can_direct(request.user),
            **queries.national_indicators(period),
        },
    )


def freshness(request: HttpRequest) -> HttpResponse:
    _guard(request)
    context = {"rows": queries.freshness(), "can_direct": queries.can_direct(request.user)}
    return render(request, "federation/freshness.html", context)


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
