"""How the archive reacts to what happens in the other apps (core.events): the customer's lifecycle follows
its orders and its churn warnings, so nobody has to remember to change it by hand."""

from django.apps import apps
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.core.models import Event
from jiketong.core.notes import stored

from . import keypersons
from .models import Contact, Customer, LifecycleStatus
from .services import contact_create, customer_set_status


def _customer(event: Event) -> Customer | None:
    return Customer.objects.filter(pk=event.customer_id).first() if event.customer_id else None


def order_completed(event: Event) -> None:
    """A completed order puts a prospect in service (潜在 → 在网) and wins back a churned customer (离网 → 在网)."""
    customer = _customer(event)
    if customer is None or event.payload.get("subscriptions") == []:
        return  # nothing put in service (a change order for members who left): the status stays
    number = event.payload.get("number") or event.payload.get("order")
    if customer.status == LifecycleStatus.CHURNED:
        reason = _("Won back: order %(number)s completed") % {"number": number}
    else:
        reason = _("Order %(number)s completed") % {"number": number}
    customer_set_status(
        actor=event.actor,
        customer=customer,
        status=LifecycleStatus.ACTIVE,
        reason=reason,
        only_from={LifecycleStatus.PROSPECT, LifecycleStatus.CHURNED, LifecycleStatus.DORMANT},
    )


def churn_level_changed(event: Event) -> None:
    """A churn warning moves an in-service customer to 预警 with its reasons; when the score falls back the
    customer returns to 在网. A customer a person set to another status (离网, 沉默) is left as it is."""
    customer = _customer(event)
    if customer is None:
        return
    reasons = "；".join(str(reason) for reason in event.payload.get("reasons") or [])
    if event.payload.get("warned"):
        customer_set_status(
            actor=event.actor,
            customer=customer,
            status=LifecycleStatus.AT_RISK,
            reason=stored(
                gettext_noop("Churn warning: %(reasons)s"), reasons=reasons or event.payload.get("to_level", "")
            ),
            only_from={LifecycleStatus.ACTIVE},
        )
    else:
        customer_set_status(
            actor=event.actor,
            customer=customer,
            status=LifecycleStatus.ACTIVE,
            reason=stored(gettext_noop("Churn warning ended: the score fell back below the warning level")),
            only_from={LifecycleStatus.AT_RISK},
        )


def lead_converted(event: Event) -> None:
    """The converted lead's contact becomes a key person of the customer, unless a contact with the same
    mobile or the same name is already there (so a second handling adds nothing). The event carries ids only:
    the name, job title and mobile (personal data) are read from the lead row."""
    customer = _customer(event)
    lead = apps.get_model("sales", "Lead").objects.filter(pk=event.payload.get("lead")).first()
    if customer is None or lead is None:
        return
    name = " ".join((lead.contact_name or "").split())
    if not name:
        return
    same = (Q(name=name) | Q(mobile=lead.contact_mobile)) if lead.contact_mobile else Q(name=name)
    if Contact.objects.filter(same, customer=customer).exists():
        return
    contact_create(
        actor=event.actor,
        customer=customer,
        name=name,
        title=lead.contact_title,
        mobile=lead.contact_mobile,
        is_key_person=True,
    )


def billing_period_replaced(event: Event) -> None:
    """A replaced member snapshot (BOSS's monthly list of a group's numbers) that is the newest one tells
    which current members left: numbers the month before listed and it no longer does."""
    if event.payload.get("kind") != "members" or not event.payload.get("periods"):
        return
    from datetime import date

    from .services import members_leave_absent_from_snapshot

    newest = max(date.fromisoformat(period) for period in event.payload["periods"])
    members_leave_absent_from_snapshot(actor=event.actor, period=newest)


def lifecycle_changed(event: Event) -> None:
    """A customer that left us (离网), or came back, leaves or joins the key-person gaps at once, whoever moved
    it (a person, an order, a churn warning); the nightly rebuild would otherwise list it until morning."""
    churned = LifecycleStatus.CHURNED
    if event.customer_id and churned in (event.payload.get("from_status"), event.payload.get("to_status")):
        keypersons.refresh_customer(event.customer_id)  # 预警 and the like change no gap: not worth a rebuild
