"""Generated tests (jiketong/testing_views.py) for the kernel's pages: the audit log and the event outbox (the
latter administrators' operations, not customer data)."""

from jiketong.core.models import AuditEvent, EventHandling
from jiketong.testing_views import Case

CASES = [
    Case(
        EventHandling,
        kinds=("event",),
        unscoped=lambda: EventHandling.objects.order_by("pk").first().pk,
        list="events:list",
        label=lambda handling: handling.reaction,
        reader="frank",
    ),
    Case(
        AuditEvent,
        find=lambda customer: AuditEvent.objects.filter(customer_id=customer.pk).first().pk,
        list="audit:list",
        label=lambda event: event.target_repr,
        reader="grace",
    ),
]
# A finished export's download: its token is the asker's (core/tests/test_exports.py).
OTHER_ROUTES = {"exports:download", "audit:export", "/api/v1/openapi.json", "/api/v1/"}
