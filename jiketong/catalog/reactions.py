"""How the catalog reacts to the other apps (core.events): members who leave a group come off its member-level
subscriptions, and BOSS gets a change order for them."""

from jiketong.core.models import Event
from jiketong.customers.models import Customer
from jiketong.deals.services import order_queue_member_removal

from .services import subscriptions_remove_members


def member_left(event: Event) -> None:
    """Remove the members from the customer's 集团彩铃 / V网 (any per-member product) and queue one change
    order with a line per subscription for BOSS, both in this reaction's transaction. Idempotent on its own:
    members already off leave nothing to remove, so no second order."""
    customer = Customer.objects.filter(pk=event.customer_id).first()
    member_ids = event.payload.get("members") or []
    if customer is None or not member_ids:
        return
    changed = subscriptions_remove_members(actor=event.actor, customer_id=customer.pk, member_ids=member_ids)
    if changed:  # the deals app owns orders: its service queues this one
        order_queue_member_removal(actor=event.actor, customer=customer, removals=changed)
