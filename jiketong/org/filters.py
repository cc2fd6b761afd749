"""The staff list's filters, shared by the 用户管理 page and the API so both filter the same way."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.filters import BoundedModelChoiceField, BoundedModelChoiceFilter
from jiketong.core.trees import subtree
from jiketong.core.widgets import PlainSelect

from .models import OrgUnit, Role, Staff

ACTIVE_CHOICES = [("true", pgettext_lazy("account", "Active")), ("false", pgettext_lazy("account", "Left"))]


def unit_label(unit: OrgUnit) -> str:
    """A unit as a tree picker shows it: indented by its depth under HQ."""
    return "\u3000" * (unit.depth - 1) + unit.name


class UnitChoiceField(BoundedModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return unit_label(obj)


class UnitFilter(BoundedModelChoiceFilter):
    field_class = UnitChoiceField


class StaffFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(label=_("Search"), method="filter_search")
    org_unit = UnitFilter(
        label=_("Org unit"),
        queryset=OrgUnit.objects.order_by("path"),
        method="filter_org_unit",
        widget=PlainSelect,
    )
    role = django_filters.ChoiceFilter(label=_("Role"), choices=Role.CHOICES, method="filter_role")
    is_active = django_filters.ChoiceFilter(label=_("Account"), choices=ACTIVE_CHOICES, method="filter_active")

    class Meta:
        model = Staff
        fields = ["search", "org_unit", "role", "is_active"]

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(name__icontains=text) | Q(user__username__icontains=text))

    def filter_org_unit(self, queryset, name, unit: OrgUnit):
        return queryset.filter(subtree(unit.path, "org_unit__path"))

    def filter_role(self, queryset, name, value):
        # A subquery, not a join: a colleague with two roles must not be listed twice.
        holders = Staff.roles.through.objects.filter(role_id=value).values("staff_id")
        return queryset.filter(pk__in=holders)

    def filter_active(self, queryset, name, value):
        return queryset.filter(user__is_active=value == "true")
