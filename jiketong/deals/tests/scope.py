"""Scope-matrix hook (jiketong/tests_scope): one of each deals object per customer of the matrix."""

from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile

from jiketong.catalog.models import Product
from jiketong.deals.models import (
    Contract,
    ContractAttachment,
    ContractStatus,
    Order,
    OrderLine,
    Quote,
    QuoteLine,
    QuoteStatus,
)


def populate(world, customers) -> None:
    """Written directly (not through the services): the matrix needs the same objects for customers that
    have no owner or sit where no persona may write."""
    product = Product.objects.first()
    for name, customer in customers.items():
        quote = Quote.objects.create(
            number=f"BJ-{name}", customer=customer, status=QuoteStatus.APPROVED, total=Decimal("10.00")
        )
        QuoteLine.objects.create(
            quote=quote, product=product, quantity=1, standard_price=Decimal("10.00"), offered_price=Decimal("10.00")
        )
        contract = Contract.objects.create(
            number=f"HT-{name}",
            customer=customer,
            quote=quote,
            value=Decimal("120.00"),
            start_on=date(2026, 1, 1),
            end_on=date(2026, 12, 31),
            status=ContractStatus.ACTIVE,
        )
        attachment = ContractAttachment(contract=contract, name="scan.pdf", size=9)
        attachment.file.save("scan.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
        order = Order.objects.create(number=f"DD-{name}", customer=customer, quote=quote, contract=contract)
        OrderLine.objects.create(order=order, product=product, contracted_price=Decimal("10.00"))


NOT_LISTS = {"deals/orders/export.csv"}
