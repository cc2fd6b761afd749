"""Scope-matrix hooks: webhooks are administrators' configuration, not customer data.

Every route answers 403 to anyone without the admin role (none of the matrix's personas has it), so the
endpoint and delivery ids in the paths are declared readable-by-id: there is no customer behind them to hide.
"""

from jiketong.core import events
from jiketong.webhooks.models import Delivery, Endpoint


def populate(world, customers) -> None:
    endpoint = Endpoint.objects.create(name="数据仓库", url="http://127.0.0.1:9/hook", events=["*"], active=False)
    event = events.emit("order.completed", customer_id=customers["alice_customer"].pk, order=1)
    Delivery.objects.create(endpoint=endpoint, event=event, status="gave_up")
