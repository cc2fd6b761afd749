"""Forms of the customer pages. They parse what the user typed; the rules live in services.py.

The model forms below only borrow the model's fields, labels and widgets: validation against the model
(USCC check digit, uniqueness, constraints) happens once, in the service, and its ValidationError is
mapped back onto these fields by core.forms (`submit`, `apply_errors`), so the UI and the API give the same
messages, all of them in one round.
"""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jiketong.core.concurrency import VersionedForm
from jiketong.core.forms import (  # noqa: F401 (apply_errors: re-exported for billing.views)
    DATE_WIDGET,
    BootstrapMixin,
    ServiceModelForm,
    apply_errors,
    choice_words,
    pasted_date,
    word_key,
)
from jiketong.core.trees import subtree
from jiketong.org.models import OrgUnit, Role, Staff, can

from . import queries
from .models import (
    Affiliation,
    CompetitorPresence,
    Contact,
    Customer,
    Member,
    Network,
    PaidBy,
    RelationKind,
)
from .services import ASSIGN_ROLES, CONTACT_FIELDS, CUSTOMER_FIELDS


class CustomerForm(VersionedForm, BootstrapMixin, ServiceModelForm):
    uscc = forms.CharField(label=_("unified social credit code"), required=False, max_length=40)
    parent_number = forms.CharField(
        label=_("parent group (customer number)"),
        required=False,
        max_length=20,
        help_text=_("The customer number of the group headquarters this unit belongs to; leave empty for none."),
    )
    grade_reason = forms.CharField(
        label=_("reason for the grade"),
        required=False,
        max_length=200,
        help_text=_("Required when the grade changes."),
    )

    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {
            "cooperation_since": DATE_WIDGET,
            "note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        people = Staff.objects.visible_to(user).select_related("user").filter(user__is_active=True)
        self.fields["owner"].queryset = people
        self.fields["backup_owner"].queryset = people
        self.fields["org_unit"].queryset = _org_units_for(user)
        self.fields["industry"].empty_label = None
        self.parent: Customer | None = None
        self.parent_hidden = False
        if self.instance.pk:
            self.fields["uscc"].initial = self.instance.uscc
            h = queries.customer_hierarchy(user, self.instance, child_limit=0)
            if h.parent is not None:
                self.fields["parent_number"].initial = h.parent.number
            self.parent_hidden = h.parent_hidden
            if h.parent_hidden:
                self.fields["parent_number"].help_text = _(
                    "This unit belongs to a group outside your scope; leave empty to keep it there."
                )
        if not can(user, ASSIGN_ROLES):
            # The service refuses these too; disabling them says so before the user tries.
            for name in ("owner", "backup_owner", "grade"):
                self.fields[name].disabled = True
            self.fields["grade_reason"].disabled = True
        self._style()

    def clean_parent_number(self) -> str:
        number = self.cleaned_data["parent_number"].strip()
        if number:
            self.parent = queries.customer_by_number(self.user, number)
            if self.parent is None:
                raise ValidationError(gettext("No customer with this number in your scope."))
        return number

    def service_kwargs(self) -> dict:
        """What customer_create / customer_update take: the changed fields (all on create), the parent
        only when the user changed it, and the grade reason."""
        creating = not self.instance.pk
        data = self.service_data(only_changed=not creating)
        if creating:
            data = {k: v for k, v in data.items() if v not in (None, "") or k in ("grade", "status")}
        kwargs = dict(data)
        if creating or "parent_number" in self.changed_data:
            kwargs["parent"] = self.parent
        if self.cleaned_data.get("grade_reason"):
            kwargs["grade_reason"] = self.cleaned_data["grade_reason"]
        return kwargs


def _org_units_for(user):
    """Org units a user may file a customer under: their province (HQ, admins: all)."""
    from jiketong.org.models import staff_of

    staff = staff_of(user)
    units = OrgUnit.objects.order_by("path")
    if user.is_superuser or staff is None or Role.ADMIN in staff.role_codes or staff.org_unit.is_root():
        return units
    return units.filter(subtree(staff.org_unit.path[: OrgUnit.steplen * 2]))


class ContactForm(VersionedForm, BootstrapMixin, ServiceModelForm):
    mobile = forms.CharField(label=_("mobile"), required=False, max_length=30)

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        widgets = {"birthday": DATE_WIDGET, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class ContactDateForm(BootstrapMixin, forms.Form):
    label = forms.CharField(label=_("occasion"), max_length=40, required=False)
    date = forms.DateField(label=_("date"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def clean(self):
        data = super().clean()
        if bool(data.get("label")) != bool(data.get("date")):
            raise ValidationError(gettext("Give both the occasion and its date, or neither."))
        return data


ContactDateFormSet = forms.formset_factory(ContactDateForm, extra=2, max_num=20)


def dates_from(formset) -> list[tuple[str, date]]:
    return [
        (f.cleaned_data["label"], f.cleaned_data["date"])
        for f in formset.forms
        if f.cleaned_data.get("label") and f.cleaned_data.get("date")
    ]


class RelationForm(BootstrapMixin, forms.Form):
    """A link on the key-person map: who reports to, or influences, whom (among the customer's current contacts)."""

    from_contact = forms.ModelChoiceField(label=_("person"), queryset=Contact.objects.none())
    kind = forms.ChoiceField(label=_("relation"), choices=RelationKind.choices)
    to_contact = forms.ModelChoiceField(label=_("related person"), queryset=Contact.objects.none())

    def __init__(self, *args, user, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        current = queries.contacts_of(user, customer.pk).filter(left_on__isnull=True)
        self.fields["from_contact"].queryset = current
        self.fields["to_contact"].queryset = current
        self._style()


class CounterpartForm(BootstrapMixin, forms.Form):
    """高层对高层: the colleague who keeps the relationship with this person (empty: nobody yet)."""

    counterpart = forms.ModelChoiceField(
        label=_("our counterpart"),
        queryset=Staff.objects.none(),
        required=False,
        help_text=_("A colleague who can see this customer: its manager, backup or a supervisor above it."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counterpart"].queryset = (
            Staff.objects.visible_to(user).active().select_related("org_unit").order_by("org_unit__path", "name")
        )
        self.fields["counterpart"].label_from_instance = lambda s: f"{s.name}（{s.org_unit.name}）"
        self._style()


class LeftForm(BootstrapMixin, forms.Form):
    """The day a contact left the customer (离职); empty undoes a mistaken mark."""

    left_on = forms.DateField(label=_("left the customer on"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class MemberForm(BootstrapMixin, ServiceModelForm):
    phone = forms.CharField(label=_("phone number"), max_length=30)

    class Meta:
        model = Member
        fields = ["phone", "department", "joined_on", "left_on", "paid_by", "network", "short_number"]
        widgets = {"joined_on": DATE_WIDGET, "left_on": DATE_WIDGET}

    def __init__(self, *args, adding: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if adding:
            del self.fields["left_on"]
            self.fields["joined_on"].initial = date.today
        self._style()


# What people type or paste in a list: the codes, the labels the pages and exports show in either language
# (集团统付, 个人付费(个付), 本网, 异网, "Paid by the group"…) and the short words 统付/个付.
def paid_by_words() -> dict[str, str]:
    return choice_words(PaidBy, {"统付": PaidBy.GROUP, "个付": PaidBy.SELF, "集团付费": PaidBy.GROUP})


def network_words() -> dict[str, str]:
    return choice_words(Network, {"异网": Network.OFF_NET, "他网": Network.OFF_NET, "本网": Network.ON_NET})


def _split_line(line: str) -> list[str]:
    for sep in ("，", "\t", ";", "；"):
        line = line.replace(sep, ",")
    return [part.strip() for part in line.split(",")]


class MembersBulkAddForm(BootstrapMixin, forms.Form):
    rows = forms.CharField(
        label=_("members, one per line"),
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "13800138000,市场部,2024-03-01,group,on_net"}),
        help_text=_(
            "phone,department,joined on (YYYY-MM-DD),paid by (group/self),network (on_net/off_net) — "
            "or just the phone number. The words the pages show (集团统付, 个付, 本网, 异网) and rows pasted "
            "from Excel work too."
        ),
    )
    joined_on = forms.DateField(
        label=_("join date for lines without one"), initial=date.today, widget=DATE_WIDGET, required=True
    )
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: if any line is wrong, add none"), required=False, initial=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def parsed_rows(self) -> list[dict]:
        """Each non-empty line as a row for members_bulk_add. Values are passed on as typed: the service
        validates them and reports every bad line with its reason."""
        rows = []
        paid_by_word, network_word = paid_by_words(), network_words()
        for line in self.cleaned_data["rows"].splitlines():
            if not line.strip():
                continue
            parts = _split_line(line) + [""] * 5
            phone, department, joined, paid_by, network = parts[:5]
            rows.append(
                {
                    "phone": phone,
                    "department": department,
                    "joined_on": pasted_date(joined) if joined else self.cleaned_data["joined_on"],
                    "paid_by": paid_by_word.get(word_key(paid_by), paid_by) if paid_by else "",
                    "network": network_word.get(word_key(network), network) if network else "",
                }
            )
        return rows


class MembersBulkRemoveForm(BootstrapMixin, forms.Form):
    phones = forms.CharField(
        label=_("phone numbers, one per line"), widget=forms.Textarea(attrs={"rows": 6, "placeholder": "13800138000"})
    )
    left_on = forms.DateField(label=_("leave date"), initial=date.today, widget=DATE_WIDGET)
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: if any line is wrong, remove none"), required=False, initial=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def phone_list(self) -> list[str]:
        return [p for line in self.cleaned_data["phones"].splitlines() for p in [_split_line(line)[0]] if p]


class CompetitorForm(BootstrapMixin, ServiceModelForm):
    class Meta:
        model = CompetitorPresence
        fields = ["competitor", "products", "contract_end", "threat", "note"]
        widgets = {"contract_end": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class AffiliationForm(BootstrapMixin, ServiceModelForm):
    related_number = forms.CharField(label=_("related customer (customer number)"), max_length=20)

    class Meta:
        model = Affiliation
        fields = ["kind", "direction", "note"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.related: Customer | None = None
        self.fields = {"related_number": self.fields.pop("related_number"), **self.fields}
        self._style()

    def clean_related_number(self) -> str:
        number = self.cleaned_data["related_number"].strip()
        self.related = queries.customer_by_number(self.user, number)
        if self.related is None:
            raise ValidationError(gettext("No customer with this number in your scope."))
        return number
