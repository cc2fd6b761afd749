"""Forms of the defence pages: they parse input; the rules are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.core.forms import DATE_WIDGET, BootstrapMixin, ServiceModelForm
from jiketong.core.trees import subtree
from jiketong.org.models import OrgUnit, Staff

from .models import Attack, Countermeasure, Outcome, Plan

CITY_DEPTH = 3  # owners are chosen among the staff of the customer's city (or province, above it)


def owner_choices(customer) -> "forms.QuerySet[Staff]":
    """Active staff of the customer's city: a bounded list whatever the size of the province."""
    path = customer.org_unit.path[: CITY_DEPTH * OrgUnit.steplen]
    return Staff.objects.filter(subtree(path, "org_unit__path"), user__is_active=True).order_by("name")


class AttackForm(BootstrapMixin, ServiceModelForm):
    class Meta:
        model = Attack
        fields = ["competitor", "kind", "description", "threat", "members_targeted", "observed_on"]
        widgets = {"observed_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class PlanForm(BootstrapMixin, ServiceModelForm):
    class Meta:
        model = Plan
        fields = ["competitor", "owner", "due_on", "goal"]
        widgets = {"due_on": DATE_WIDGET, "goal": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(customer)
        self.fields["owner"].required = False
        self.fields["competitor"].required = True
        self._style()


class CountermeasureForm(BootstrapMixin, ServiceModelForm):
    class Meta:
        model = Countermeasure
        fields = ["kind", "description", "owner", "due_on"]
        widgets = {"due_on": DATE_WIDGET}

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(customer)
        self.fields["owner"].required = False
        self._style()


class CloseForm(BootstrapMixin, ServiceModelForm):
    class Meta:
        model = Plan
        fields = ["outcome", "lost_to", "lost_product", "revenue_kept", "revenue_lost", "outcome_note"]
        widgets = {"outcome_note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].required = True
        self.fields["outcome"].choices = Outcome.choices
        for name in ("revenue_kept", "revenue_lost"):
            self.fields[name].required = False
            self.fields[name].help_text = _("Empty: the revenue at stake for a kept (or lost) plan.")
        self._style()

    def service_data(self, **kwargs) -> dict:
        data = super().service_data(**kwargs)
        data["note"] = data.pop("outcome_note", "")
        return data
