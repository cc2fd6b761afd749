"""The endpoint form. It parses what the admin typed; the rules (URL scheme, known events) live in services.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.core.events import EVENTS
from jiketong.core.forms import BootstrapMixin

from .models import ALL_EVENTS, Endpoint


class EndpointForm(BootstrapMixin, forms.Form):
    name = forms.CharField(
        label=_("name"), max_length=100, help_text=_("Who receives it, e.g. BOSS, OA, data warehouse.")
    )
    url = forms.CharField(label=_("URL"), max_length=500, help_text=_("Where the events are POSTed (http or https)."))
    all_events = forms.BooleanField(label=_("all events, including ones added later"), required=False)
    events = forms.MultipleChoiceField(
        label=_("events"), required=False, choices=[(name, name) for name in EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    active = forms.BooleanField(label=_("active"), required=False, initial=True)

    def __init__(self, *args, endpoint: Endpoint | None = None, **kwargs) -> None:
        if endpoint is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": endpoint.name,
                "url": endpoint.url,
                "all_events": endpoint.all_events,
                "events": [name for name in endpoint.events if name != ALL_EVENTS],
                "active": endpoint.active,
            }
        super().__init__(*args, **kwargs)

    def event_rows(self) -> list[tuple[str, str, bool]]:
        """(name, description, checked) for the template's checkbox list."""
        chosen = set(self["events"].value() or [])
        return [(name, description, name in chosen) for name, (description, _fields) in EVENTS.items()]

    def service_data(self) -> dict:
        data = self.cleaned_data
        events = [ALL_EVENTS] if data["all_events"] else list(data["events"])
        return {"name": data["name"], "url": data["url"], "events": events, "active": data["active"]}
