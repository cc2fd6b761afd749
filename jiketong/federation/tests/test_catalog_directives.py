"""HQ → provinces: the national catalog and HQ-level discount rules, applied by the province's own services."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiketong.catalog.models import PackageItem, Product, SolutionPackage
from jiketong.core.models import AuditEvent
from jiketong.deals.models import DiscountPolicy
from jiketong.deals.services import policies

from .. import client, services
from ..models import Directive, NationalCatalogEntry, SyncState
from .conftest import as_hq, as_province

pytestmark = pytest.mark.django_db


def _product(code: str, price: str, **fields) -> Product:
    defaults = {
        "name": f"全国{code}",
        "category": "connectivity",
        "billing_unit": "per_group",
        "standard_price": Decimal(price),
    }
    return Product.objects.create(code=code, **(defaults | fields))


def pull(provinces, code="440000", again=False):
    with as_province(code, token=provinces[code]):
        if again:
            SyncState.objects.update(directives_through=0)  # read everything once more
        return client.pull_directives()


def federation_events():
    return AuditEvent.objects.filter(actor__username="hq-federation")


def test_a_national_product_is_created_in_the_province_by_the_catalog_service_and_once_only(cast, provinces, hq_link):
    product = _product("NAT01", "1200.00", description="全国统一云专线")
    with as_hq():
        services.catalog_publish(actor=cast.erin.user, product=product)
    Product.objects.filter(pk=product.pk).delete()  # the province does not have it yet (one database plays both)
    assert pull(provinces) == 1
    made = Product.objects.get(code="NAT01")
    assert made.standard_price == Decimal("1200.00") and made.description == "全国统一云专线"
    assert (
        federation_events().filter(target_id=str(made.pk), target_type__icontains="product", action="create").count()
        == 1
    )
    assert pull(provinces, again=True) == 1  # applied again: nothing changes, nothing more is audited
    assert federation_events().filter(target_id=str(made.pk), target_type__icontains="product").count() == 1


def test_a_changed_national_product_changes_the_provinces_price(cast, provinces, hq_link):
    product = _product("NAT02", "500.00")
    with as_hq():
        services.catalog_publish(actor=cast.erin.user, product=product)
    Product.objects.filter(pk=product.pk).update(standard_price=Decimal("450.00"))  # the province's own price
    pull(provinces)
    assert Product.objects.get(code="NAT02").standard_price == Decimal("500.00")
    assert (
        federation_events()
        .filter(target_id=str(product.pk), target_type__icontains="product", action="update")
        .exists()
    )


def test_a_national_package_sends_its_products_first_and_arrives_whole(cast, provinces, hq_link):
    from jiketong.customers.models import Industry

    industry = Industry.objects.order_by("pk").first()
    one, two = _product("NAT11", "100.00"), _product("NAT12", "300.00")
    package = SolutionPackage.objects.create(
        code="PKG01", name="全国智慧金融套餐", industry=industry, price=Decimal("600.00")
    )
    PackageItem.objects.create(package=package, product=one, quantity=3)
    PackageItem.objects.create(package=package, product=two, quantity=1)
    with as_hq():
        entry = services.catalog_publish(actor=cast.erin.user, package=package)
    assert entry.kind == "package"
    assert list(Directive.objects.values_list("key", flat=True)) == ["product:NAT11", "product:NAT12", "package:PKG01"]
    assert set(NationalCatalogEntry.objects.values_list("code", flat=True)) == {"NAT11", "NAT12", "PKG01"}
    SolutionPackage.objects.all().delete()
    Product.objects.filter(code__in=["NAT11", "NAT12"]).delete()
    assert pull(provinces) == 3
    made = SolutionPackage.objects.get(code="PKG01")
    assert made.price == Decimal("600.00")
    assert sorted(made.items.values_list("product__code", "quantity")) == [("NAT11", 3), ("NAT12", 1)]
    assert federation_events().filter(target_id=str(made.pk), target_type__icontains="package").exists()


def test_a_package_whose_products_the_province_lacks_is_skipped_not_half_made(cast, provinces):
    with pytest.raises(ValidationError) as error:
        services.directive_apply(
            seq=1,
            kind="catalog",
            payload={"item": "package", "code": "PKG09", "name": "某套餐", "industry": "finance",
                     "price": "10.00", "items": [["NOPE", 1]]},
        )  # fmt: skip
    assert "items" in error.value.message_dict
    assert not SolutionPackage.objects.filter(code="PKG09").exists()


def test_an_hq_discount_rule_becomes_the_provinces_approval_policy_audited_once(cast, provinces, hq_link):
    with as_hq():
        services.discount_rule_set(
            actor=cast.erin.user,
            category="",
            manager_max=Decimal("5"),
            city_max=Decimal("15"),
            province_max=Decimal("25"),
        )
    pull(provinces)
    policy = policies()[""]
    assert (policy.manager_max, policy.city_max, policy.province_max) == (Decimal("5"), Decimal("15"), Decimal("25"))
    assert policy.level_for(Decimal("20")) == "province" and policy.level_for(Decimal("26")) == "hq"
    events = federation_events().filter(target_type__icontains="discount")
    assert events.count() == 1
    pull(provinces, again=True)
    assert events.count() == 1
    assert DiscountPolicy.objects.filter(category="").count() == 1


def test_an_hq_discount_rule_out_of_order_is_refused_at_hq(cast, provinces):
    with pytest.raises(ValidationError) as error:
        services.discount_rule_set(
            actor=cast.erin.user,
            category="connectivity",
            manager_max=Decimal("20"),
            city_max=Decimal("10"),
            province_max=Decimal("30"),
        )
    assert "city_max" in error.value.message_dict
    assert not Directive.objects.exists()


def test_only_hq_analysts_and_admins_publish_the_national_catalog(cast, provinces):
    with pytest.raises(PermissionDenied):
        services.catalog_publish(actor=cast.carol.user, product=_product("NAT99", "1.00"))
    with pytest.raises(PermissionDenied):
        services.discount_rule_set(
            actor=cast.alice.user,
            category="",
            manager_max=Decimal("1"),
            city_max=Decimal("2"),
            province_max=Decimal("3"),
        )
