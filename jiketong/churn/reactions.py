"""How the churn app reacts to its own events (core.events): a warning that starts or ends is told to the
customer's manager and the nearest supervisor, once per crossing (the nightly job only emits crossings)."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from jiketong.core.models import Event
from jiketong.core.notify import notify
from jiketong.customers.models import Customer
from jiketong.org.queries import nearest_supervisors


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
