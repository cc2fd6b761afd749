"""/products and /subscriptions: money as strings, admin-only catalog, scoped subscriptions."""

from datetime import date
from decimal import Decimal

import pytest

from jiketong.catalog.models import Product, Subscription
from jiketong.catalog.services import product_save, subscription_create
from jiketong.customers.services import member_add
from jiketong.testing import system_user

PRODUCT_FIELDS = {
    "id",
    "code",
    "name",
    "category",
    "billing_unit",
    "stickiness",
    "standard_price",
    "one_time_fee",
    "is_basic_service",
    "is_active",
    "description",
}
SUBSCRIPTION_FIELDS = {
    "id",
    "customer",
    "product",
    "contracted_price",
    "discount_pct",
    "quantity",
    "start_on",
    "end_on",
    "status",
    "members",
    "created_at",
    "updated_at",
}


def add_product(code: str, name: str, category: str = "connectivity", price: str = "1000.00", **fields) -> Product:
    return product_save(
        actor=system_user(),
        code=code,
        name=name,
        category=category,
        billing_unit=fields.pop("billing_unit", "per_group"),
        standard_price=Decimal(price),
        **fields,
    )


@pytest.fixture
def products(db) -> dict[str, Product]:
    return {
        "line": add_product("DIA-100M", "互联网专线 100M", price="3800.00", stickiness="embedded"),
        "vnet": add_product("VPMN", "集团V网", category="voice", billing_unit="per_member", price="10.50"),
        "sms": add_product("SMS-IND", "行业短信", category="messaging", price="500.00", is_active=False),
    }


def add_member(customer, phone: str):
    return member_add(actor=system_user(), customer=customer, phone=phone, joined_on=date(2024, 1, 1))


def subscribe(customer, product, **fields) -> Subscription:
    return subscription_create(
        actor=system_user(), customer=customer, product=product, start_on=date(2025, 1, 1), **fields
    )


# --- products ------------------------------------------------------------------------------------
def test_product_list_fields_and_money_as_strings(cast, api_as, products):
    body = api_as(cast.alice).api_get("/products").json()
    assert body["count"] == 3
    vnet = next(p for p in body["items"] if p["code"] == "VPMN")
    assert set(vnet) == PRODUCT_FIELDS
    assert vnet["standard_price"] == "10.50"
    assert vnet["one_time_fee"] == "0.00"
    assert vnet["billing_unit"] == "per_member"


def test_product_search_and_filters(cast, api_as, products):
    client = api_as(cast.alice)
    assert [p["code"] for p in client.api_get("/products", search="专线").json()["items"]] == ["DIA-100M"]
    assert [p["code"] for p in client.api_get("/products", search="vpmn").json()["items"]] == ["VPMN"]
    assert [p["code"] for p in client.api_get("/products", category="messaging").json()["items"]] == ["SMS-IND"]
    assert client.api_get("/products", is_active="true").json()["count"] == 2


def test_product_detail_and_404(cast, api_as, products):
    client = api_as(cast.dave)
    assert client.api_get(f"/products/{products['line'].pk}").json()["stickiness"] == "embedded"
    assert client.api_get("/products/999999").status_code == 404


