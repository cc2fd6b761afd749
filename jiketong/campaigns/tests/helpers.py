"""Products, subscriptions, members and bills for the campaign tests (plain rows: the campaign code reads them)."""

from datetime import date
from decimal import Decimal

from jiketong.billing.models import CustomerMonth
from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Subscription
from jiketong.customers.models import Member, Network


def product(code: str, name: str, *, per_member: bool = False, price: str = "100.00") -> Product:
    return Product.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "category": ProductCategory.MESSAGING,
            "billing_unit": BillingUnit.PER_MEMBER if per_member else BillingUnit.PER_GROUP,
            "standard_price": Decimal(price),
        },
    )[0]


def subscribe(customer, item: Product, members=()) -> Subscription:
    subscription = Subscription.objects.create(
        customer=customer, product=item, contracted_price=item.standard_price, start_on=date(2024, 1, 1)
    )
    subscription.members.set(members)
    return subscription


_phones = iter(range(10_000_000, 99_999_999))


def members(customer, n: int, *, network: str = Network.ON_NET, joined_on: date = date(2024, 1, 1)) -> list[Member]:
    return Member.objects.bulk_create(
        Member(customer=customer, phone=f"139{next(_phones)}", joined_on=joined_on, network=network) for _ in range(n)
    )


def bill(customer, period: date, revenue: str) -> CustomerMonth:
    return CustomerMonth.objects.create(customer=customer, period=period, revenue=Decimal(revenue), products=1)
