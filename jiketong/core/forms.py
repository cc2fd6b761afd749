"""What every app's forms share: Bootstrap styling, model forms that leave the rules to the services,
`submit`, which shows every error of one submission in one round, and `form_page`, the form page around it.

Forms parse what the user typed; the rules live in the services, whose ValidationError is keyed by field.
Checked one after the other ("the form first, then the service"), a user who leaves the source empty and
mistypes the USCC and the mobile sees only the source, and the other two after the next submit. `submit` runs
both on every submission: when the form refuses some fields, the service still rehearses with what did parse,
inside a savepoint that is always rolled back, and its errors join the form's, each at its field.
"""

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Choices
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The one template of the simple form pages: a breadcrumb (`crumbs`: (label, url) pairs, then `title`), the
# form's fields two to a row, Save and Cancel (`cancel`: where Cancel goes back to).
FORM_TEMPLATE = "includes/form_page.html"

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BootstrapMixin:
    """Bootstrap classes on every widget, and is-invalid on fields with errors."""

    def _style(self) -> None:
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            # _errors, not errors: reading `errors` here would validate the form before __init__ is done.
            if self._errors and name in self._errors:
                css += " is-invalid"
            widget.attrs["class"] = css

    def full_clean(self):
        super().full_clean()
        self._style()


class ServiceModelForm(forms.ModelForm):
    """A ModelForm that parses input but leaves model validation to the service (see module docstring)."""

    def _post_clean(self) -> None:
        pass

    def service_data(self, *, only_changed: bool = False) -> dict:
        names = self.changed_data if only_changed else list(self.cleaned_data)
        return {
            name: self.cleaned_data[name] for name in names if name in self._meta.fields and name in self.cleaned_data
        }


def _label(form: forms.BaseForm, name: str) -> str:
    """What the user calls a field the form does not show: the model's verbose name, else the code."""
    model = getattr(getattr(form, "_meta", None), "model", None) or getattr(form, "model", None)
    if model is not None:
        try:
            return capfirst(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            pass
    return name


def apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form, each message at its field.

    A key the service uses for a field the form names differently is translated by the form's
    `error_fields` ({"service key": "form field"}). A field the form has already refused keeps the form's
    message (the service would only repeat it in other words). A key the form does not show becomes a
    non-field error prefixed by the field's name in the user's language, never by its code."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            if message not in form.non_field_errors():
                form.add_error(None, message)
        return
    renamed = getattr(form, "error_fields", {})
    for key, messages in exc.message_dict.items():
        name = renamed.get(key, key)
        if name in form.fields:
            if name in form.errors:
                continue
            for message in messages:
                form.add_error(name, message)
            continue
        for message in messages:
            text = (
                message
                if name == "__all__"
                else _("%(field)s: %(message)s") % {"field": _label(form, key), "message": message}
            )
            if text not in form.non_field_errors():
                form.add_error(None, text)


class _Rehearsal(Exception):
    """Rolls back a service call made only to collect its errors."""


def submit(form: forms.BaseForm, action: Callable[[], T], *, also: Iterable = ()) -> tuple[bool, T | None]:
    """Validate `form` (and the forms or formsets in `also`) and run `action`, the service call that reads
    `form.cleaned_data`, in one round: (True, what the action returned), or (False, None) with every error
    on the form.

    When the form refuses a field, the action still runs inside a savepoint that is rolled back whatever
    happens, with what did parse; its ValidationError joins the form's errors (apply_errors). A rehearsal
    that cannot run on partial data (the service needs a value the form refused) adds nothing and the form's
    own errors stand. Refusals of the whole request (PermissionDenied, Http404) pass through either way."""
    valid = form.is_valid()
    valid = all([valid, *(other.is_valid() for other in also)])
    try:
        with transaction.atomic():
            result = action()
            if not valid:
                raise _Rehearsal
    except _Rehearsal:
        return False, None
    except ValidationError as exc:
        apply_errors(form, exc)
        return False, None
    except (PermissionDenied, Http404):
        raise
    except Exception:
        if valid:
            raise
        logger.debug("rehearsal of %s could not run on partial input", type(form).__name__, exc_info=True)
        return False, None
    return True, result


def form_page(
    request: HttpRequest,
    form: forms.BaseForm,
    save: Callable[[], T],
    *,
    done: Callable[[T], HttpResponse | str] | str,
    message: Callable[[T], str] | str | None = None,
    template: str = FORM_TEMPLATE,
    context: dict | Callable[[], dict] | None = None,
    also: Iterable = (),
) -> HttpResponse:
    """A form page's one shape: on POST, `submit` the form through `save` (the service call); when it passes,
    the success `message` (text, or made from what `save` returned) and the answer `done` gives (a response, or
    where to redirect: a URL or a URL name); on GET, or with errors, the template with the form and `context`
    (a dict, or a function called only then: what it reads is read after the submission, and not at all when
    the page redirects).

    The form is bound by the caller (`Form(request.POST or None, ...)`), which knows its arguments."""
    if request.method == "POST":
        ok, result = submit(form, save, also=also)
        if ok:
            if message is not None:
                flash.success(request, message(result) if callable(message) else message)
            answer = done(result) if callable(done) else done
            return answer if isinstance(answer, HttpResponse) else redirect(answer)
    extra = context() if callable(context) else context or {}
    return render(request, template, {"form": form, **extra})


# --- words pasted from a spreadsheet ---------------------------------------------------------------
def word_key(text: str) -> str:
    """A word as compared: full-width folded (NFKC), lower case, without spaces and brackets."""
    return re.sub(r"[\s()（）\[\]【】]", "", unicodedata.normalize("NFKC", str(text or "")).lower())


def choice_words(choices: type[Choices], aliases: dict[str, str] | None = None) -> dict[str, str]:
    """Every word a user may type or paste for a choice → its code: the codes, the labels in each UI
    language (what the forms and the Excel exports show, e.g. 集团统付) and the given short `aliases`
    (统付), compared by word_key."""
    words = {word_key(word): str(code) for word, code in (aliases or {}).items()}
    for code, label in choices.choices:
        words[word_key(code)] = str(code)
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                words.setdefault(word_key(str(label)), str(code))
    return words


PASTED_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def pasted_date(text: str) -> dt.date | str:
    """2024-03-01, 2024/3/1, 2024.3.1 and 2024年3月1日 (how Excel shows a date) as a date; anything else as
    typed, for the service to refuse with its own message."""
    match = PASTED_DATE.match(unicodedata.normalize("NFKC", text or ""))
    if not match:
        return text
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return text
