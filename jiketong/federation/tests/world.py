"""Tiny worlds for the integration test, run inside each instance (`python -m jiketong shell -c`): the same
national group (its head, 广州地铁, is booked in 天河区) with one unit in each province, billed in May 2026."""

from datetime import date
from decimal import Decimal

GROUP_USCC = "91440106MA5D0000X1"
PERIOD = date(2026, 5, 1)
UNITS = {"440000": ("440304", "某集团深圳分公司"), "330000": ("330106", "某集团杭州分公司")}


def _uscc(region: str, n: int) -> str:
    from jiketong.core.validators import uscc_check_digit

    first17 = f"91{region}{n:09d}"
    return first17 + uscc_check_digit(first17)


def seed(code: str) -> None:
    from jiketong import testing
    from jiketong.analytics.summary import refresh
    from jiketong.billing.models import CustomerMonth
    from jiketong.customers.models import Customer, Industry
    from jiketong.org.models import Role

    from ..models import SharedGroup

    Industry.objects.get_or_create(code="it", defaults={"name": "信息技术", "approach": "dispersed"})
    units = testing.make_org_tree()
    owner = testing.make_staff(f"m{code}", units[UNITS[code][0]], [Role.CUSTOMER_MANAGER], name=f"经理{code[:2]}")
    head = testing.make_customer(org_unit=units["440106"], name="某集团有限公司", uscc=_uscc("440106", 1))
    Customer.objects.filter(pk=head.pk).update(uscc=GROUP_USCC, number="G0001")
    head.refresh_from_db()
    unit = testing.make_customer(
        org_unit=units[UNITS[code][0]], owner=owner, parent=head, name=UNITS[code][1], uscc=_uscc(UNITS[code][0], 2)
    )
    for customer, revenue in ((head, "900000"), (unit, "300000")):
        CustomerMonth.objects.create(
            customer=customer, period=PERIOD, revenue=Decimal(revenue), members=50, billed_members=50, products=1
        )
    refresh(PERIOD)
    SharedGroup.objects.create(customer=head, reason="province")


def change(code: str, grade: str, revenue: str, extra_month: date) -> None:
    """While a province is down or up: its unit's grade changes, May is corrected, a new month arrives."""
    from jiketong.analytics.summary import refresh
    from jiketong.billing.models import CustomerMonth
    from jiketong.customers.models import Customer

    unit = Customer.objects.get(name=UNITS[code][1])
    Customer.objects.filter(pk=unit.pk).update(grade=grade)
    CustomerMonth.objects.filter(customer=unit, period=PERIOD).update(revenue=Decimal(revenue))
    CustomerMonth.objects.create(
        customer=unit, period=extra_month, revenue=Decimal(revenue), members=60, billed_members=60, products=1
    )
    refresh(PERIOD)
    refresh(extra_month)
