"""Which requests want a fragment: the one test every list view uses to answer HTMX with its partial."""

from django.http import HttpRequest


def is_partial(request: HttpRequest) -> bool:
    """An HTMX request for a fragment (not a boosted navigation, not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
