"""The catalog page and subscriptions on the 360 page."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Stickiness, Subscription
from jiketong.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def vnet(db) -> Product:
    return Product.objects.create(
        code="VNET",
        name="集团V网",
        category=ProductCategory.VOICE,
        billing_unit=BillingUnit.PER_MEMBER,
        stickiness=Stickiness.IDENTITY,
        standard_price=Decimal("200.00"),
    )


def test_catalog_lists_products_by_category_with_price(cast, client_as, vnet):
    response = client_as(cast.erin).get(reverse("catalog:products"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "集团V网" in html and "¥200.00" in html


def test_add_subscription_computes_discount_and_shows_price(cast, client_as, vnet):
    client = client_as(cast.alice)
    url = reverse("catalog:subscription_create", args=[cast.alice_customer.pk])
    response = client.post(
        url,
        {"product": vnet.pk, "contracted_price": "180", "quantity": 1, "start_on": "2024-01-01", "status": "active"},
    )
    assert response.status_code == 302
    subscription = Subscription.objects.get(customer=cast.alice_customer)
    assert subscription.discount_pct == Decimal("10.00")
    html = client.get(reverse("customers:detail", args=[cast.alice_customer.pk])).content.decode()
    assert "¥180.00" in html and "10%" in html
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, target_type="catalog.subscription").exists()


def test_subscription_errors_attach_to_fields(cast, client_as, vnet):
    url = reverse("catalog:subscription_create", args=[cast.alice_customer.pk])
    response = client_as(cast.alice).post(
        url,
        {"product": vnet.pk, "contracted_price": "300", "quantity": 1, "start_on": "2024-01-01", "status": "active"},
    )
    assert response.context["form"].errors["contracted_price"]
    response = client_as(cast.alice).post(
        url,
        {"product": vnet.pk, "quantity": 1, "start_on": "2024-01-01", "end_on": "2023-01-01", "status": "active"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_edit_subscription_price_only(cast, client_as, vnet):
    from jiketong.catalog.services import subscription_create

    subscription = subscription_create(
        actor=cast.alice.user, customer=cast.alice_customer, product=vnet, start_on=date(2024, 1, 1)
    )
    data = {
        "product": vnet.pk,
        "contracted_price": "150.00",
        "discount_pct": "0.00",
        "quantity": 1,
        "start_on": "2024-01-01",
        "status": "active",
    }
    response = client_as(cast.alice).post(reverse("catalog:subscription_edit", args=[subscription.pk]), data)
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.contracted_price == Decimal("150.00")


def test_subscription_pages_are_scoped_and_read_only_for_analysts(cast, client_as, vnet):
    assert (
        client_as(cast.alice).get(reverse("catalog:subscription_create", args=[cast.bob_customer.pk])).status_code
        == 404
    )
    assert (
        client_as(cast.erin).get(reverse("catalog:subscription_create", args=[cast.alice_customer.pk])).status_code
        == 403
    )
