"""Generated tests (jiketong/testing_views.py) for tickets, surveys and the business calendar."""

from jiketong.service.models import CalendarDay, SlaPolicy, Survey, Ticket
from jiketong.testing_views import Case

CASES = [
    Case(
        Ticket,
        kinds=("ticket",),
        find=lambda customer: Ticket.objects.filter(customer=customer).first().pk,
        list="service:ticket_list",
        detail="service:ticket_detail",
        api_list="/api/v1/tickets",
        api_detail="/api/v1/tickets/{id}",
    ),
    Case(
        Survey,
        kinds=("survey",),
        find=lambda customer: Survey.objects.filter(customer=customer).first().pk,
        list="service:survey_list",
        detail="service:survey_detail",
        api_list="/api/v1/surveys",
        api_detail="/api/v1/surveys/{id}",
    ),
    # The business calendar and the SLA policies are the instance's, not a customer's (the seeded rows).
    Case(CalendarDay, kinds=("day",), unscoped=lambda: CalendarDay.objects.order_by("pk").first().pk),
    Case(
        SlaPolicy,
        kinds=("sla",),
        unscoped=lambda: SlaPolicy.objects.order_by("pk").first().pk,
        detail="service:sla_policy_edit",
        reader="frank",
    ),
]
OTHER_ROUTES = {
    "service:breach_board", "service:quadrant", "service:calendar", "service:calendar_day_add", "/api/v1/breaches",
    "/api/v1/satisfaction/quadrant",
}  # fmt: skip
