"""Catalog pages and customers' subscriptions. Thin: reads from queries.py, writes through services.py."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiketong.core.forms import form_page
from jiketong.customers import queries as customer_queries
from jiketong.customers.services import require_edit
from jiketong.customers.views import form_frame
from jiketong.org.models import Role, can

from . import queries, services
from .forms import PackageForm, ProductForm, SubscriptionForm, items_of, package_item_formset


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    context = {"products": queries.products(), "can_edit": can(request.user, {Role.ADMIN})}
    return render(request, "catalog/product_list.html", context)


# --- the system administrator keeps the catalog --------------------------------------------------
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    services.require_admin(request.user)
    form = ProductForm(request.POST or None)
    return form_page(
        request, form, lambda: services.product_save(actor=request.user, **form.service_data()),
        done=_product_url, message=lambda product: _("Product %(name)s added to the catalog.") % {"name": product.name},
        template="catalog/product_form.html",
    )  # fmt: skip


def _product_url(product) -> str:
    return reverse("catalog:product_edit", args=[product.pk])


@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    product = queries.product_get(pk)
    form = ProductForm(request.POST or None, instance=product)
    return form_page(
        request, form,
        lambda: services.product_save(actor=request.user, product=product, **form.service_data(only_changed=True)),
        done=_product_url(product), message=lambda _r: _("Changes to %(name)s saved.") % {"name": product.name},
        template="catalog/product_form.html", context=lambda: {"record": queries.product_get(pk)},
    )  # fmt: skip


@require_POST
def product_retire(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    product = services.product_retire(actor=request.user, product=queries.product_get(pk))
    messages.success(
        request, _("%(name)s is off sale: no new subscriptions; existing ones stay.") % {"name": product.name}
    )
    return redirect("catalog:product_edit", product.pk)


@require_POST
def product_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    product = services.product_reinstate(actor=request.user, product=queries.product_get(pk))
    messages.success(request, _("%(name)s is on sale again.") % {"name": product.name})
    return redirect("catalog:product_edit", product.pk)


def _back(customer_pk: int) -> str:
    return reverse("customers:detail", args=[customer_pk]) + "#subscriptions-section"


def subscription_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    require_edit(request.user)
    customer = customer_queries.customer_get(request.user, customer_pk)
    form = SubscriptionForm(request.POST or None)
    return form_page(
        request, form,
        lambda: services.subscription_create(actor=request.user, customer=customer, **form.service_data()),
        done=_back(customer.pk), message=_("Subscription added."),
        context=form_frame(customer, _("Add a subscription")),
    )  # fmt: skip


def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    subscription = queries.subscription_get(request.user, pk)
    form = SubscriptionForm(request.POST or None, instance=subscription)
    return form_page(
        request, form,
        lambda: services.subscription_update(
            actor=request.user, subscription=subscription, **form.service_data(only_changed=True)
        ),
        done=lambda _r: _back(subscription.customer_id), message=_("Subscription saved."),
        context=lambda: form_frame(subscription.customer, _("Edit subscription")),
    )  # fmt: skip


# --- solution packages (行业解决方案) ---------------------------------------------------------------
@require_GET
def package_list(request: HttpRequest) -> HttpResponse:
    context = {"packages": queries.packages(), "can_edit": can(request.user, {Role.ADMIN})}
    return render(request, "catalog/package_list.html", context)


def _package_page(request: HttpRequest, package, *, save) -> HttpResponse:
    services.require_admin(request.user)
    form = PackageForm(request.POST or None, instance=package)
    items = package_item_formset(request.POST or None, package)
    return form_page(
        request, form, lambda: save(form, items_of(items) if items.is_valid() else None), also=[items],
        done=lambda saved: reverse("catalog:package_edit", args=[saved.pk]),
        message=lambda saved: _("Package %(name)s saved.") % {"name": saved.name},
        template="catalog/package_form.html",
        context=lambda: {"items": items, "record": queries.package_get(package.pk) if package else None},
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def package_create(request: HttpRequest) -> HttpResponse:
    return _package_page(
        request,
        None,
        save=lambda form, items: services.package_save(actor=request.user, items=items or [], **form.service_data()),
    )


@require_http_methods(["GET", "POST"])
def package_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    package = queries.package_get(pk)
    return _package_page(
        request,
        package,
        save=lambda form, items: services.package_save(
            actor=request.user, package=package, items=items, **form.service_data()
        ),
    )


@require_POST
def package_retire(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    package = services.package_retire(actor=request.user, package=queries.package_get(pk))
    messages.success(
        request, _("%(name)s is off sale: no new quotes; quotes that hold it stay.") % {"name": package.name}
    )
    return redirect("catalog:package_edit", package.pk)


@require_POST
def package_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_admin(request.user)
    package = services.package_reinstate(actor=request.user, package=queries.package_get(pk))
    messages.success(request, _("%(name)s is on sale again.") % {"name": package.name})
    return redirect("catalog:package_edit", package.pk)
