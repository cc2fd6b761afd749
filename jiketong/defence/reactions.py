"""How the defence app reacts to the other apps (core.events): rivals recorded in the archive or the attack log
and rivals' contracts ending keep the board; a high threat alerts the owner and the nearest supervisor once;
a customer that churns joins the win-back list and one back in service is counted won back; the one-click
retention task gets its case."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jiketong.core.events import bulk_form
from jiketong.core.models import Event
from jiketong.core.notify import notify
from jiketong.customers.models import Competitor, Customer, LifecycleStatus, ThreatLevel
from jiketong.customers.unitcopy import follow_move
from jiketong.org.queries import nearest_supervisors

from . import grouprisk, services


def threat_recorded(event: Event) -> None:
    """Refresh the customer's board row; a threat that becomes high (a presence raised to high, or a high-threat
    action logged) tells the owner (else the backup manager) and the nearest supervisors, keyed by customer and
    competitor so a second record of the same rival alerts nobody again."""
    if event.customer_id is None:
        return
    services.threats_refresh([event.customer_id])
    payload = event.payload
    if payload.get("threat") != ThreatLevel.HIGH or payload.get("from_threat") == ThreatLevel.HIGH:
        return
    customer = Customer.objects.select_related("org_unit").filter(pk=event.customer_id).first()
    if customer is None or customer.status in services.NOT_DEFENDED:
        return
    with translation.override(settings.LANGUAGE_CODE):
        competitor = dict(Competitor.choices).get(payload.get("competitor"), payload.get("competitor", ""))
        notify(
            [customer.owner_id or customer.backup_owner_id, *nearest_supervisors(customer.org_unit)],
            kind="defence_threat",
            title=_("High threat: %(competitor)s at %(customer)s")
            % {"competitor": competitor, "customer": customer.name},
            body=_("A high threat was recorded. Open a defence plan from the defence board."),
            url=reverse("defence:customer", args=[customer.pk]),
            customer_id=customer.pk,
            key=f"defence-high:{customer.pk}:{payload.get('competitor')}",
        )


def contract_ending_many(events: list[Event]) -> None:
    """`contract_ending` for many events at once: the board rows of all their customers in one refresh."""
    customer_ids = [event.customer_id for event in events if event.customer_id is not None]
    if customer_ids:
        services.threats_refresh(customer_ids)


@bulk_form(contract_ending_many)
def contract_ending(event: Event) -> None:
    """A rival's contract ending in the window puts the customer on the board (the reminder itself is the work
    app's, to the same owner and supervisor)."""
    if event.customer_id is not None:
        services.threats_refresh([event.customer_id])


def _winback(event: Event) -> None:
    payload = event.payload
    day = timezone.localtime(event.occurred_at).date()
    if payload.get("to_status") == LifecycleStatus.CHURNED:
        services.winbacks_open([event.customer_id], day)
    elif payload.get("from_status") == LifecycleStatus.CHURNED:
        services.winback_won(event.customer_id, day)


def lifecycle_changed_many(events: list[Event]) -> None:
    """`lifecycle_changed` for many events at once: each one's win-back step, then one board refresh for all."""
    events = [event for event in events if event.customer_id is not None]
    for event in events:
        _winback(event)
    if events:
        services.threats_refresh([event.customer_id for event in events])


@bulk_form(lifecycle_changed_many)
def lifecycle_changed(event: Event) -> None:
    """→ 离网: on the win-back list and off the board; 离网 → 在网: won back."""
    if event.customer_id is None:
        return
    _winback(event)
    services.threats_refresh([event.customer_id])


def sets_roll_up_many(events: list[Event]) -> None:
    """`sets_roll_up` for many events at once: the sets of all their customers rolled up in one refresh."""
    customer_ids = sorted({event.customer_id for event in events if event.customer_id is not None})
    if customer_ids:
        grouprisk.refresh(customer_ids)


@bulk_form(sets_roll_up_many)
def sets_roll_up(event: Event) -> None:
    """A unit's churn warning, threat or lifecycle changed: its group and affiliated set are rolled up again, so
    the head and the siblings show the chained warning (连锁联动) now rather than after the night."""
    if event.customer_id is not None:
        grouprisk.refresh([event.customer_id])


def retention_opened(event: Event) -> None:
    from jiketong.work.models import Task

    task = Task.objects.filter(pk=event.payload.get("task")).first()
    if task is not None and task.customer_id:
        services.retention_case_for_task(actor=event.actor, task=task)


def customer_moved(event: Event) -> None:
    """The customer's board row and set units carry its new org unit (their scope reads the copy, decision 0803).
    Idempotent: the copy is set to the customer's unit as it is now."""
    from .models import GroupRiskUnit, Threat

    follow_move(event.customer_id, Threat.objects.all(), GroupRiskUnit.objects.all())
