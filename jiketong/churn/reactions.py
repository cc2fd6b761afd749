"""How the churn app reacts to its own events (core.events): a warning that starts or ends is told to the
customer's manager and the nearest supervisor, once per crossing (the nightly job only emits crossings)."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from jiketong.core.events import bulk_form
from jiketong.core.models import Event
from jiketong.core.notify import notify, notify_many
from jiketong.customers.models import Customer
from jiketong.customers.unitcopy import follow_move
from jiketong.org.queries import nearest_supervisors, supervisors_for


def notify_level_changed(event: Event) -> None:
    """An inbox notice with the reasons and a link to the customer, for the owner (the backup manager
    when there is none) and the supervisors nearest up the tree from the customer's unit (those whose
    scope holds it). Keyed by the event, so a second handling delivers nothing new."""
    customer = Customer.objects.select_related("org_unit").filter(pk=event.customer_id).first()
    if customer is None:
        return
    payload = event.payload
    recipients = [customer.owner_id or customer.backup_owner_id, *nearest_supervisors(customer.org_unit)]
    with translation.override(settings.LANGUAGE_CODE):
        if payload.get("warned"):
            title = _("Churn warning: %(customer)s (risk score %(score)s)")
            body = "\n".join(payload.get("reasons") or []) or _("The risk score reached the warning level.")
        else:
            title = _("Churn warning ended: %(customer)s (risk score %(score)s)")
            body = _("The risk score fell back below the warning level.")
        notify(
            recipients,
            kind="churn_warning",
            title=title % {"customer": customer.name, "score": payload.get("score", "—")},
            body=body,
            url=reverse("customers:detail", args=[customer.pk]),
            customer_id=customer.pk,
            key=f"churn-level:{event.pk}",
        )


def _alert_notices(events: list[Event]) -> list[dict]:
    """The inbox notices of these risk-alert events (`notify_alert_raised`), in three queries for all of them."""
    from .models import AlertKind, RiskAlert

    alerts = RiskAlert.objects.select_related("customer__org_unit", "owner").in_bulk(
        [event.payload.get("alert") for event in events if event.payload.get("alert")]
    )
    chosen = [(event, alerts.get(event.payload.get("alert"))) for event in events]
    chosen = [(event, alert) for event, alert in chosen if alert and alert.kind != AlertKind.COMPETITOR_THREAT]
    supervisors = supervisors_for({alert.customer.org_unit.path for _event, alert in chosen})
    notices = []
    with translation.override(settings.LANGUAGE_CODE):
        for event, alert in chosen:
            customer = alert.customer
            owner = alert.owner.user_id if alert.owner else None
            notices.append(
                {
                    "recipients": [owner, *supervisors[customer.org_unit.path]],
                    "kind": "risk_alert",
                    "title": _("Risk alert: %(customer)s — %(kind)s")
                    % {"customer": customer.name, "kind": alert.get_kind_display()},
                    "body": event.payload.get("reason", ""),
                    "url": reverse("churn:alerts") + f"?customer={customer.pk}",
                    "customer_id": customer.pk,
                    "key": f"risk-alert:{alert.pk}",
                }
            )
    return notices


def notify_alerts_raised(events: list[Event]) -> None:
    """`notify_alert_raised` for many events at once (a night's alerts): the same notices."""
    notify_many(_alert_notices(events))


@bulk_form(notify_alerts_raised)
def notify_alert_raised(event: Event) -> None:
    """A risk alert in the inbox of the customer's manager (the one the alert was routed to) and the supervisors
    nearest up the tree, linking to the risk inbox; keyed by the alert, so it is told once. A high competitor
    threat is told by the defence app when it is recorded (decision 0705): not a second time here."""
    for notice in _alert_notices([event]):
        notify(notice.pop("recipients"), **notice)


def customer_moved(event: Event) -> None:
    """The customer's risk alerts carry its new org unit: a subtree reader's inbox reads the copy (decision 0706)."""
    from .models import RiskAlert

    follow_move(event.customer_id, RiskAlert.objects.all())
