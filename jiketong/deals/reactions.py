"""How the deals app reacts to its own events (core.events): the people a quote waits for, and the person who
submitted it, hear about it in their inbox. Each notification is keyed by the event, so handling an event
twice delivers nothing the second time."""

from django.urls import reverse
from django.utils.translation import gettext as _

from jiketong.core.models import Event
from jiketong.core.notify import notify

from .models import Decision, Quote


def _quote(event: Event) -> Quote | None:
    return Quote.objects.select_related("customer").filter(pk=event.payload.get("quote")).first()


def quote_submitted(event: Event) -> None:
    """The supervisors named in the event (the lowest level that may approve) are told a quote waits."""
    approvers = event.payload.get("approvers") or []
    quote = _quote(event) if approvers else None
    if quote is None:
        return
    notify(
        approvers,
        kind="quote_approval",
        title=_("Quote %(number)s waits for your approval") % {"number": quote},
        body=_("%(customer)s, deepest discount %(pct)s%%")
        % {"customer": quote.customer.name, "pct": quote.max_discount_pct},
        url=reverse("deals:quote_detail", args=[quote.pk]),
        customer_id=quote.customer_id,
        key=f"quote-submitted:{event.pk}",
    )


def quote_decided(event: Event) -> None:
    """The submitter is told the decision with the approver's comment and a link to the quote. An automatic
    approval (within the submitter's own authority, no decider) tells nobody: the submitter saw it happen."""
    payload = event.payload
    submitter = payload.get("submitted_by")
    if not submitter or not payload.get("decided_by") or submitter == payload.get("decided_by"):
        return
    quote = _quote(event)
    if quote is None:
        return
    if payload.get("decision") == Decision.APPROVED:
        title = _("Quote %(number)s was approved") % {"number": quote}
    else:
        title = _("Quote %(number)s was rejected") % {"number": quote}
    comment = payload.get("comment") or ""
    notify(
        [submitter],
        kind="quote_decision",
        title=title,
        body=f"{quote.customer.name}: {comment}" if comment else quote.customer.name,
        url=reverse("deals:quote_detail", args=[quote.pk]),
        customer_id=quote.customer_id,
        key=f"quote-decided:{event.pk}",
    )
