"""Kept rows that carry a copy of their customer's org unit (decisions 0803, 0706): a subtree reader's scope is a
condition on the row's own `org_unit` (its index), so a province's count and page never join every customer; a
manager's portfolio still goes through the customer's owners. The copy is written when the row is made and
follows `customer.moved` through `follow_move`."""

from django.db.models import QuerySet

from jiketong.org.scope import ScopedQuerySet, record_scope

from .models import Customer


class UnitCopyQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.filter(
            record_scope(user, org_unit="org_unit", owners=("customer__owner", "customer__backup_owner"))
        )


class UnitCopyMixin:
    """A row saved without its copy takes its customer's unit (rows made by hand, fixtures)."""

    def save(self, *args, **kwargs):
        if self.org_unit_id is None and self.customer_id is not None:
            self.org_unit_id = (
                Customer.objects.filter(pk=self.customer_id).values_list("org_unit_id", flat=True).first()
            )
        super().save(*args, **kwargs)


def follow_move(customer_id: int | None, *querysets: QuerySet) -> None:
    """The rows of `querysets` of one customer take its org unit as it is now (a `customer.moved` reaction's
    body; idempotent)."""
    if customer_id is None:
        return
    unit = Customer.objects.filter(pk=customer_id).values_list("org_unit_id", flat=True).first()
    if unit is None:
        return
    for queryset in querysets:
        queryset.filter(customer_id=customer_id).exclude(org_unit_id=unit).update(org_unit_id=unit)
