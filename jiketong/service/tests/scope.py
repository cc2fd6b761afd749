"""Hooks for the scope matrix (jiketong/tests_scope): one ticket and one survey per customer, each owned by
someone who sees the customer anyway (the customer's manager, or Dave for unowned Zhejiang customers)."""

from datetime import date

from django.utils import timezone

from jiketong.service.models import Survey, SurveyAnswer, Ticket


def populate(world, customers) -> None:
    now = timezone.now()
    for i, customer in enumerate(customers.values()):
        owner = customer.owner or world.dave
        Ticket.objects.create(
            number=f"GDSCOPE{i:04d}",
            type="complaint",
            customer=customer,
            title=f"投诉{customer.name}",
            owner=owner,
            received_by=owner,
            opened_at=now,
            response_due=now,
            resolve_due=now,
            next_due=now,
        )
        survey = Survey.objects.create(customer=customer, period="2026-Q4", surveyed_by=owner, surveyed_on=date.today())
        SurveyAnswer.objects.create(survey=survey, dimension="service", importance=4, satisfaction=3)
