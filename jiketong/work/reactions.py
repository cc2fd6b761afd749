"""How managers' work reacts to the other apps (core.events): a competitor's contract ending soon reminds the
customer's manager and the nearest supervisor, like our own contracts do."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from jiketong.core.events import bulk_form
from jiketong.core.models import Event
from jiketong.core.notify import notify
from jiketong.customers.jobs import reminder_days, window_of
from jiketong.customers.models import Competitor, Customer
from jiketong.org.queries import nearest_supervisors


def competitor_contract_ending(event: Event) -> None:
    """One reminder per presence, contract end and window (keyed so, not by the event: a repeated event for
    the same window reminds nobody twice) to the owner (or backup manager) and the nearest supervisors."""
    customer = Customer.objects.select_related("org_unit").filter(pk=event.customer_id).first()
    if customer is None:
        return
    payload = event.payload
    window = window_of(payload["days_left"], reminder_days())
    with translation.override(settings.LANGUAGE_CODE):
        competitor = dict(Competitor.choices).get(payload.get("competitor"), payload.get("competitor", ""))
        notify(
            [customer.owner_id or customer.backup_owner_id, *nearest_supervisors(customer.org_unit)],
            kind="competitor_contract",
            title=_("%(competitor)s's contract with %(customer)s ends in %(days)s days")
            % {"competitor": competitor, "customer": customer.name, "days": payload["days_left"]},
            body=_("Their contract ends on %(end)s: a window to win the business.") % {"end": payload["ends_on"]},
            url=reverse("customers:detail", args=[customer.pk]),
            customer_id=customer.pk,
            key=f"competitor-contract:{payload['presence']}:{payload['ends_on']}:{window}",
        )


def coverage_of_customers(events: list[Event]) -> None:
    """`coverage_of_customer` for many events at once: their managers' rows in one later refresh."""
    from .services import coverage_refresh_later

    customer_ids = {event.customer_id for event in events}
    coverage_refresh_later(Customer.objects.filter(pk__in=customer_ids).values_list("owner_id", flat=True))


@bulk_form(coverage_of_customers)
def coverage_of_customer(event: Event) -> None:
    """The coverage row of the customer's manager again (idempotent: a recomputation from the visits)."""
    from .services import coverage_refresh_later

    owner_id = Customer.objects.filter(pk=event.customer_id).values_list("owner_id", flat=True).first()
    coverage_refresh_later([owner_id])
