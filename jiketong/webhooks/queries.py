"""Every read of the webhooks app. Endpoints are admin configuration, not customer data: no scope, but only
admins get here (views and API check the role first)."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import OPEN_STATUSES, Attempt, Delivery, DeliveryStatus, Endpoint


def endpoints() -> QuerySet[Endpoint]:
    """With the counts the list shows: deliveries still being tried and deliveries that gave up."""
    return Endpoint.objects.annotate(
        open_count=Count("deliveries", filter=Q(deliveries__status__in=OPEN_STATUSES)),
        gave_up_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.GAVE_UP)),
    ).order_by("name", "pk")


def endpoint_get(pk: int) -> Endpoint:
    return get_object_or_404(Endpoint, pk=pk)


def deliveries(endpoint: Endpoint, status: str = "") -> QuerySet[Delivery]:
    """An endpoint's delivery log, newest first (the log index)."""
    rows = Delivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-created_at", "-pk")
    if status in DeliveryStatus.values:
        rows = rows.filter(status=status)
    return rows


def status_counts(endpoint: Endpoint) -> dict[str, int]:
    counts = dict(Delivery.objects.filter(endpoint=endpoint).order_by().values_list("status").annotate(n=Count("pk")))
    return {value: counts.get(value, 0) for value in DeliveryStatus.values}


def delivery_get(pk: int) -> Delivery:
    return get_object_or_404(Delivery.objects.select_related("endpoint", "event"), pk=pk)


def attempts(delivery: Delivery) -> QuerySet[Attempt]:
    return Attempt.objects.filter(delivery=delivery).select_related("requested_by").order_by("-at", "-pk")
