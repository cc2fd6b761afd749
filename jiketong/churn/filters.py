"""The warning list's filters, shared by the page, the export and the API."""

import django_filters
from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from jiketong.core.filters import BoundedModelChoiceFilter, IdFilter
from jiketong.core.trees import subtree
from jiketong.core.widgets import PlainSelect
from jiketong.org.models import OrgUnit, Role, staff_of

from .models import AlertKind, AlertStatus, ChurnScore, Reason, RiskAlert, RiskLevel


class _RegionFilterSet(django_filters.FilterSet):
    """A list of customers' rows filtered by region: the user's own subtree (HQ and admins: everything), as on
    the customer list."""

    region = BoundedModelChoiceFilter(
        label=_("Region"), queryset=OrgUnit.objects.all(), method="filter_region", to_field_name="code",
        widget=PlainSelect,
    )  # fmt: skip

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        if user is not None:
            staff = staff_of(user)
            home = "" if user.is_superuser or staff is None or Role.ADMIN in staff.role_codes else staff.org_unit.path
            self.filters["region"].queryset = OrgUnit.objects.filter(subtree(home))

    def filter_region(self, queryset, name, unit: OrgUnit):
        return queryset.filter(customer__org_unit__in=OrgUnit.objects.filter(subtree(unit.path)).values("pk"))


class WarningFilter(_RegionFilterSet):
    risk = django_filters.ChoiceFilter(label=_("Risk level"), choices=RiskLevel.choices)
    reason = django_filters.ChoiceFilter(label=_("Reason"), choices=Reason.choices, method="filter_reason")

    class Meta:
        model = ChurnScore
        fields = ["risk", "reason", "region"]

    def filter_reason(self, queryset, name, value):
        return queryset.alias(hit=F("flags").bitand(Reason(value).bit)).filter(hit__gt=0)


class AlertFilter(_RegionFilterSet):
    """The risk inbox's filters (page, API): kind, status, region (the user's own subtree) and one customer (the
    notification's link)."""

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=AlertKind.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AlertStatus.choices)
    customer = IdFilter(field_name="customer_id", widget=forms.HiddenInput)

    class Meta:
        model = RiskAlert
        fields = ["kind", "status", "region", "customer"]
