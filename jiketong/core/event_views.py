"""The administrators' view of the event outbox: what is pending, what failed and why, and a retry."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import access, events
from .listing import paginate
from .models import EventHandling, HandlingStatus

PAGE_SIZE = 50
DONE_SHOWN = 500


def _require_admin(request: HttpRequest) -> None:
    if not access.can(request.user, {access.ADMIN}):
        raise PermissionDenied


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    """Reactions by status (failed first by default: that is what an admin comes here for)."""
    _require_admin(request)
    status = request.GET.get("status") or HandlingStatus.FAILED
    if status not in HandlingStatus.values:
        status = HandlingStatus.FAILED
    rows = (
        EventHandling.objects.filter(status=status)
        .select_related("event", "event__actor")
        .order_by("-next_attempt_at", "-pk")
    )
    name = request.GET.get("name", "")
    if name in events.EVENTS:
        rows = rows.filter(event__name=name)
    if status == HandlingStatus.DONE:
        rows = rows[:DONE_SHOWN]  # the newest only: paging through every event ever handled helps nobody
    page = paginate(request, rows, PAGE_SIZE, capped=False)
    # Pending and failed rows are few (partial and status indexes); done rows grow with every event, so the
    # page never counts them.
    counts = {
        value: EventHandling.objects.filter(status=value).count()
        for value in (HandlingStatus.PENDING, HandlingStatus.FAILED)
    }
    context = {
        "page": page,
        "status": status,
        "statuses": [(value, label, counts.get(value)) for value, label in HandlingStatus.choices],
        "names": list(events.EVENTS),
        "name": name,
    }
    return render(request, "core/event_list.html", context)


@require_POST
def event_retry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    handling = get_object_or_404(EventHandling, pk=pk)
    events.retry(handling)
    handling.refresh_from_db()
    if handling.status == HandlingStatus.DONE:
        messages.success(request, _("The reaction ran successfully."))
    else:
        messages.error(request, _("The reaction failed again: %(error)s") % {"error": handling.last_error})
    return redirect(f"{reverse('events:list')}?status={handling.status}")
