"""Generated tests (jiketong/testing_views.py) for tickets, surveys and the business calendar."""

from jiketong.service.models import CalendarDay, Dimension, SlaPolicy, Survey, Ticket
from jiketong.testing_views import Case, Write

# A quarter's survey: every dimension's importance and satisfaction, 1–5.
SURVEY = {"period": "2026-Q3", "surveyed_on": "2026-09-30"} | {
    f"{dimension}_{score}": "4" for dimension in Dimension.values for score in ("importance", "satisfaction")
}

CASES = [
    Case(
        Ticket,
        kinds=("ticket",),
        find=lambda customer: Ticket.objects.filter(customer=customer).first().pk,
        list="service:ticket_list",
        detail="service:ticket_detail",
        api_list="/api/v1/tickets",
        api_detail="/api/v1/tickets/{id}",
        create=Write("service:ticket_create", data={"type": "complaint", "title": "专线中断"}, invalid={"title": ""}),
        edit=Write(
            "service:ticket_edit",
            data={"description": "机房停电"},
            invalid={"title": ""},
            changed=lambda ticket: ticket.description == "机房停电",
        ),
        api_create=Write(
            "/api/v1/tickets",
            data=lambda world, customer: {
                "customer": customer.pk,
                "type": "complaint",
                "channel": "manager",
                "title": "专线中断",
            },
            invalid={"type": "complaint", "channel": "manager", "title": "专线中断"},  # no customer
        ),
        not_writer="grace",
    ),
    Case(
        Survey,
        kinds=("survey",),
        find=lambda customer: Survey.objects.filter(customer=customer).first().pk,
        list="service:survey_list",
        detail="service:survey_detail",
        api_list="/api/v1/surveys",
        api_detail="/api/v1/surveys/{id}",
        create=Write("service:survey_create", data=SURVEY, invalid=SURVEY | {"period": "2026-Q5"}),
        not_writer="grace",
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
