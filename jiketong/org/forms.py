"""Forms of the staff administration (用户管理): they parse what the administrator typed; the rules (unique
username, password rules, roles, the mobile's format) are the services' (core.forms.submit shows both at once)."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from jiketong.core.concurrency import VersionedForm
from jiketong.core.forms import BootstrapMixin, ServiceModelForm

from .filters import UnitChoiceField
from .models import OrgUnit, Rank, Role, Staff
from .services import password_generate


class RolesStyle:
    """Role boxes are check boxes, whatever BootstrapMixin makes of a multiple choice; the lost-update check
    names roles by their labels."""

    def _style(self) -> None:
        super()._style()
        if "roles" in self.fields:
            self.fields["roles"].widget.attrs["class"] = "form-check-input"

    def _shown(self, name, value):
        if name == "roles" and isinstance(value, list | tuple | set):
            labels = dict(Role.CHOICES)
            codes = sorted(getattr(v, "code", v) for v in value)
            return "、".join(str(labels.get(code, code)) for code in codes) or super()._shown(name, None)
        return super()._shown(name, value)


def _roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=gettext_lazy("roles"), choices=Role.CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )


def _unit_field() -> UnitChoiceField:
    return UnitChoiceField(label=gettext_lazy("org unit"), queryset=OrgUnit.objects.order_by("path"), required=False)


class PasswordFields(RolesStyle, BootstrapMixin, forms.Form):
    """A password typed twice, or one generated and shown once."""

    generate = forms.BooleanField(
        label=gettext_lazy("generate a password (shown once)"),
        required=False,
        help_text=gettext_lazy("Leave the two password fields empty: the next page shows the password once."),
    )
    password1 = forms.CharField(
        label=gettext_lazy("password"), required=False, strip=False, widget=forms.PasswordInput(render_value=False)
    )
    password2 = forms.CharField(
        label=gettext_lazy("password again"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
    )
    error_fields = {"password": "password1"}  # the services' key → this form's field

    def clean(self):
        data = super().clean()
        if data.get("generate"):
            data["password"] = password_generate()
            data["generated"] = True
            return data
        first, second = data.get("password1") or "", data.get("password2") or ""
        if not first:
            self.add_error("password1", _("Type the password, or tick “generate a password”."))
        elif first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        data["password"] = first
        data["generated"] = False
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class PasswordForm(PasswordFields):
    """An administrator sets a colleague's password."""


class StaffCreateForm(PasswordFields):
    username = forms.CharField(label=gettext_lazy("username"), max_length=150, required=False)
    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=40, required=False)
    org_unit = _unit_field()
    roles = _roles_field()
    rank = forms.ChoiceField(label=gettext_lazy("rank"), choices=[("", "---------"), *Rank.choices], required=False)
    mobile = forms.CharField(label=gettext_lazy("mobile"), max_length=20, required=False)

    field_order = ["username", "name", "org_unit", "roles", "rank", "mobile", "generate", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "username": (data.get("username") or "").strip(),
            "name": data.get("name") or "",
            "org_unit": data.get("org_unit"),
            "roles": data.get("roles") or [],
            "rank": data.get("rank") or "",
            "mobile": data.get("mobile") or "",
            "password": data.get("password") or "",
        }


class StaffEditForm(VersionedForm, RolesStyle, BootstrapMixin, ServiceModelForm):
    """A colleague's name, unit, roles, rank and mobile, with the lost-update check (core.concurrency)."""

    org_unit = _unit_field()
    roles = _roles_field()

    class Meta:
        model = Staff
        fields = ["name", "org_unit", "roles", "rank", "mobile"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["roles"] = sorted(self.instance.role_codes)
        self.fields["name"].required = False  # the service says it is missing, with the other errors
        self._style()
