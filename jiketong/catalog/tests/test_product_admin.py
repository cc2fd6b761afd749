"""产品目录 kept in the app: the system administrator adds, changes, takes off sale (停售) and puts back on sale
products through catalog.services (the API's write path too); nobody else may, and every step is audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Stickiness
from jiketong.catalog.services import product_retire, product_save
from jiketong.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

NEW = reverse("catalog:product_create")


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


def product_form(**fields) -> dict:
    return {
        "code": "CRBT",
        "name": "集团彩铃",
        "category": ProductCategory.VOICE,
        "billing_unit": BillingUnit.PER_MEMBER,
        "stickiness": Stickiness.NONE,
        "standard_price": "5.00",
        "one_time_fee": "0",
        "cost_rate": "",
        "description": "",
    } | fields


def edit_url(product: Product) -> str:
    return reverse("catalog:product_edit", args=[product.pk])


# --- who may ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_only_administrators_reach_the_product_forms(cast, client_as, vnet, persona):
    client = client_as(getattr(cast, persona))
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, product_form()).status_code == 403
    assert client.get(edit_url(vnet)).status_code == 403
    assert client.post(reverse("catalog:product_retire", args=[vnet.pk])).status_code == 403
    vnet.refresh_from_db()
    assert vnet.is_active and not Product.objects.filter(code="CRBT").exists()


def test_the_catalog_offers_editing_to_administrators_only(cast, client_as, vnet):
    assert NEW in client_as(cast.frank).get(reverse("catalog:products")).content.decode()
    assert edit_url(vnet) in client_as(cast.frank).get(reverse("catalog:products")).content.decode()
    html = client_as(cast.alice).get(reverse("catalog:products")).content.decode()
    assert NEW not in html and edit_url(vnet) not in html


# --- adding and changing ----------------------------------------------------------------------------
def test_administrator_adds_a_product_and_the_audit_keeps_it(cast, client_as):
    response = client_as(cast.frank).post(NEW, product_form())
    product = Product.objects.get(code="CRBT")
    assert response.status_code == 302
    assert product.name == "集团彩铃" and product.standard_price == Decimal("5.00") and product.is_active
    event = AuditEvent.objects.get(target_type="catalog.product", target_id=product.pk)
    assert event.action == AuditAction.CREATE and event.actor == cast.frank.user
    assert event.after["code"] == "CRBT" and event.after["standard_price"] == "5.00"


def test_administrator_changes_a_price_audited_before_and_after(cast, client_as, vnet):
    data = product_form(code="VNET", name="集团V网", stickiness=Stickiness.IDENTITY, standard_price="180")
    response = client_as(cast.frank).post(edit_url(vnet), data)
    assert response.status_code == 302
    vnet.refresh_from_db()
    assert vnet.standard_price == Decimal("180.00")
    event = AuditEvent.objects.get(target_type="catalog.product", target_id=vnet.pk, action=AuditAction.UPDATE)
    assert event.before == {"standard_price": "200.00"} and event.after == {"standard_price": "180.00"}


def test_every_bad_field_is_refused_at_once_in_chinese(cast, client_as, vnet):
    response = client_as(cast.frank).post(
        NEW, product_form(code="VNET", name="", standard_price="-1", cost_rate="1.5", category="")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"code", "name", "standard_price", "cost_rate", "category"} <= set(errors)
    assert "已存在" in errors["code"][0]
    assert "必填" in errors["name"][0]
    assert not Product.objects.filter(name="").exists()
    assert Product.objects.count() == 1


# --- 停售 and back ---------------------------------------------------------------------------------
def test_administrator_takes_a_product_off_sale_and_back(cast, client_as, vnet):
    client = client_as(cast.frank)
    assert client.post(reverse("catalog:product_retire", args=[vnet.pk])).status_code == 302
    vnet.refresh_from_db()
    assert not vnet.is_active
    event = AuditEvent.objects.filter(target_type="catalog.product", target_id=vnet.pk).latest("id")
    assert event.before == {"is_active": True} and event.after == {"is_active": False}
    assert client.post(reverse("catalog:product_reinstate", args=[vnet.pk])).status_code == 302
    vnet.refresh_from_db()
    assert vnet.is_active


def test_taking_off_sale_twice_changes_nothing(cast, vnet):
    product_retire(actor=cast.frank.user, product=vnet)
    product_retire(actor=cast.frank.user, product=vnet)
    assert AuditEvent.objects.filter(target_type="catalog.product", target_id=vnet.pk).count() == 1


def test_a_product_off_sale_is_not_offered_for_new_subscriptions(cast, client_as, vnet):
    product_retire(actor=cast.frank.user, product=vnet)
    url = reverse("catalog:subscription_create", args=[cast.alice_customer.pk])
    assert "集团V网" not in client_as(cast.alice).get(url).content.decode()


def test_the_service_refuses_fields_it_does_not_know(cast, vnet):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        product_save(actor=cast.frank.user, product=vnet, created_at=None)
    assert "created_at" in info.value.message_dict


def test_the_product_pages_speak_chinese(cast, client_as, vnet):
    html = client_as(cast.frank).get(edit_url(vnet)).content.decode()
    assert "停售" in html and "产品目录" in html
    assert "新建产品" in client_as(cast.frank).get(NEW).content.decode()
