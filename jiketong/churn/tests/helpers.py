"""Building billing history for churn tests."""

from datetime import date
from decimal import Decimal

from jiketong.billing.models import CustomerMonth
from jiketong.churn.features import add_months


def bill(customer, start: date, revenues: list[float], *, members=None, left=None, arrears=None) -> None:
    """One CustomerMonth per revenue, from `start` on (members, left and arrears per month optional)."""
    n = len(revenues)
    members = members or [100] * n
    left = left or [0] * n
    arrears = arrears or [False] * n
    CustomerMonth.objects.bulk_create(
        CustomerMonth(
            customer=customer,
            period=add_months(start, k),
            revenue=Decimal(str(revenues[k])),
            products=2,
            billed_members=members[k],
            members=members[k],
            on_net_members=members[k],
            arrears=arrears[k],
            left=left[k],
        )
        for k in range(n)
    )
