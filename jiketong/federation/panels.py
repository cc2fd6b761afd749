"""The two-level system's panel on the customer 360 page of a province instance: is the group shared with HQ,
HQ's national account assignment, and the button that shares it (supervisors and administrators)."""

from django.urls import reverse

from . import instance


def customer_panel(request, customer) -> dict | None:
    """Two queries, on a province instance only."""
    if not instance.is_province():
        return None
    from jiketong.customers.models import Customer
    from jiketong.org.models import Role, can

    from .models import NationalAssignment, SharedGroup

    head_path = customer.path[: Customer.steplen]
    shared = SharedGroup.objects.filter(customer__path=head_path).select_related("customer").first()
    assignment = NationalAssignment.objects.filter(customer__path=head_path).first()
    return {
        "template": "federation/_customer_panel.html",
        "column": "side",
        "order": 30,
        "shared": shared,
        "assignment": assignment,
        "can_share": shared is None and can(request.user, {Role.ADMIN, Role.SUPERVISOR}),
        "share_url": reverse("federation:share", args=[customer.pk]),
    }
