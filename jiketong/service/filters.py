"""Filters of the ticket and survey lists, shared by the HTML lists and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.filters import IdFilter
from jiketong.org.models import staff_of

from .models import OPEN_STATUSES, Channel, Priority, Survey, Ticket, TicketStatus, TicketType

STATE_OPEN, STATE_BREACHED, STATE_MINE = "open", "breached", "mine"


class TicketFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(label=_("Search"), method="filter_search")
    state = django_filters.ChoiceFilter(
        label=pgettext_lazy("ticket filter", "Show"),
        choices=[
            (STATE_OPEN, pgettext_lazy("ticket filter", "Open")),
            (STATE_BREACHED, _("SLA breached")),
            (STATE_MINE, _("Mine (open)")),
        ],
        method="filter_state",
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TicketStatus.choices)
    type = django_filters.ChoiceFilter(label=_("Type"), choices=TicketType.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    customer = IdFilter(label=_("Customer"), field_name="customer_id")

    class Meta:
        model = Ticket
        fields = ["search", "state", "status", "type", "channel", "priority", "customer"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(number__iexact=text) | Q(title__icontains=text) | Q(customer__name__icontains=text))

    def filter_state(self, queryset, name, value):
        if value == STATE_OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == STATE_BREACHED:
            return queryset.filter(Q(breached_response=True) | Q(breached_resolution=True))
        if value == STATE_MINE:
            staff = staff_of(self.user)
            return queryset.filter(status__in=OPEN_STATUSES, owner=staff.pk if staff else None)
        return queryset


class SurveyFilter(django_filters.FilterSet):
    period = django_filters.CharFilter(label=_("Period"), help_text=_("A quarter such as 2026-Q4."))
    customer = IdFilter(label=_("Customer"), field_name="customer_id")

    class Meta:
        model = Survey
        fields = ["period", "customer"]
