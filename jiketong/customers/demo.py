"""Demo key-person maps: the 天河 demo manager's twelve biggest customers get their map filled in.

On each, the other contacts report to the first (the head of the customer), one of them also influences him;
the head's counterpart on our side is the 广州 city supervisor for A-grade customers (高层对高层) and the manager
otherwise. Half the heads were visited three weeks ago, a quarter four months ago (flagged: not met in 90
days), the rest never; on one customer the head has left, so it has no known decision maker. Written through
the services, like a person would; the kept gaps come from the morning's daily jobs, which the demo command runs
after loading.
"""

from datetime import timedelta

from django.utils import timezone

from jiketong.org.models import Staff

from . import services
from .models import Contact, ContactRelation, Customer, DecisionRole, KeyPersonGap

RESET_MODELS = [KeyPersonGap, ContactRelation]
MAPS = 12


def generate(builder) -> None:
    manager = Staff.objects.filter(user__username="manager").select_related("user", "org_unit").first()
    supervisor = Staff.objects.filter(user__username="supervisor").select_related("user").first()
    if manager is None:
        return
    actor, now = manager.user, timezone.now()
    customers = list(Customer.objects.filter(owner=manager).exclude(status="churned").order_by("grade", "pk")[:MAPS])
    drawn = 0
    for i, customer in enumerate(customers):
        contacts = list(Contact.objects.filter(customer=customer).order_by("pk"))
        if not contacts:
            continue
        head, others = contacts[0], contacts[1:]
        if head.decision_role != DecisionRole.DECIDER:
            head = services.contact_update(actor=actor, contact=head, decision_role=DecisionRole.DECIDER)
        for other in others:
            services.contact_relation_add(actor=actor, from_contact=other, to_contact=head, kind="reports_to")
        if others:
            services.contact_relation_add(actor=actor, from_contact=others[0], to_contact=head, kind="influences")
        counterpart = supervisor if supervisor and customer.grade.startswith("A") else manager
        services.contact_set_counterpart(actor=actor, contact=head, counterpart=counterpart)
        if i % 4 in (0, 1):
            _visit(actor, customer, head, now - timedelta(days=21))
        elif i % 4 == 2:
            _visit(actor, customer, head, now - timedelta(days=120))
        if i == len(customers) - 1:
            services.contact_mark_left(actor=actor, contact=head, left_on=timezone.localdate() - timedelta(days=30))
        drawn += 1
    builder.progress(f"key-person maps: {drawn}")


def _visit(actor, customer, contact, when) -> None:
    from jiketong.work.services import activity_create

    activity_create(
        actor, kind="visit", subject="高层拜访", happened_at=when, customer=customer, contacts=[contact],
        outcome="了解明年信息化预算",
    )  # fmt: skip
