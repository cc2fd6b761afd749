"""Quote, contract and order pages. Thin: reads come from queries.py, writes go to services.py.

Action buttons post to small views that call one service and go back to the detail page with a
message; the quote builder's lines are HTMX partials of the quote page (STYLE §7).
"""

from collections.abc import Callable, Iterator

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiketong.catalog import queries as catalog_queries
from jiketong.core import exports
from jiketong.core.forms import form_page, submit
from jiketong.core.htmx import is_partial
from jiketong.core.listing import list_page, paginate
from jiketong.customers import queries as customer_queries
from jiketong.customers.services import require_edit
from jiketong.customers.views import form_frame

from . import queries, services
from .forms import (
    STATUS_CHOICES,
    AttachmentForm,
    CommentForm,
    ContractForm,
    ListFilterForm,
    OrderStateForm,
    QuoteForm,
    QuoteLineForm,
    QuotePackageForm,
    ReasonForm,
    RenewForm,
)
from .models import OrderStatus
from .printing import rmb_upper

PAGE_SIZE = 20


def _posted(request: HttpRequest):
    """The POST data for a bound form (even when every field was left empty), None on GET."""
    return request.POST if request.method == "POST" else None


def _errors_as_message(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _act(request: HttpRequest, back: str, call: Callable, success: str, **back_kwargs) -> HttpResponse:
    """Run one service for a button; a broken rule comes back as a message on the page it came from."""
    try:
        result = call()
    except ValidationError as exc:
        _errors_as_message(request, exc)
        return redirect(back, **back_kwargs)
    messages.success(request, success)
    return result if isinstance(result, HttpResponse) else redirect(back, **back_kwargs)


def _list_page(request: HttpRequest, kind: str, queryset_for: Callable, template: str, extra=None) -> HttpResponse:
    form = ListFilterForm(request.GET or None, choices=STATUS_CHOICES[kind])
    return list_page(request, template, queryset_for(form), per_page=PAGE_SIZE, context={"form": form, **(extra or {})})


# --- quotes -------------------------------------------------------------------------------------
@require_GET
def quote_list(request: HttpRequest) -> HttpResponse:
    return _list_page(
        request,
        "quote",
        lambda form: queries.quote_list(request.user, status=form.value("status") or ""),
        "deals/quote_list.html",
    )


@require_GET
def approval_queue(request: HttpRequest) -> HttpResponse:
    page = paginate(request, queries.approval_queue(request.user), PAGE_SIZE, capped=False)
    return render(request, "deals/approval_queue.html", {"page": page})


def quote_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    require_edit(request.user)
    customer = customer_queries.customer_get(request.user, customer_pk)
    form = QuoteForm(_posted(request), user=request.user, customer=customer)
    return form_page(
        request, form, lambda: services.quote_create(actor=request.user, customer=customer, **form.cleaned_data),
        done=_quote_url, context=form_frame(customer, _("New quote")),
    )  # fmt: skip


def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    quote = queries.quote_get(request.user, pk)
    initial = {name: getattr(quote, name) for name in services.QUOTE_FIELDS}
    form = QuoteForm(_posted(request), initial=initial, user=request.user, customer=quote.customer, record=quote)
    return form_page(
        request, form, lambda: services.quote_update(actor=request.user, quote=quote, **form.cleaned_data),
        done=_quote_url(quote), context=form_frame(quote.customer, _("Edit quote")),
    )  # fmt: skip


def _quote_url(quote) -> str:
    return reverse("deals:quote_detail", args=[quote.pk])


def _contract_url(contract) -> str:
    return reverse("deals:contract_detail", args=[contract.pk])


def _quote_context(request: HttpRequest, quote, line_form=None, package_form=None) -> dict:
    return {
        "quote": quote,
        "lines": list(queries.quote_lines(quote)),
        "line_form": line_form or QuoteLineForm(),
        "package_form": package_form or QuotePackageForm(industry=quote.customer.industry_id),
        "can_approve": services.can_approve(request.user, quote),
    }


@require_GET
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.quote_get(request.user, pk)
    context = _quote_context(request, quote) | {
        "approvals": list(queries.quote_approvals(quote)),
        "versions": list(queries.quote_versions(quote)),
        "comment_form": CommentForm(),
        "chain": queries.record_chain(request.user, quote),
    }
    return render(request, "deals/quote_detail.html", context)


def _lines_response(request: HttpRequest, quote, line_form=None, package_form=None) -> HttpResponse:
    """The lines partial (with the failed form's errors in place), or back to the quote with them as messages."""
    if is_partial(request):
        return render(request, "deals/quote_detail.html#lines", _quote_context(request, quote, line_form, package_form))
    for form in (line_form, package_form):
        if form is not None and form.errors:
            for message in [m for errors in form.errors.values() for m in errors]:
                messages.error(request, message)
    return redirect("deals:quote_detail", pk=quote.pk)


def _save_line(request: HttpRequest, quote, line=None) -> HttpResponse:
    form = QuoteLineForm(request.POST)
    ok, _result = submit(
        form, lambda: services.quote_line_save(actor=request.user, quote=quote, line=line, **form.cleaned_data)
    )
    if ok:
        form = None
    quote.refresh_from_db()
    return _lines_response(request, quote, form)


@require_POST
def quote_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    return _save_line(request, queries.quote_get(request.user, pk))


@require_POST
def quote_package_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a solution package on the quote (its lines at the package price); the lines partial comes back."""
    require_edit(request.user)
    quote = queries.quote_get(request.user, pk)
    form = QuotePackageForm(request.POST, industry=quote.customer.industry_id)
    ok, _result = submit(
        form, lambda: services.quote_package_add(actor=request.user, quote=quote, package=form.cleaned_data["package"])
    )
    quote.refresh_from_db()
    return _lines_response(request, quote, package_form=None if ok else form)


@require_POST
def quote_package_remove(request: HttpRequest, pk: int, package_pk: int) -> HttpResponse:
    require_edit(request.user)
    quote = queries.quote_get(request.user, pk)
    package = catalog_queries.package_get(package_pk)
    try:
        services.quote_package_remove(actor=request.user, quote=quote, package=package)
    except ValidationError as exc:
        _errors_as_message(request, exc)
    quote.refresh_from_db()
    return _lines_response(request, quote)


@require_POST
def quote_line_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    line = queries.quote_line_get(request.user, pk)
    return _save_line(request, line.quote, line)


@require_POST
def quote_line_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    line = queries.quote_line_get(request.user, pk)
    quote = line.quote
    try:
        services.quote_line_delete(actor=request.user, line=line)
    except ValidationError as exc:
        _errors_as_message(request, exc)
    quote.refresh_from_db()
    return _lines_response(request, quote)


@require_POST
def quote_submit(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.quote_get(request.user, pk)
    return _act(
        request,
        "deals:quote_detail",
        lambda: services.quote_submit(actor=request.user, quote=quote),
        _("Quote submitted."),
        pk=pk,
    )


@require_POST
def quote_approve(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.quote_get(request.user, pk)
    comment = request.POST.get("comment", "")
    return _act(
        request,
        "deals:quote_detail",
        lambda: services.quote_approve(actor=request.user, quote=quote, comment=comment),
        _("Quote approved."),
        pk=pk,
    )


@require_POST
def quote_reject(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.quote_get(request.user, pk)
    comment = request.POST.get("comment", "")
    return _act(
        request,
        "deals:quote_detail",
        lambda: services.quote_reject(actor=request.user, quote=quote, comment=comment),
        _("Quote rejected."),
        pk=pk,
    )


@require_POST
def quote_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.quote_get(request.user, pk)
    try:
        new = services.quote_new_version(actor=request.user, quote=quote)
    except ValidationError as exc:
        _errors_as_message(request, exc)
        return redirect("deals:quote_detail", pk=pk)
    messages.success(request, _("Version %(version)s created as a draft.") % {"version": new.version})
    return redirect("deals:quote_detail", pk=new.pk)


@require_GET
def quote_print(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.quote_get(request.user, pk)
    context = {"quote": quote, "lines": list(queries.quote_lines(quote)), "total_upper": rmb_upper(quote.total)}
    return render(request, "deals/quote_print.html", context)


# --- contracts ----------------------------------------------------------------------------------
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    return _list_page(
        request,
        "contract",
        lambda form: queries.contract_list(
            request.user, status=form.value("status") or "", expiring_within=form.value("expiring_within")
        ),
        "deals/contract_list.html",
    )


def _contract_form_page(request: HttpRequest, customer, quote=None) -> HttpResponse:
    form = ContractForm(_posted(request), initial={"start_on": timezone.localdate()})
    title = _("Contract from quote %(quote)s") % {"quote": quote} if quote else _("New contract")
    return form_page(
        request, form,
        lambda: services.contract_create(actor=request.user, customer=customer, quote=quote, **form.cleaned_data),
        done=_contract_url, message=lambda contract: _("Contract %(number)s created.") % {"number": contract.number},
        context=form_frame(customer, title),
    )  # fmt: skip


def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a draft contract's terms before it is activated."""
    require_edit(request.user)
    contract = queries.contract_get(request.user, pk)
    initial = {name: getattr(contract, name) for name in services.CONTRACT_EDIT_FIELDS}
    form = ContractForm(_posted(request), initial=initial, record=contract)
    return form_page(
        request, form, lambda: services.contract_update(actor=request.user, contract=contract, **form.cleaned_data),
        done=_contract_url(contract), message=lambda _r: _("Contract %(number)s saved.") % {"number": contract.number},
        context=lambda: form_frame(contract.customer, _("Edit contract %(number)s") % {"number": contract.number}),
    )  # fmt: skip


def contract_from_quote(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    quote = queries.quote_get(request.user, pk)
    return _contract_form_page(request, quote.customer, quote)


def contract_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    require_edit(request.user)
    return _contract_form_page(request, customer_queries.customer_get(request.user, customer_pk))


@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = queries.contract_get(request.user, pk)
    context = {
        "contract": contract,
        "attachments": list(contract.attachments.all()),
        "attachment_form": AttachmentForm(),
        "reason_form": ReasonForm(),
        "renewal": getattr(contract, "renewal", None),
        "orders": list(queries.order_list(request.user).filter(contract=contract)[:20]),
        "chain": queries.record_chain(request.user, contract),
    }
    return render(request, "deals/contract_detail.html", context)


@require_POST
def contract_activate(request: HttpRequest, pk: int) -> HttpResponse:
    contract = queries.contract_get(request.user, pk)
    return _act(
        request,
        "deals:contract_detail",
        lambda: services.contract_activate(actor=request.user, contract=contract),
        _("Contract activated."),
        pk=pk,
    )


@require_POST
def contract_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    contract = queries.contract_get(request.user, pk)
    reason = request.POST.get("reason", "")
    return _act(
        request,
        "deals:contract_detail",
        lambda: services.contract_terminate(actor=request.user, contract=contract, reason=reason),
        _("Contract terminated."),
        pk=pk,
    )


def contract_renew(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    contract = queries.contract_get(request.user, pk)
    form = RenewForm(_posted(request))
    return form_page(
        request, form, lambda: services.contract_renew(actor=request.user, contract=contract, **form.cleaned_data),
        done=_contract_url, message=lambda renewal: _("Contract renewed as %(number)s.") % {"number": renewal.number},
        context=lambda: form_frame(contract.customer, _("Renew contract %(number)s") % {"number": contract.number}),
    )  # fmt: skip


@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    contract = queries.contract_get(request.user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    submit(
        form, lambda: services.attachment_add(actor=request.user, contract=contract, upload=form.cleaned_data["file"])
    )
    if form.errors:
        context = {
            "contract": contract,
            "attachments": list(contract.attachments.all()),
            "attachment_form": form,
            "reason_form": ReasonForm(),
            "renewal": getattr(contract, "renewal", None),
            "orders": [],
        }
        return render(request, "deals/contract_detail.html", context, status=400)
    messages.success(request, _("File attached."))
    return redirect("deals:contract_detail", pk=pk)


@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = queries.attachment_get(request.user, pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


# --- orders -------------------------------------------------------------------------------------
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    return _list_page(
        request,
        "order",
        lambda form: queries.order_list(request.user, status=form.value("status") or ""),
        "deals/order_list.html",
    )


@require_POST
def order_from_quote(request: HttpRequest, pk: int) -> HttpResponse:
    quote = queries.quote_get(request.user, pk)
    return _act(
        request,
        "deals:quote_detail",
        lambda: redirect("deals:order_detail", pk=services.order_create_from_quote(actor=request.user, quote=quote).pk),
        _("Order created."),
        pk=pk,
    )


@require_POST
def order_from_contract(request: HttpRequest, pk: int) -> HttpResponse:
    contract = queries.contract_get(request.user, pk)
    return _act(
        request,
        "deals:contract_detail",
        lambda: redirect(
            "deals:order_detail", pk=services.order_create_from_contract(actor=request.user, contract=contract).pk
        ),
        _("Order created."),
        pk=pk,
    )


# The buttons an order shows in each state (the service decides whether a move is allowed).
NEXT_STATES = {
    OrderStatus.DRAFT: [OrderStatus.SUBMITTED],
    OrderStatus.SUBMITTED: [OrderStatus.PROVISIONING, OrderStatus.COMPLETED, OrderStatus.FAILED],
    OrderStatus.PROVISIONING: [OrderStatus.COMPLETED, OrderStatus.FAILED],
    OrderStatus.FAILED: [OrderStatus.SUBMITTED],
}


@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = queries.order_get(request.user, pk)
    context = {
        "order": order,
        "lines": list(queries.order_lines(order)),
        "history": list(queries.order_history(order)),
        "next_states": [(state, OrderStatus(state).label) for state in NEXT_STATES.get(order.status, [])],
        "failed": OrderStatus.FAILED,
        "chain": queries.record_chain(request.user, order),
    }
    return render(request, "deals/order_detail.html", context)


@require_POST
def order_state(request: HttpRequest, pk: int) -> HttpResponse:
    order = queries.order_get(request.user, pk)
    form = OrderStateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("deals:order_detail", pk=pk)
    return _act(
        request,
        "deals:order_detail",
        lambda: services.order_set_state(actor=request.user, order=order, **form.cleaned_data),
        _("Order status updated."),
        pk=pk,
    )


EXPORT_HEADER = [
    "order_number",
    "customer_number",
    "customer",
    "order_status",
    "boss_ref",
    "action",
    "product_code",
    "product",
    "quantity",
    "contracted_price",
    "discount_pct",
]


def export_rows(lines) -> Iterator[list]:
    """The CSV rows for provisioning (shared by the page and the API): column names stay English and stable
    because BOSS reads them."""
    for line in lines:
        order = line.order
        yield [
            order.number,
            order.customer.number or "",
            order.customer.name,
            order.status,
            order.external_ref,
            line.action,
            line.product.code,
            line.product.name,
            line.quantity,
            line.contracted_price,
            line.discount_pct,
        ]


def export_table(user, params) -> exports.Table:
    """The scoped order lines for provisioning, of one status if asked."""
    status = params.get("status", "")
    status = status if status in OrderStatus.values else ""
    lines = queries.order_export_rows(user, status=status)
    return exports.Table(what="deals.order", filename="orders", header=EXPORT_HEADER, count=lines.count,
                         rows=lambda: export_rows(lines.iterator(chunk_size=exports.CHUNK_ROWS)),
                         filters=f"status={status}")  # fmt: skip


def csv_response(request: HttpRequest, *, api: bool = False) -> HttpResponse:
    """Stream the scoped order lines as CSV (UTF-8 with BOM, for Excel) and log the export (shared with the API)."""
    return exports.respond(request, export_table, fmt="csv", api=api)


@require_GET
def order_export(request: HttpRequest) -> HttpResponse:
    return csv_response(request)
