"""Scope-matrix hooks: the event outbox page is administrators' operations, not customer data.

Its routes answer 403 to anyone without the admin role (none of the matrix's personas has it), so the handling
ids in the paths are declared readable-by-id: there is no customer behind them to hide. A finished export's
download token belongs to the one user who asked for it (anybody else gets 404: core/tests/test_exports.py), so
the matrix probes it with a token nobody holds."""

from jiketong.core.models import Event, EventHandling


def populate(world, customers) -> None:
    event = Event.objects.create(name="order.completed", customer_id=customers["alice_customer"].pk, payload={})
    EventHandling.objects.create(event=event, reaction="jiketong.customers.reactions.order_completed", status="failed")


UNSCOPED = {"token": lambda: "0" * 32}  # no model's row: the event handling ids are tests/cases.py's
