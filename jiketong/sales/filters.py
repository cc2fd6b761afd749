"""The lead and opportunity list filters, shared by the HTML lists, the board and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiketong.catalog.models import Product
from jiketong.core.filters import BoundedModelChoiceFilter, IdFilter
from jiketong.core.trees import subtree
from jiketong.core.widgets import PlainSelect
from jiketong.customers.models import Competitor, Grade, Industry
from jiketong.org.models import OrgUnit, Role, Staff, staff_of

from .models import Lead, LeadSource, LeadStatus, Opportunity, ReferenceCase, Stage

ALL = _("All")


def _select() -> PlainSelect:
    return PlainSelect(attrs={"class": "form-select form-select-sm"})


def _home_path(user) -> str:
    staff = staff_of(user)
    if user.is_superuser or staff is None or Role.ADMIN in staff.role_codes:
        return ""
    return staff.org_unit.path


class _ScopedChoices(django_filters.FilterSet):
    """Owner and region choices a person can scan: staff of the user's own unit (its subtree for
    supervisors) and the regions of their province, as the customer list does."""

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        if user is not None:
            home = _home_path(user)
            self.filters["owner"].queryset = (
                Staff.objects.visible_to(user)
                .filter(subtree(home, "org_unit__path"), roles__in=Role.PORTFOLIO_ROLES)
                .distinct()
                .order_by("name")
            )
            self.filters["region"].queryset = OrgUnit.objects.filter(subtree(home[: OrgUnit.steplen * 2]))


class LeadFilter(_ScopedChoices):
    search = django_filters.CharFilter(label=_("Search"), field_name="name", lookup_expr="icontains")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=LeadStatus.choices, empty_label=ALL, widget=_select()
    )
    open = django_filters.BooleanFilter(label=_("Open only"), method="filter_open", widget=forms.CheckboxInput)
    source = django_filters.ChoiceFilter(
        label=_("Source"), choices=LeadSource.choices, empty_label=ALL, widget=_select()
    )
    region = BoundedModelChoiceFilter(
        label=_("Region"),
        queryset=OrgUnit.objects.all(),
        method="filter_region",
        to_field_name="code",
        empty_label=ALL,
        widget=_select(),
    )
    industry = BoundedModelChoiceFilter(
        label=_("Industry"), queryset=Industry.objects.all(), empty_label=ALL, widget=_select()
    )
    grade_hint = django_filters.ChoiceFilter(
        label=_("Expected grade"), choices=Grade.choices, empty_label=ALL, widget=_select()
    )
    owner = BoundedModelChoiceFilter(label=_("Owner"), queryset=Staff.objects.all(), empty_label=ALL, widget=_select())

    class Meta:
        model = Lead
        fields = ["search", "status", "open", "source", "region", "industry", "grade_hint", "owner"]

    def filter_open(self, queryset, name, value):
        return queryset.open() if value else queryset

    def filter_region(self, queryset, name, unit: OrgUnit):
        return queryset.filter(org_unit__in=OrgUnit.objects.filter(subtree(unit.path)).values("pk"))


class OpportunityFilter(_ScopedChoices):
    search = django_filters.CharFilter(label=_("Search"), field_name="name", lookup_expr="icontains")
    stage = BoundedModelChoiceFilter(
        label=_("Stage"), queryset=Stage.objects.all(), to_field_name="code", empty_label=ALL, widget=_select()
    )
    open = django_filters.BooleanFilter(label=_("Open only"), method="filter_open", widget=forms.CheckboxInput)
    region = BoundedModelChoiceFilter(
        label=_("Region"),
        queryset=OrgUnit.objects.all(),
        method="filter_region",
        to_field_name="code",
        empty_label=ALL,
        widget=_select(),
    )
    owner = BoundedModelChoiceFilter(label=_("Owner"), queryset=Staff.objects.all(), empty_label=ALL, widget=_select())
    competitor = django_filters.ChoiceFilter(
        label=_("Competitor"), choices=Competitor.choices, empty_label=ALL, widget=_select()
    )
    close_from = django_filters.DateFilter(
        label=_("Expected close from"),
        field_name="expected_close",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    close_to = django_filters.DateFilter(
        label=_("Expected close to"),
        field_name="expected_close",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    customer = IdFilter(label=_("Customer"), field_name="customer_id", widget=forms.HiddenInput)

    class Meta:
        model = Opportunity
        fields = ["search", "stage", "open", "region", "owner", "competitor", "close_from", "close_to", "customer"]

    def filter_open(self, queryset, name, value):
        return queryset.open() if value else queryset

    def filter_region(self, queryset, name, unit: OrgUnit):
        return queryset.filter(customer__org_unit__in=OrgUnit.objects.filter(subtree(unit.path)).values("pk"))


class ReferenceCaseFilter(django_filters.FilterSet):
    """The reference-case list: by industry, product and region (a unit of the reader's province and what
    lies under it), and words of the published text. The search never reads customers' names: a case of a
    customer the reader may not see is found by what it says, not by whom it was for."""

    search = django_filters.CharFilter(label=_("Search"), method="filter_search")
    industry = BoundedModelChoiceFilter(
        label=_("Industry"), queryset=Industry.objects.all(), empty_label=ALL, widget=_select()
    )
    product = BoundedModelChoiceFilter(
        label=_("Product"),
        queryset=Product.objects.order_by("category", "code"),
        field_name="products",
        empty_label=ALL,
        widget=_select(),
    )
    region = BoundedModelChoiceFilter(
        label=_("Region"),
        queryset=OrgUnit.objects.all(),
        method="filter_region",
        to_field_name="code",
        empty_label=ALL,
        widget=_select(),
    )

    class Meta:
        model = ReferenceCase
        fields = ["search", "industry", "product", "region"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        if user is not None:
            home = _home_path(user)
            self.filters["region"].queryset = OrgUnit.objects.filter(
                subtree(home[: OrgUnit.steplen * 2]), depth__lte=4
            ).order_by("path")

    def filter_search(self, queryset, name, value):
        text = (value or "").strip()
        if not text:
            return queryset
        return queryset.filter(Q(title__icontains=text) | Q(what_won__icontains=text) | Q(public_name__icontains=text))

    def filter_region(self, queryset, name, unit: OrgUnit):
        return queryset.filter(org_unit__in=OrgUnit.objects.filter(subtree(unit.path)).values("pk"))
