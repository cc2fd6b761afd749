from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.customers.forms import BootstrapMixin

from .models import ImportKind, ImportMode


class ImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("file"), help_text=_("CSV (UTF-8 or GBK) or Excel .xlsx; first row is the header."))
    kind = forms.ChoiceField(label=_("kind"), choices=ImportKind.choices, initial=ImportKind.FACTS)
    mode = forms.ChoiceField(
        label=_("mode"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        help_text=_("All or nothing loads the file only if every row is good; the other mode skips bad rows."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
