"""The one way to put something in users' inboxes (`core.Notification`)."""

from collections.abc import Iterable

from .models import Notification


def notify(
    recipients: Iterable[int],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    customer_id: int | None = None,
    key: str = "",
) -> int:
    """Deliver one notification to each recipient (user ids). With a `key`, a recipient who already had
    that key gets nothing new, so a daily job that runs twice does not remind twice. Returns how many
    recipients were new (counted before the insert; concurrent duplicates are still ignored)."""
    user_ids = {pk for pk in recipients if pk}
    if key:
        user_ids -= set(
            Notification.objects.filter(key=key, recipient__in=user_ids).values_list("recipient", flat=True)
        )
    rows = [
        Notification(
            recipient_id=pk, kind=kind, title=title[:200], body=body, url=url, customer_id=customer_id, key=key
        )
        for pk in sorted(user_ids)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
