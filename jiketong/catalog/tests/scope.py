"""Scope-matrix hook (jiketong/tests_scope): one solution package. Packages are catalog data, the same for every
user (like products), so their ids are unscoped; the routes that also name a customer's record (a quote's
package) are probed through that record."""

from decimal import Decimal

from jiketong.catalog.models import PackageItem, Product, SolutionPackage


def populate(world, customers) -> None:
    package = SolutionPackage.objects.create(
        code="PKG-SCOPE", name="智慧交通套餐", industry_id="transport", price=Decimal("9.00")
    )
    PackageItem.objects.create(package=package, product=Product.objects.first(), quantity=1)
