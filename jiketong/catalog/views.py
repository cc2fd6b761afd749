"""Catalog pages and customers' subscriptions. Thin: reads from queries.py, writes through services.py."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jiketong.core.forms import submit
from jiketong.customers import queries as customer_queries
from jiketong.customers.services import require_edit

from . import queries, services
from .forms import SubscriptionForm


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/product_list.html", {"products": queries.products()})


def _back(customer_pk: int) -> str:
    return reverse("customers:detail", args=[customer_pk]) + "#subscriptions-section"


def subscription_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    require_edit(request.user)
    customer = customer_queries.customer_get(request.user, customer_pk)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST":
        ok, _result = submit(
            form, lambda: services.subscription_create(actor=request.user, customer=customer, **form.service_data())
        )
        if ok:
            messages.success(request, _("Subscription added."))
            return redirect(_back(customer.pk))
    return render(
        request, "customers/simple_form.html", {"form": form, "customer": customer, "title": _("Add a subscription")}
    )


def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_edit(request.user)
    subscription = queries.subscription_get(request.user, pk)
    form = SubscriptionForm(request.POST or None, instance=subscription)
    if request.method == "POST":
        ok, _result = submit(
            form,
            lambda: services.subscription_update(
                actor=request.user, subscription=subscription, **form.service_data(only_changed=True)
            ),
        )
        if ok:
            messages.success(request, _("Subscription saved."))
            return redirect(_back(subscription.customer_id))
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "customer": subscription.customer, "title": _("Edit subscription")},
    )
