"""The board's, the plans' and the win-back list's filters, shared by the pages, the exports and the API."""

from datetime import timedelta

import django_filters
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiketong.core.filters import BoundedModelChoiceFilter
from jiketong.core.trees import subtree
from jiketong.core.widgets import PlainSelect
from jiketong.customers.models import Competitor, Grade, Industry, ThreatLevel
from jiketong.org.models import OrgUnit, Role, staff_of

from .models import GroupRisk, GroupRiskUnit, Outcome, Plan, PlanKind, PlanStatus, RiskSetKind, Threat, WinBack

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
GRADE_LETTERS = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]


class _RegionMixin:
    region_path = "customer__org_unit"

    def _limit_regions(self, user) -> None:
        if user is not None:
            staff = staff_of(user)
            home = "" if user.is_superuser or staff is None or Role.ADMIN in staff.role_codes else staff.org_unit.path
            self.filters["region"].queryset = OrgUnit.objects.filter(subtree(home))

    def filter_region(self, queryset, name, unit: OrgUnit):
        return queryset.filter(**{f"{self.region_path}__in": OrgUnit.objects.filter(subtree(unit.path)).values("pk")})


def _region():
    return BoundedModelChoiceFilter(
        label=_("Region"), queryset=OrgUnit.objects.all(), method="filter_region", to_field_name="code",
        widget=PlainSelect,
    )  # fmt: skip


class BoardFilter(_RegionMixin, django_filters.FilterSet):
    level = django_filters.ChoiceFilter(label=_("Threat level"), choices=ThreatLevel.choices)
    competitor = django_filters.ChoiceFilter(label=_("Competitor"), choices=Competitor.choices)
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=GRADE_LETTERS, method="filter_grade")
    region = _region()
    ending = django_filters.ChoiceFilter(
        label=_("Their contract ends within 90 days"), choices=YES_NO, method="filter_ending"
    )
    plan = django_filters.ChoiceFilter(label=_("Open defence plan"), choices=YES_NO, method="filter_plan")

    class Meta:
        model = Threat
        fields = ["level", "competitor", "grade", "region", "ending", "plan"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self._limit_regions(user)

    def filter_grade(self, queryset, name, value):
        return queryset.filter(customer__grade__in=[g for g in Grade.values if g.startswith(value)])

    def filter_ending(self, queryset, name, value):
        today = timezone.localdate()
        ending = {"their_contract_end__gte": today, "their_contract_end__lte": today + timedelta(days=90)}
        return queryset.filter(**ending) if value == "yes" else queryset.exclude(**ending)

    def filter_plan(self, queryset, name, value):
        open_plan = Exists(
            Plan.objects.filter(customer_id=OuterRef("customer_id"), kind=PlanKind.DEFENCE, status=PlanStatus.OPEN)
        )
        return queryset.filter(open_plan if value == "yes" else ~open_plan)


class PlanFilter(_RegionMixin, django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PlanKind.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PlanStatus.choices)
    outcome = django_filters.ChoiceFilter(label=_("Outcome"), choices=Outcome.choices)
    region = _region()

    class Meta:
        model = Plan
        fields = ["kind", "status", "outcome", "region"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self._limit_regions(user)


class WinBackFilter(_RegionMixin, django_filters.FilterSet):
    won = django_filters.ChoiceFilter(label=_("Won back"), choices=YES_NO, method="filter_won")
    competitor = django_filters.ChoiceFilter(label=_("Competitor"), choices=Competitor.choices)
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=GRADE_LETTERS, method="filter_grade")
    region = _region()

    class Meta:
        model = WinBack
        fields = ["won", "competitor", "grade", "region"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self._limit_regions(user)

    def filter_won(self, queryset, name, value):
        return queryset.filter(won_back_on__isnull=value != "yes")

    def filter_grade(self, queryset, name, value):
        return queryset.filter(customer__grade__in=[g for g in Grade.values if g.startswith(value)])


RISK_KINDS = [
    ("revenue", _("Revenue decline")),
    ("arrears", _("Arrears")),
    ("churn", _("Churn risk")),
    ("competitor", _("Competitor")),
    ("complaints", _("Complaints")),
    ("contracts", _("Contracts expiring")),
    ("chain", _("Chained warning (连锁联动)")),
]


class GroupRiskFilter(_RegionMixin, django_filters.FilterSet):
    """The group risk view's filters: a region holds a set when one of its units is in it; industry and grade
    are the head's; a risk kind keeps the sets showing it."""

    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=RiskSetKind.choices)
    risk = django_filters.ChoiceFilter(label=_("Risk"), choices=RISK_KINDS, method="filter_risk")
    region = _region()
    industry = BoundedModelChoiceFilter(
        label=_("Industry"), queryset=Industry.objects.all(), method="filter_industry", to_field_name="code",
        widget=PlainSelect,
    )  # fmt: skip
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=GRADE_LETTERS, method="filter_grade")

    class Meta:
        model = GroupRisk
        fields = ["kind", "risk", "region", "industry", "grade"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self._limit_regions(user)

    def filter_region(self, queryset, name, unit: OrgUnit):
        units = GroupRiskUnit.objects.filter(
            customer__org_unit__in=OrgUnit.objects.filter(subtree(unit.path)).values("pk")
        )
        return queryset.filter(pk__in=units.values("risk_id"))

    def filter_risk(self, queryset, name, value):
        return queryset.filter(**{f"risk_{value}": True})

    def filter_industry(self, queryset, name, industry):
        return queryset.filter(head__industry=industry)

    def filter_grade(self, queryset, name, value):
        return queryset.filter(head__grade__in=[g for g in Grade.values if g.startswith(value)])
