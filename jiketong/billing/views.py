"""Billing pages: imports (analysts and admins) and a customer's points statement. Thin: reads from
queries.py, writes through services.py."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiketong.core import exports
from jiketong.core.forms import form_page, submit
from jiketong.core.listing import paginate, render_htmx
from jiketong.customers import queries as customer_queries
from jiketong.customers.forms import apply_errors
from jiketong.org.models import Role, can

from . import queries, services
from .forms import BenefitForm, BenefitUseForm, ImportForm, RedemptionForm
from .models import ClubTier, RedemptionRule

RUNS_PAGE_SIZE = 25
POINTS_PAGE_SIZE = 24
REDEMPTIONS_SHOWN = 24
REDEMPTIONS_PAGE_SIZE = 50
USES_SHOWN = 50


@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, queries.import_runs(request.user), RUNS_PAGE_SIZE, capped=False)
    return render(request, "billing/import_list.html", {"page": page})


def import_new(request: HttpRequest) -> HttpResponse:
    services.require_import(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.import_upload(actor=request.user, upload=form.cleaned_data["file"],
                                         kind=form.cleaned_data["kind"], mode=form.cleaned_data["mode"])  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("billing:import_detail", pk=run.pk)
    return render(request, "billing/import_new.html", {"form": form})


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's progress; while it runs, the status card polls itself every second (HTMX)."""
    run = queries.import_run_get(request.user, pk)
    context = {"run": run, "may_decide": services.may_decide(request.user, run)}
    return render_htmx(request, "billing/import_detail.html", context, partial="status")


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The uploader agrees to replace months with far fewer rows: the run goes back in the queue."""
    return _decide(request, pk, services.import_confirm_drop)


@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, services.import_cancel)


def _decide(request: HttpRequest, pk: int, service) -> HttpResponse:
    run = queries.import_run_get(request.user, pk)
    try:
        service(actor=request.user, run_id=run.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("billing:import_detail", pk=run.pk)


@require_GET
def import_errors(request: HttpRequest, pk: int) -> FileResponse:
    run, path = queries.error_report(request.user, pk)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"import-{run.pk}-errors.csv",
                        content_type="text/csv; charset=utf-8")  # fmt: skip


@require_GET
def customer_points(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = customer_queries.customer_get(request.user, customer_pk)
    return _points_page(request, customer, None)


def _points_page(request: HttpRequest, customer, form: RedemptionForm | None, status: int = 200) -> HttpResponse:
    """The statement: month by month, then the redemptions, and the form to redeem (for those who may)."""
    rule = RedemptionRule.current()
    may_redeem = can(request.user, services.REDEEM_ROLES)
    if form is None and may_redeem:
        form = RedemptionForm(block=rule.points_per_block)
    page = paginate(request, queries.points_of(request.user, customer.pk), POINTS_PAGE_SIZE, capped=False)
    context = {
        "customer": customer,
        "page": page,
        "summary": queries.points_summary(request.user, customer.pk),
        "redemptions": list(queries.redemptions_of(request.user, customer.pk)[:REDEMPTIONS_SHOWN]),
        "rule": rule,
        "form": form if may_redeem else None,
    }
    return render(request, "billing/points.html", context, status=status)


@require_POST
def customer_redeem(request: HttpRequest, customer_pk: int) -> HttpResponse:
    services.require_redeem(request.user)
    customer = customer_queries.customer_get(request.user, customer_pk)
    form = RedemptionForm(request.POST, block=RedemptionRule.current().points_per_block)
    ok, redemption = submit(form, lambda: services.redemption_create(
        actor=request.user, customer=customer, points=form.cleaned_data["points"]))  # fmt: skip
    if not ok:
        return _points_page(request, customer, form, status=422)
    messages.success(
        request,
        _("%(points)s points redeemed: %(benefit)s yuan off the bill of %(period)s.")
        % {"points": redemption.points, "benefit": redemption.benefit, "period": f"{redemption.applied_period:%Y-%m}"},
    )
    return redirect("billing:customer_points", customer_pk=customer.pk)


# --- the month's redemptions, for BOSS -----------------------------------------------------------
def parse_period(text: str | None) -> date:
    """`YYYY-MM`, by default this month (the bill redemptions now apply to at the earliest)."""
    try:
        year, month = (int(part) for part in (text or "").strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


@require_GET
def redemption_list(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET.get("period"))
    rows = queries.redemptions_to_apply(request.user, period)
    page = paginate(request, rows, REDEMPTIONS_PAGE_SIZE)
    context = {"page": page, "period": period, "export_note": exports.note()}
    return render(request, "billing/redemption_list.html", context)


def redemptions_table(user, params) -> exports.Table:
    """The month's redemptions for BOSS to apply: one row per redemption, in the user's scope."""
    period = parse_period(params.get("period"))
    rows = queries.redemptions_to_apply(user, period)
    return exports.Table(
        what="billing.redemption",
        filename=f"redemptions-{period:%Y-%m}",
        header=[_("Applied to the bill of"), _("Customer number"), _("Customer"), _("Points"),
                _("Benefit (yuan)"), _("Benefit kind"), _("Recorded at")],
        rows=lambda: (
            (f"{applied:%Y-%m}", number, name, points, benefit, kind, timezone.localtime(at).strftime("%Y-%m-%d %H:%M"))
            for applied, number, name, points, benefit, kind, at in exports.rows_of(
                rows, "applied_period", "customer__number", "customer__name", "points", "benefit", "kind",
                "created_at")()
        ),
        count=rows.count,
        sheet=_("Redemptions"),
        filters=f"period={period:%Y-%m}",
    )  # fmt: skip


@require_GET
def redemption_export(request: HttpRequest) -> HttpResponse:
    return exports.respond(request, redemptions_table, fmt="csv")


# --- club benefits -------------------------------------------------------------------------------
@require_GET
def benefit_list(request: HttpRequest) -> HttpResponse:
    context = {"benefits": queries.benefits(), "can_edit": can(request.user, {Role.ADMIN})}
    return render(request, "billing/benefit_list.html", context)


@require_http_methods(["GET", "POST"])
def benefit_create(request: HttpRequest) -> HttpResponse:
    services.require_admin(request.user)
    form = BenefitForm(request.POST or None)
    return form_page(
        request, form, lambda: services.benefit_save(actor=request.user, **form.service_data()),
        done="billing:benefit_list", message=lambda benefit: _("Benefit %(name)s added.") % {"name": benefit.name},
        template="billing/benefit_form.html",
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def benefit_edit(request: HttpRequest, benefit_pk: int) -> HttpResponse:
    services.require_admin(request.user)
    benefit = queries.benefit_get(benefit_pk)
    form = BenefitForm(request.POST or None, instance=benefit)
    return form_page(
        request, form,
        lambda: services.benefit_save(actor=request.user, benefit=benefit, **form.service_data(only_changed=True)),
        done="billing:benefit_list", message=lambda _r: _("Changes to %(name)s saved.") % {"name": benefit.name},
        template="billing/benefit_form.html", context=lambda: {"record": queries.benefit_get(benefit_pk)},
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def customer_benefits(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The benefits the customer's tier opens, the uses recorded, and a form to record one."""
    customer = customer_queries.customer_get(request.user, customer_pk)
    may_record = can(request.user, services.REDEEM_ROLES)
    form = BenefitUseForm(request.POST or None, initial={"used_on": timezone.localdate()}) if may_record else None
    if request.method == "POST":
        services.require_redeem(request.user)
        ok, use = submit(form, lambda: services.benefit_use_record(actor=request.user, customer=customer,
                                                                   **form.cleaned_data))  # fmt: skip
        if ok:
            messages.success(request, _("Use of %(name)s recorded.") % {"name": use.benefit.name})
            return redirect("billing:customer_benefits", customer_pk=customer.pk)
    tier = services.customer_tier(customer)
    context = {
        "customer": customer,
        "tier": tier,
        "tier_label": ClubTier(tier).label,
        "open": queries.benefits_open_to(tier),
        "uses": list(queries.benefit_uses_of(request.user, customer.pk)[:USES_SHOWN]),
        "form": form,
    }
    return render(request, "billing/customer_benefits.html", context, status=422 if form and form.errors else 200)
