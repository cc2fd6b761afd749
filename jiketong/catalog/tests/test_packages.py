"""行业解决方案 packages kept in the app: the administrator bundles products for an industry at a package price
(catalog.services.package_save, audited and versioned); the price is spread over the products to the cent."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jiketong.catalog import services
from jiketong.catalog.models import BillingUnit, Product, ProductCategory, SolutionPackage, split_package_price
from jiketong.core.concurrency import StaleEdit
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import Industry
from jiketong.customers.templatetags.ui import yuan

pytestmark = pytest.mark.django_db
D = Decimal
NEW = reverse("catalog:package_create")


@pytest.fixture
def products(db) -> dict[str, Product]:
    def make(code, name, category, price, unit=BillingUnit.PER_GROUP):
        return Product.objects.create(
            code=code, name=name, category=category, billing_unit=unit, standard_price=D(price)
        )

    return {
        "sms": make("XXT", "校讯通", ProductCategory.MESSAGING, "300.00"),
        "line": make("DIA100M", "互联网专线100M", ProductCategory.CONNECTIVITY, "2000.00"),
        "vnet": make("VNET", "集团V网", ProductCategory.VOICE, "10.00", BillingUnit.PER_MEMBER),
    }


@pytest.fixture
def campus(cast, products) -> SolutionPackage:
    return services.package_save(
        actor=cast.frank.user,
        code="EDU-CAMPUS",
        name="智慧校园套餐",
        industry=Industry.objects.get(code="education"),
        price=D("2500.00"),
        items=[(products["sms"], 1), (products["line"], 1), (products["vnet"], 50)],
    )


def form(products, **fields) -> dict:
    data = {
        "code": "EDU-CAMPUS",
        "name": "智慧校园套餐",
        "industry": "education",
        "price": "2500.00",
        "description": "",
        "items-TOTAL_FORMS": "4",
        "items-INITIAL_FORMS": "0",
        "items-0-product": products["sms"].pk,
        "items-0-quantity": "1",
        "items-1-product": products["line"].pk,
        "items-1-quantity": "1",
        "items-2-product": products["vnet"].pk,
        "items-2-quantity": "50",
        "items-3-product": "",
        "items-3-quantity": "",
    }
    return data | fields


# --- the price spread over the products ------------------------------------------------------------
def test_the_package_price_is_spread_in_proportion_to_list_prices_exact_to_the_cent():
    units = split_package_price(D("2500.00"), [(D("300.00"), 1), (D("2000.00"), 1), (D("10.00"), 50)])
    # List total 2,800.00; 2,500 is 89.2857…% of it.
    assert units == [D("268.07"), D("1785.93"), D("8.92")]  # the 44 cents left by rounding, a cent at a time
    assert units[0] + units[1] + units[2] * 50 == D("2500.00")


def test_a_remainder_goes_onto_the_lines_that_can_take_it():
    units = split_package_price(D("100.01"), [(D("10.00"), 3), (D("80.00"), 1)])
    assert units[0] * 3 + units[1] == D("100.01")
    assert all(unit <= limit for unit, limit in zip(units, [D("10.00"), D("80.00")], strict=True))


def test_a_price_above_the_list_total_or_not_divisible_cannot_be_spread():
    assert split_package_price(D("3000.00"), [(D("1000.00"), 2)]) is None
    assert split_package_price(D("1500.01"), [(D("1000.00"), 2)]) is None  # 150,001 cents over two units
    assert split_package_price(D("1500.00"), [(D("1000.00"), 2)]) == [D("750.00")]


# --- who may, and the audit ------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_only_administrators_reach_the_package_forms(cast, client_as, campus, products, persona):
    client = client_as(getattr(cast, persona))
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form(products, code="OTHER")).status_code == 403
    assert client.get(reverse("catalog:package_edit", args=[campus.pk])).status_code == 403
    assert client.post(reverse("catalog:package_retire", args=[campus.pk])).status_code == 403
    assert SolutionPackage.objects.count() == 1 and SolutionPackage.objects.get().is_active


def test_everyone_reads_the_package_list_with_its_discount(cast, client_as, campus, django_assert_max_num_queries):
    client = client_as(cast.alice)
    client.get(reverse("catalog:products"))  # the session is made
    with django_assert_max_num_queries(10):
        html = client.get(reverse("catalog:packages")).content.decode()
    assert "智慧校园套餐" in html and "校讯通 × 1" in html and "10.71%" in html  # 2,500 of 2,800
    assert NEW not in html


def test_administrator_adds_a_package_on_the_page_and_the_audit_keeps_its_items(cast, client_as, products):
    response = client_as(cast.frank).post(NEW, form(products))
    assert response.status_code == 302, response.context["form"].errors
    package = SolutionPackage.objects.get(code="EDU-CAMPUS")
    assert [(i.product.code, i.quantity) for i in package.items.order_by("id")] == [
        ("XXT", 1),
        ("DIA100M", 1),
        ("VNET", 50),
    ]
    event = AuditEvent.objects.get(target_type="catalog.solutionpackage", target_id=package.pk)
    assert event.action == AuditAction.CREATE and event.actor == cast.frank.user
    assert event.after["price"] == "2500.00"
    assert event.after["items"] == sorted([[products[k].pk, q] for k, q in (("sms", 1), ("line", 1), ("vnet", 50))])


def test_every_bad_field_is_refused_at_once_in_chinese(cast, client_as, campus, products):
    response = client_as(cast.frank).post(NEW, form(products, name="", price="9000", industry=""))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"code", "name", "price", "industry"} <= set(errors)
    assert "已存在" in errors["code"][0] and "必填" in errors["name"][0]
    assert "高于" in errors["price"][0]
    assert SolutionPackage.objects.count() == 1


def test_a_package_needs_products_once_each(cast, products):
    with pytest.raises(ValidationError) as refused:
        services.package_save(
            actor=cast.frank.user,
            code="X",
            name="空套餐",
            industry=Industry.objects.get(code="education"),
            price=D("10"),
            items=[],
        )
    assert "items" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.package_save(
            actor=cast.frank.user,
            code="X",
            name="重复",
            industry=Industry.objects.get(code="education"),
            price=D("10"),
            items=[(products["sms"], 1), (products["sms"], 2)],
        )
    assert "items" in refused.value.message_dict


def test_a_price_change_is_audited_before_and_after(cast, campus):
    services.package_save(actor=cast.frank.user, package=campus, price=D("2400.00"))
    event = AuditEvent.objects.filter(target_type="catalog.solutionpackage", target_id=campus.pk).latest("id")
    assert event.action == AuditAction.UPDATE
    assert event.before == {"price": "2500.00"} and event.after == {"price": "2400.00"}


def test_a_stale_edit_of_a_package_is_refused(cast, campus):
    read = campus.row_version
    services.package_save(actor=cast.frank.user, package=campus, name="智慧校园套餐（新版）")
    with pytest.raises(StaleEdit):
        services.package_save(actor=cast.frank.user, package=campus, price=D("2000"), expected_version=read)
    campus.refresh_from_db()
    assert campus.price == D("2500.00")


def test_the_edit_page_refuses_a_save_over_another_administrators_change(cast, client_as, campus, products):
    client = client_as(cast.frank)
    page = client.get(reverse("catalog:package_edit", args=[campus.pk]))
    version = page.context["form"].initial["row_version"]
    services.package_save(actor=cast.frank.user, package=campus, price=D("2400.00"))
    data = form(products) | {"row_version": version, "row_read_at": page.context["form"].initial["row_read_at"]}
    refused = client.post(reverse("catalog:package_edit", args=[campus.pk]), data | {"price": "2300"})
    assert refused.status_code == 200
    campus.refresh_from_db()
    assert campus.price == D("2400.00")


def test_administrator_takes_a_package_off_sale_and_back(cast, client_as, campus):
    client = client_as(cast.frank)
    page = client.get(reverse("catalog:package_edit", args=[campus.pk])).content.decode()
    retire = reverse("catalog:package_retire", args=[campus.pk])
    assert re.search(rf'action="{retire}" data-confirm="[^"]*{campus.name}[^"]*"', page)  # asks, naming it
    assert f"<dd>{yuan(campus.list_total)}</dd>" in page and f"<dd>{campus.discount_pct}%</dd>" in page
    assert client.post(retire).status_code == 302
    campus.refresh_from_db()
    assert not campus.is_active
    page = client.get(reverse("catalog:package_edit", args=[campus.pk])).content.decode()
    assert f'action="{reverse("catalog:package_reinstate", args=[campus.pk])}"' in page and retire not in page
    assert client.post(reverse("catalog:package_reinstate", args=[campus.pk])).status_code == 302
    campus.refresh_from_db()
    assert campus.is_active


def test_the_package_pages_speak_chinese(cast, client_as, campus):
    html = client_as(cast.frank).get(reverse("catalog:package_edit", args=[campus.pk])).content.decode()
    assert "行业解决方案" in html and "停售" in html


# --- the API ------------------------------------------------------------------------------------------
def test_the_api_lists_packages_with_their_discount_and_admins_add_them(cast, campus, products):
    from jiketong.api.tests.conftest import ApiClient
    from jiketong.org.services import token_issue

    listed = ApiClient(token_issue(user=cast.alice.user)).api_get("/packages", industry="education").json()
    assert listed["count"] == 1
    assert listed["items"][0]["list_total"] == "2800.00" and listed["items"][0]["discount_pct"] == "10.71"
    body = {"code": "EDU-2", "name": "平安校园", "industry": "education", "price": "250.00",
            "items": [{"product": products["sms"].pk, "quantity": 1}]}  # fmt: skip
    assert ApiClient(token_issue(user=cast.alice.user)).post_json("/packages", body).status_code == 403
    admin = ApiClient(token_issue(user=cast.frank.user))
    assert admin.post_json("/packages", body).status_code == 201
    refused = admin.post_json("/packages", body | {"code": "EDU-3", "price": "999", "items": []})
    assert refused.status_code == 400 and "items" in refused.json()["errors"]