def test_admin_creates_and_changes_products(cast, api_as, db):
    client = api_as(cast.frank)
    response = client.post_json(
        "/products",
        {
            "code": "CLOUD-PC",
            "name": "云电脑",
            "category": "it_cloud",
            "billing_unit": "per_member",
            "standard_price": "88.8",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["standard_price"] == "88.80"
    product_id = response.json()["id"]
    response = client.patch_json(f"/products/{product_id}", {"standard_price": 99})
    assert response.status_code == 200
    assert response.json()["standard_price"] == "99.00"


def test_product_validation_errors_are_named(cast, api_as, products):
    client = api_as(cast.frank)
    response = client.post_json(
        "/products",
        {"code": "DIA-100M", "name": "x", "category": "magic", "billing_unit": "per_group", "standard_price": "-1"},
    )
    assert response.status_code == 400
    assert {"code", "category", "standard_price"} <= set(response.json()["errors"])
    assert client.post_json("/products", {"code": "X"}).status_code == 422


@pytest.mark.parametrize("persona", ["alice", "carol", "erin"])
def test_only_admins_change_the_catalog(cast, api_as, products, persona):
    client = api_as(getattr(cast, persona))
    body = {"code": "NEW", "name": "x", "category": "voice", "billing_unit": "per_group", "standard_price": "1"}
    assert client.post_json("/products", body).status_code == 403
    assert client.patch_json(f"/products/{products['line'].pk}", {"name": "x"}).status_code == 403


# --- subscriptions -------------------------------------------------------------------------------
def test_subscription_fields(cast, api_as, products):
    member = add_member(cast.alice_customer, "13912345678")
    subscription = subscribe(cast.alice_customer, products["vnet"], discount_pct=Decimal("20"), members=[member])
    item = api_as(cast.alice).api_get(f"/subscriptions/{subscription.pk}").json()
    assert set(item) == SUBSCRIPTION_FIELDS
    assert item["customer"] == cast.alice_customer.pk and item["product"] == products["vnet"].pk
    assert item["contracted_price"] == "8.40"
    assert item["discount_pct"] == "20.00"
    assert item["members"] == [member.pk]
    assert item["status"] == "active"


def test_subscriptions_are_scoped(cast, api_as, products):
    mine = subscribe(cast.alice_customer, products["line"])
    bobs = subscribe(cast.bob_customer, products["line"])
    zhejiang = subscribe(cast.zhejiang_customer, products["line"])
    alice = api_as(cast.alice)
    assert [s["id"] for s in alice.api_get("/subscriptions").json()["items"]] == [mine.pk]
    assert alice.api_get(f"/subscriptions/{bobs.pk}").status_code == 404
    assert alice.patch_json(f"/subscriptions/{bobs.pk}", {"quantity": 2}).status_code == 404
    dave = api_as(cast.dave)
    assert [s["id"] for s in dave.api_get("/subscriptions").json()["items"]] == [zhejiang.pk]
    assert api_as(cast.erin).api_get("/subscriptions").json()["count"] == 3


def test_subscription_filters(cast, api_as, products):
    line = subscribe(cast.alice_customer, products["line"])
    vnet = subscribe(cast.alice_customer, products["vnet"], status="suspended")
    subscribe(cast.backed_up, products["line"])
    client = api_as(cast.alice)
    assert client.api_get("/subscriptions", customer=cast.alice_customer.pk).json()["count"] == 2
    assert [s["id"] for s in client.api_get("/subscriptions", product=products["vnet"].pk).json()["items"]] == [vnet.pk]
    assert [s["id"] for s in client.api_get("/subscriptions", status="suspended").json()["items"]] == [vnet.pk]
    found = client.api_get("/subscriptions", search="专线", customer=cast.alice_customer.pk).json()["items"]
    assert [s["id"] for s in found] == [line.pk]


def test_create_subscription(cast, api_as, products):
    client = api_as(cast.alice)
    response = client.post_json(
        "/subscriptions",
        {
            "customer": cast.alice_customer.pk,
            "product": products["line"].pk,
            "start_on": "2025-03-01",
            "contracted_price": "3420.00",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["discount_pct"] == "10.00"
    history = client.api_get(f"/customers/{cast.alice_customer.pk}/history").json()["items"]
    assert history[0]["target_type"] == "catalog.subscription" and history[0]["action"] == "create"


def test_create_for_an_invisible_customer_is_404(cast, api_as, products):
    body = {"customer": cast.bob_customer.pk, "product": products["line"].pk, "start_on": "2025-03-01"}
    assert api_as(cast.alice).post_json("/subscriptions", body).status_code == 404


def test_subscription_validation_errors_are_named(cast, api_as, products):
    client = api_as(cast.alice)
    base = {"customer": cast.alice_customer.pk, "product": products["line"].pk, "start_on": "2025-03-01"}
    end_before_start = client.post_json("/subscriptions", base | {"end_on": "2025-01-01"})
    assert end_before_start.status_code == 400
    assert "end_on" in end_before_start.json()["errors"] or "__all__" in end_before_start.json()["errors"]
    off_sale = client.post_json("/subscriptions", base | {"product": products["sms"].pk})
    assert off_sale.json()["errors"] == {"product": ["This product is no longer on sale."]}
    unknown = client.post_json("/subscriptions", base | {"product": 999999})
    assert set(unknown.json()["errors"]) == {"product"}
    mismatch = client.post_json("/subscriptions", base | {"contracted_price": "100", "discount_pct": "5"})
    assert set(mismatch.json()["errors"]) == {"discount_pct"}
    bob_member = add_member(cast.bob_customer, "13912345678")
    foreign = client.post_json("/subscriptions", base | {"members": [bob_member.pk]})
    assert foreign.status_code == 400 and set(foreign.json()["errors"]) == {"members"}
    assert client.post_json("/subscriptions", {"customer": cast.alice_customer.pk}).status_code == 422


def test_patch_subscription_and_read_only_roles(cast, api_as, products):
    subscription = subscribe(cast.alice_customer, products["line"])
    changes = {"status": "suspended", "quantity": 3}
    response = api_as(cast.alice).patch_json(f"/subscriptions/{subscription.pk}", changes)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["quantity"]) == ("suspended", 3)
    assert api_as(cast.erin).patch_json(f"/subscriptions/{subscription.pk}", {"quantity": 1}).status_code == 403
    body = {"customer": cast.alice_customer.pk, "product": products["line"].pk, "start_on": "2025-03-01"}
    assert api_as(cast.grace).post_json("/subscriptions", body).status_code == 403


@pytest.mark.parametrize("rows", [3, 50])
def test_subscription_list_queries_do_not_grow_with_rows(cast, api_as, products, django_assert_max_num_queries, rows):
    members = [add_member(cast.alice_customer, f"137{n:08d}") for n in range(3)]
    for _n in range(rows):
        subscribe(cast.alice_customer, products["vnet"], members=members)
    client = api_as(cast.alice)
    # token (+ its last-used stamp), staff + roles, count, page, members of the page.
    with django_assert_max_num_queries(7):
        response = client.api_get("/subscriptions", limit=200)
    assert response.json()["count"] == rows
    assert all(len(item["members"]) == 3 for item in response.json()["items"])


def test_product_list_queries_are_bounded(cast, api_as, products, django_assert_max_num_queries):
    for n in range(40):
        add_product(f"P{n:03d}", f"产品{n}")
    client = api_as(cast.alice)
    with django_assert_max_num_queries(6):
        assert client.api_get("/products", limit=200).json()["count"] == 43
