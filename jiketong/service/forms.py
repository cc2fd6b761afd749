"""Forms of the service pages. They parse input; the rules live in services.py (errors come back through
`apply_errors`)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.core.concurrency import VersionedForm
from jiketong.core.forms import DATE_WIDGET, BootstrapMixin

from . import queries
from .models import Channel, Dimension, Priority, TicketType

SCORES = [(n, str(n)) for n in range(1, 6)]


class TicketForm(VersionedForm, BootstrapMixin, forms.Form):
    type = forms.ChoiceField(label=_("type"), choices=TicketType.choices)
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices, initial=Channel.MANAGER)
    priority = forms.ChoiceField(label=_("priority"), choices=Priority.choices, initial=Priority.NORMAL)
    contact = forms.ModelChoiceField(label=_("contact"), queryset=None, required=False)
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(
        label=pgettext_lazy("ticket", "description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        if self.record is not None:  # editing: the type (and with it the SLA) and the channel stay as received
            del self.fields["type"], self.fields["channel"]


class NoteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("note"), required=False, max_length=500)


class ReasonForm(BootstrapMixin, forms.Form):
    # Not required here: the service says "give a reason", so the UI and the API answer alike.
    reason = forms.CharField(label=_("reason"), required=False, max_length=500)


class ResolveForm(BootstrapMixin, forms.Form):
    resolution = forms.CharField(label=_("resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TransferForm(BootstrapMixin, forms.Form):
    to = forms.ModelChoiceField(label=_("transfer to"), queryset=None)
    reason = forms.CharField(label=_("reason"), required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = queries.staff_choices(user)


class RateForm(BootstrapMixin, forms.Form):
    rating = forms.TypedChoiceField(label=_("rating"), choices=SCORES, coerce=int)
    comment = forms.CharField(label=pgettext_lazy("rating", "comment"), required=False, max_length=500)


class SurveyForm(BootstrapMixin, forms.Form):
    period = forms.CharField(label=_("period"), max_length=7, help_text=_("A quarter such as 2026-Q4."))
    surveyed_on = forms.DateField(label=_("survey date"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("note"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in Dimension.choices:
            self.fields[f"{value}_importance"] = forms.TypedChoiceField(
                label=_("%(dimension)s: importance") % {"dimension": label}, choices=SCORES, coerce=int
            )
            self.fields[f"{value}_satisfaction"] = forms.TypedChoiceField(
                label=_("%(dimension)s: satisfaction") % {"dimension": label}, choices=SCORES, coerce=int
            )

    def answers(self) -> dict[str, tuple[int, int]]:
        data = self.cleaned_data
        return {value: (data[f"{value}_importance"], data[f"{value}_satisfaction"]) for value in Dimension.values}


class CalendarDayForm(BootstrapMixin, forms.Form):
    """A holiday or a 调休 make-up working day, as the system administrator adds it on the calendar page."""

    HOLIDAY, WORKDAY = "holiday", "workday"

    date = forms.DateField(label=_("date"), required=False, widget=DATE_WIDGET)
    kind = forms.ChoiceField(
        label=_("kind of day"),
        required=False,
        choices=[("", "---------"), (HOLIDAY, _("Holiday (day off)")), (WORKDAY, _("Make-up working day (调休)"))],
    )
    name = forms.CharField(label=_("name"), required=False, max_length=40)
    error_fields = {"is_workday": "kind"}  # the service's key → this form's field

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = _("e.g. 国庆节")
        self._style()

    def service_data(self) -> dict:
        kind = self.cleaned_data.get("kind")
        return {
            "date": self.cleaned_data.get("date"),
            "is_workday": {self.HOLIDAY: False, self.WORKDAY: True}.get(kind),
            "name": self.cleaned_data.get("name") or "",
        }


class SlaPolicyForm(BootstrapMixin, forms.Form):
    """The working minutes of one SLA policy (its ticket type and grade are what it is: not changed here)."""

    response_minutes = forms.IntegerField(label=_("minutes to first response"), required=False)
    resolution_minutes = forms.IntegerField(label=_("minutes to resolution"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
