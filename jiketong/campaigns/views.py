"""Campaign pages, the whitespace list and its export. Thin: reads in queries.py, writes in services.py."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiketong.catalog.models import Product
from jiketong.core import exports
from jiketong.core.forms import form_page
from jiketong.core.htmx import is_partial
from jiketong.core.listing import paginate, render_htmx
from jiketong.org.models import OrgUnit, can

from . import crosssell, queries, services, targeting
from .forms import CampaignForm, ResponseForm
from .models import Audience, CampaignStatus, TargetStatus

PAGE_SIZE = 20
# The whitespace list counts up to 1,000 customers ("1000+"): each counted row is a customer, its month and a
# check of its subscriptions, so the count costs what a thousand rows cost at any size (decision 1002); the export
# has them all.
WHITESPACE_COUNT_CAP = 1_000


@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in CampaignStatus.values else ""
    page = paginate(request, queries.campaigns(request.user, status), PAGE_SIZE)
    context = {"page": page, "status": status, "statuses": CampaignStatus.choices,
               "can_plan": can(request.user, services.PLAN_ROLES)}  # fmt: skip
    return render(request, "campaigns/list.html", context)


@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    services.require_planner(request.user)
    today = timezone.localdate()
    initial = {"starts_on": today, "ends_on": today + timedelta(days=30), "audience": Audience.CUSTOMERS}
    form = CampaignForm(request.POST or None, user=request.user, initial=initial)

    def built(campaign) -> HttpResponse:
        services.targets_build(actor=request.user, campaign=campaign)
        return redirect("campaigns:detail", campaign.pk)

    return form_page(
        request, form, lambda: services.campaign_create(actor=request.user, **form.service_data()), done=built,
        template="campaigns/form.html",
    )  # fmt: skip


@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = queries.campaign_get(request.user, pk)
    if is_partial(request) and request.GET.get("progress"):
        return render(request, "campaigns/detail.html#progress", {"campaign": campaign})
    mine = request.GET.get("mine") == "1"
    status = request.GET.get("status", "")
    status = status if status in TargetStatus.values else ""
    targets = queries.targets(request.user, campaign, mine=mine, status=status)
    page = paginate(request, targets, PAGE_SIZE)
    context = {
        "campaign": campaign,
        "criteria": targeting.describe(campaign.criteria),
        "results": queries.results(request.user, campaign),
        "page": page,
        "mine": mine,
        "status": status,
        "statuses": TargetStatus.choices,
        "response_form": ResponseForm(),
        "can_plan": can(request.user, services.PLAN_ROLES),
    }
    return render_htmx(request, "campaigns/detail.html", context, partial="targets")


def _step(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    campaign = queries.campaign_get(request.user, pk)
    try:
        action(campaign)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("campaigns:detail", campaign.pk)


@require_POST
def campaign_build(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, lambda c: services.targets_build(actor=request.user, campaign=c),
                 _("The target list is being built."))  # fmt: skip


@require_POST
def campaign_launch(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, lambda c: services.campaign_launch(actor=request.user, campaign=c),
                 _("The campaign is running: each manager has a task with their customers."))  # fmt: skip


@require_POST
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, lambda c: services.campaign_close(actor=request.user, campaign=c),
                 _("The campaign is closed."))  # fmt: skip


@require_POST
def target_respond(request: HttpRequest, pk: int, campaign_target_pk: int) -> HttpResponse:
    campaign = queries.campaign_get(request.user, pk)
    target = queries.target_get(request.user, campaign, campaign_target_pk)
    form = ResponseForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.response_record(actor=request.user, target=target, **form.cleaned_data)
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        except PermissionDenied as exc:
            error = str(exc)
    else:
        error = "; ".join(str(m) for errors in form.errors.values() for m in errors)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Response recorded."))
    back = request.POST.get("back", "")
    query = "?" + back if back and "\n" not in back and len(back) < 200 else ""
    return redirect(f"{campaign_url(campaign.pk)}{query}")


def campaign_url(pk: int) -> str:
    from django.urls import reverse

    return reverse("campaigns:detail", args=[pk])


# --- whitespace -------------------------------------------------------------------------------------
def _whitespace_args(request_or_user, params):
    products = crosssell.whitespace_products()
    product = products.filter(pk=params.get("product")).first() if str(params.get("product", "")).isdigit() else None
    region_code = params.get("region", "")
    region = OrgUnit.objects.filter(code=region_code).first() if region_code else None
    industry = params.get("industry", "")
    return products, product, region, industry


def _require_whitespace(user) -> None:
    if not can(user, {"supervisor", "analyst", "admin"}):
        raise PermissionDenied(_("Your role cannot open this page."))


@require_GET
def whitespace(request: HttpRequest) -> HttpResponse:
    _require_whitespace(request.user)
    products, product, region, industry = _whitespace_args(request.user, request.GET)
    page = None
    if product is not None:
        rows = queries.whitespace(request.user, product, region=region, industry=industry)
        page = paginate(request, rows, PAGE_SIZE, cap=WHITESPACE_COUNT_CAP)
    from .forms import _units_for

    context = {"products": products, "product": product, "region": region, "page": page,
               "regions": _units_for(request.user)[:500], "industry": industry,
               "can_plan": can(request.user, services.PLAN_ROLES)}  # fmt: skip
    return render(request, "campaigns/whitespace.html", context)


def whitespace_table(user, params) -> exports.Table:
    """The whitespace list as plain values, most valuable first."""
    _products, product, region, industry = _whitespace_args(user, params)
    if product is None:
        raise Http404
    rows = queries.whitespace(user, product, region=region, industry=industry)
    fields = ["customer__number", "customer__name", "customer__industry__name", "customer__org_unit__name",
              "customer__owner__name", "customer__grade", "revenue"]  # fmt: skip
    values = exports.rows_of(rows, *fields)
    header = [_("Customer number"), _("Customer"), _("Industry"), _("Region"), _("Customer manager"), _("Grade"),
              _("Revenue of the last billed month (yuan)")]  # fmt: skip
    return exports.Table(what="campaigns.whitespace", filename=f"whitespace-{product.code}",
                         sheet=_("Whitespace"), header=header,
                         rows=lambda: ([n or "", name, ind, unit, owner or "", grade, rev]
                                       for n, name, ind, unit, owner, grade, rev in values()),
                         count=rows.count)  # fmt: skip


@require_GET
def whitespace_export(request: HttpRequest) -> HttpResponse:
    _require_whitespace(request.user)
    return exports.respond(request, whitespace_table)


@require_POST
def whitespace_campaign(request: HttpRequest) -> HttpResponse:
    """One click: a draft campaign over the in-service customers without the product (in the region), built."""
    product = get_object_or_404(Product, pk=request.POST.get("product") or 0, is_active=True)
    region = OrgUnit.objects.filter(code=request.POST.get("region", "")).first()
    criteria = {"lacks": product.pk} | ({"region": region.code} if region else {})
    if request.POST.get("industry"):
        criteria["industry"] = request.POST["industry"]
    today = timezone.localdate()
    try:
        campaign = services.campaign_create(
            actor=request.user, name=_("%(product)s whitespace") % {"product": product.name},
            goal=_("Offer %(product)s to in-service customers who do not hold it.") % {"product": product.name},
            starts_on=today, ends_on=today + timedelta(days=30),
            criteria=criteria, products=[product],
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("campaigns:whitespace")
    services.targets_build(actor=request.user, campaign=campaign)
    return redirect("campaigns:detail", campaign.pk)
