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
    notice = {"recipients": recipients, "kind": kind, "title": title, "body": body, "url": url,
              "customer_id": customer_id, "key": key}  # fmt: skip
    return notify_many([notice])


def notify_many(notices: Iterable[dict]) -> int:
    """`notify` for many notices at once, each a dict of its arguments (`recipients` included): the same rows
    (a recipient who already had a notice's key gets nothing new), in one query for the keys already delivered
    and one insert. For the set-based forms of reactions (core.events.bulk_form). Returns the rows written."""
    notices = [{**notice, "recipients": {pk for pk in notice["recipients"] if pk}} for notice in notices]
    keys = {notice["key"] for notice in notices if notice.get("key")}
    had = set()
    if keys:
        had = set(Notification.objects.filter(key__in=keys).values_list("key", "recipient"))
    rows = []
    for notice in notices:
        key = notice.get("key", "")
        for pk in sorted(notice["recipients"]):
            if key:
                if (key, pk) in had:
                    continue
                had.add((key, pk))
            rows.append(
                Notification(
                    recipient_id=pk,
                    kind=notice["kind"],
                    title=notice["title"][:200],
                    body=notice.get("body", ""),
                    url=notice.get("url", ""),
                    customer_id=notice.get("customer_id"),
                    key=key,
                )
            )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
