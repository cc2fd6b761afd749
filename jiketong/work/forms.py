"""Forms of the work pages. They parse what the user typed; the rules live in services.py."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from jiketong.core.forms import DATE_WIDGET, BootstrapMixin
from jiketong.customers.queries import customer_by_number
from jiketong.org.models import Role, can, staff_of

from . import queries
from .models import ActivityKind, TaskKind, TaskPriority

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ActivityForm(BootstrapMixin, forms.Form):
    """Quick entry from the 360 page or a phone: the kind, when, who was there, what came of it."""

    kind = forms.ChoiceField(label=_("kind"), choices=ActivityKind.choices, initial=ActivityKind.VISIT)
    happened_at = forms.DateTimeField(label=_("happened at"), widget=DATETIME_WIDGET)
    subject = forms.CharField(label=_("subject"), max_length=120, required=False)
    contacts = forms.ModelMultipleChoiceField(
        label=_("contacts present"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(label=_("outcome"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(label=_("next step"), max_length=200, required=False)
    next_step_on = forms.DateField(
        label=_("next step due"), required=False, widget=DATE_WIDGET, help_text=_("A date makes it a task.")
    )

    def __init__(self, *args, user, customer, **kwargs):
        super().__init__(*args, **kwargs)
        contacts = queries.customer_contacts(user, getattr(customer, "pk", None))
        if contacts.exists():
            self.fields["contacts"].queryset = contacts
        else:
            del self.fields["contacts"]  # an empty box would only puzzle on a phone
        self.fields["happened_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self._style()

    def _style(self) -> None:
        super()._style()
        if "contacts" in self.fields:
            self.fields["contacts"].widget.attrs["class"] = "list-unstyled mb-0"


class TaskForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    due_on = forms.DateField(label=_("due on"), widget=DATE_WIDGET)
    priority = forms.ChoiceField(label=_("priority"), choices=TaskPriority.choices, initial=TaskPriority.NORMAL)
    kind = forms.ChoiceField(label=_("kind"), choices=TaskKind.choices, initial=TaskKind.FOLLOW_UP)
    customer_number = forms.CharField(label=_("customer number"), max_length=20, required=False)
    owner = forms.ModelChoiceField(label=_("owner"), queryset=None, required=False)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if can(user, {Role.SUPERVISOR, Role.ADMIN}):
            self.fields["owner"].queryset = queries.overseen_staff(user).filter(user__is_active=True)
            self.fields["owner"].help_text = _("Leave empty to take the task yourself.")
        else:
            del self.fields["owner"]
        self._style()

    def clean_customer_number(self):
        number = self.cleaned_data["customer_number"].strip()
        if not number:
            return None
        customer = customer_by_number(self.user, number)
        if customer is None:
            raise forms.ValidationError(gettext("No customer you can see has this number."))
        return customer

    def service_kwargs(self) -> dict:
        data = self.cleaned_data  # what parsed: a rehearsal (core.forms.submit) runs on part of it
        return {
            "owner": data.get("owner") or staff_of(self.user),
            "title": data.get("title", ""),
            "due_on": data.get("due_on"),
            "priority": data.get("priority", TaskPriority.NORMAL),
            "kind": data.get("kind", TaskKind.FOLLOW_UP),
            "customer": data.get("customer_number"),
            "note": data.get("note", ""),
        }


class CancelForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class HandoverForm(BootstrapMixin, forms.Form):
    old_owner = forms.ModelChoiceField(label=_("from (leaving manager)"), queryset=None)
    new_owner = forms.ModelChoiceField(label=pgettext_lazy("handover", "to"), queryset=None)
    customer_numbers = forms.CharField(
        label=_("only these customers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Customer numbers, one per line. Leave empty to hand over the whole portfolio."),
    )
    note = forms.CharField(label=_("note"), max_length=500, required=False)
    disable_account = forms.BooleanField(label=_("disable the leaving account"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        staff = queries.overseen_staff(user).select_related("user").order_by("name")
        self.fields["old_owner"].queryset = staff
        self.fields["new_owner"].queryset = staff.filter(user__is_active=True)
        self._style()

    def clean_customer_numbers(self):
        numbers = [n.strip() for n in self.cleaned_data["customer_numbers"].split() if n.strip()]
        if not numbers:
            return None
        customers = {c.number: c.pk for c in queries.customers_by_numbers(self.user, numbers)}
        missing = [n for n in numbers if n not in customers]
        if missing:
            raise forms.ValidationError(
                gettext("No customer you can see has these numbers: %(numbers)s") % {"numbers": ", ".join(missing)}
            )
        return list(customers.values())
