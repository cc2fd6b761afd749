"""What campaigns do when other apps' events happen (jiketong.core.events)."""

from jiketong.core.models import Event


def opportunity_won(event: Event) -> None:
    """A won opportunity that came from a campaign's lead converts its target (idempotent: converted is final)."""
    if event.payload.get("outcome") != "won":
        return
    from jiketong.sales.models import Opportunity

    from .services import opportunity_won as convert

    amount = (
        Opportunity.objects.filter(pk=event.payload["opportunity"]).values_list("amount_monthly", flat=True).first()
    )
    if amount is not None:
        convert(opportunity_id=event.payload["opportunity"], amount_monthly=amount)
