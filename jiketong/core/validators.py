"""Validators and normalisers for the codes Chinese users type: 统一社会信用代码 and mobile numbers.

Each normaliser accepts what people paste (full-width characters, spaces, dashes, +86) and returns
the canonical form, or raises ValidationError with a message in the user's language.
"""

import datetime as dt
import re
import unicodedata
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def to_halfwidth(value: str) -> str:
    """Full-width letters, digits and punctuation (ＡＢ１２＋) become their ASCII forms."""
    return unicodedata.normalize("NFKC", value)


# --- text at the boundary -----------------------------------------------------------------------
# Characters nobody types on purpose. C0/C1 controls (NUL among them) break the Excel exports (openpyxl
# refuses them) and PostgreSQL refuses NUL; a lone UTF-16 surrogate (JSON "\ud800") cannot even be encoded.
# Tab and line breaks are ordinary in free text, not in names and codes.
LINE_CONTROLS = frozenset("\t\n\r")
# Marks that reorder how text is displayed ("报价<U+202E>fdp.exe" shows as "报价exe.pdf"). Refused in names
# and codes, where they can only disguise what a record is called.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Model text fields that name or identify a record get the stricter rule (see install_text_validators).
NAME_FIELD_ENDINGS = ("name", "code", "number", "uscc")


def text_error(value: str, *, name: bool = False) -> ValidationError | None:
    """Why `value` cannot be kept as text (a field-level ValidationError), or None when it can.

    `name=True` is the rule for names and codes: no control characters at all (tabs and line breaks
    included) and no bidirectional-text controls."""
    if value.isprintable():  # the fast path: every character is a letter, digit, mark, symbol or ASCII space
        return None
    for position, ch in enumerate(value, start=1):
        point = ord(ch)
        params = {"code": f"U+{point:04X}", "position": position}
        if 0xD800 <= point <= 0xDFFF:
            return ValidationError(
                _("The text holds an invalid character (%(code)s, a lone surrogate) at position %(position)d."),
                code="text_surrogate",
                params=params,
            )
        if name and ch in LINE_CONTROLS:
            return ValidationError(
                _("A name or code fits on one line: remove the tab or line break at position %(position)d."),
                code="text_line_break",
                params=params,
            )
        if (point < 0x20 or 0x7F <= point <= 0x9F) and ch not in LINE_CONTROLS:
            return ValidationError(
                _("Remove the control character %(code)s at position %(position)d."),
                code="text_control",
                params=params,
            )
        if name and ch in BIDI_CONTROLS:
            return ValidationError(
                _(
                    "Remove the text-direction character %(code)s at position %(position)d: "
                    "it can disguise what a name or code says."
                ),
                code="text_bidi",
                params=params,
            )
    return None


def validate_text(value: Any) -> None:
    """Free text: no control characters but tab and line breaks, no lone surrogates."""
    if isinstance(value, str) and (error := text_error(value)) is not None:
        raise error


def validate_name_text(value: Any) -> None:
    """Names and codes: no control characters at all and no bidirectional-text controls."""
    if isinstance(value, str) and (error := text_error(value, name=True)) is not None:
        raise error


def is_name_field(field_name: str) -> bool:
    return field_name.rsplit("_", 1)[-1] in NAME_FIELD_ENDINGS


def install_text_validators(models) -> None:
    """Give every text field of these models the text rule (names and codes the stricter one).

    Model validation is the one path every write takes (services call full_clean; the forms map its errors
    back onto their fields; imports go through the same services), so this covers the UI, the API and
    imports at once. The validators join the field's validator list at start-up rather than its
    definition, so migrations do not change; called from CoreConfig.ready()."""
    from django.db import models as db_models

    seen: set[int] = set()
    for model in models:
        for field in model._meta.concrete_fields:
            if id(field) in seen or not isinstance(field, db_models.CharField | db_models.TextField):
                continue
            seen.add(id(field))
            rule = validate_name_text if is_name_field(field.name) else validate_text
            if rule not in field.validators:
                field.validators.append(rule)


# --- 统一社会信用代码, GB 32100-2015 ---------------------------------------------------------------
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# 登记管理部门代码 (position 1): 1 机构编制 … 9 工商, A 军队, N 农业, Y 其他, and the letters the
# registration authorities added since (B–H). python-stdnum's cn.uscc rejects the letters; the standard does not.
USCC_AUTHORITIES = set("123456789ABCDEFGHNY")


def uscc_check_digit(first17: str) -> str:
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """Return the canonical 18-character code or raise ValidationError saying what is wrong."""
    code = to_halfwidth(value or "").strip().upper().replace(" ", "").replace("-", "")
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d."),
            code="uscc_length",
            params={"n": len(code)},
        )
    bad = sorted({ch for ch in code if ch not in USCC_CHARSET})
    if bad:
        raise ValidationError(
            _("The code contains characters not allowed in a unified social credit code: %(chars)s."),
            code="uscc_charset",
            params={"chars": " ".join(bad)},
        )
    if code[0] not in USCC_AUTHORITIES:
        raise ValidationError(
            _("The first character (registration authority) %(ch)s is not a valid authority code."),
            code="uscc_authority",
            params={"ch": code[0]},
        )
    if not code[1].isdigit() or code[1] == "0":
        raise ValidationError(
            _("The second character (organisation type) must be a digit from 1 to 9."), code="uscc_type"
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("Characters 3 to 8 must be the 6-digit administrative division code."), code="uscc_region"
        )
    expected = uscc_check_digit(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("The check digit is wrong: the last character should be %(expected)s, not %(got)s."),
            code="uscc_checksum",
            params={"expected": expected, "got": code[17]},
        )
    return code


def validate_uscc(value: str) -> None:
    normalize_uscc(value)


# --- mobile numbers -----------------------------------------------------------------------------
MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_mobile(value: str) -> str:
    """Return the 11-digit mainland mobile number, accepting +86, 0086, full-width digits, spaces and dashes."""
    raw = to_halfwidth(value or "").strip()
    digits = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if not digits:
        raise ValidationError(_("Enter a mobile number."), code="mobile_empty")
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("%(value)s is not a valid mainland China mobile number (11 digits, starting with 1)."),
            code="mobile_invalid",
            params={"value": value},
        ) from exc
    national = str(number.national_number)
    if (
        number.country_code != 86
        or len(national) != 11
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in MOBILE_TYPES
    ):
        raise ValidationError(
            _("%(value)s is not a valid mainland China mobile number (11 digits, starting with 1)."),
            code="mobile_invalid",
            params={"value": value},
        )
    return national


def validate_mobile(value: str) -> None:
    normalize_mobile(value)


# --- masking ------------------------------------------------------------------------------------
def mask_mobile(value: str) -> str:
    """138****1234: enough to recognise a number, not enough to call it."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_email(value: str) -> str:
    if not value or "@" not in value:
        return value or ""
    local, domain = value.split("@", 1)
    return f"{local[:1]}***@{domain}"


MOBILE_IN_TEXT = re.compile(r"(?<!\d)1\d{10}(?!\d)")
DATE_IN_TEXT = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
MASKED_DATE = "****-**-**"


def mask_text(value: str) -> str:
    """Free text (a note, a need, a record's name) with every mobile number in it masked."""
    if not value or not isinstance(value, str):
        return value
    return MOBILE_IN_TEXT.sub(lambda m: mask_mobile(m.group()), value)


def mask_personal(value: Any) -> Any:
    """The one masking rule for a value of a personal field (mobile, member number, e-mail, ID number,
    birthday or another date of a person's life), wherever it is shown or kept outside its own record:
    numbers as 138****1234, e-mails as z***@example.cn, dates as ****-**-**; lists item by item. Masking a
    masked value changes nothing, so rows masked at write time and older rows masked on reading look alike."""
    if value is None or value == "":
        return value
    if isinstance(value, list | tuple):
        return [mask_personal(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_personal(item) for key, item in value.items()}
    if isinstance(value, dt.date):
        return MASKED_DATE
    text = str(value).strip()
    if "***" in text or not text.strip("*"):
        return text  # already masked
    if "@" in text:
        return mask_email(text)
    if DATE_IN_TEXT.fullmatch(text):
        return MASKED_DATE
    compact = re.sub(r"[\s\-+]", "", text)
    if compact.isdigit() or (compact[:-1].isdigit() and compact[-1:] in "Xx"):
        return mask_mobile(compact)
    masked = DATE_IN_TEXT.sub(MASKED_DATE, mask_text(text))
    return masked if masked != text else f"{text[:1]}***"


# --- dates that record facts and dates that plan -----------------------------------------------------
def _today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()


def _changed(name: str, value: Any, before: dict | None) -> bool:
    return before is None or str(before.get(name) or "") != str(value or "")


def fact_date_errors(values: dict[str, Any], before: dict | None = None) -> dict[str, list[str]]:
    """Dates that record what happened (cooperation began, a contract was signed, a member joined) cannot
    lie after today. Only values that are new are checked (`before`: the record's snapshot, None when it is
    new), so a row written before the rule can still be edited for something else."""
    today = _today()
    return {
        name: [_("This day has not come yet (today is %(today)s): give the day it happened.") % {"today": today}]
        for name, value in values.items()
        if isinstance(value, dt.date) and value > today and _changed(name, value, before)
    }


def plan_date_errors(values: dict[str, Any], before: dict | None = None) -> dict[str, list[str]]:
    """Dates that plan (a task's due date when it is given) cannot lie before today."""
    today = _today()
    return {
        name: [_("This day has passed (today is %(today)s): plan from today on.") % {"today": today}]
        for name, value in values.items()
        if isinstance(value, dt.date) and value < today and _changed(name, value, before)
    }


def merge_errors(*parts: dict[str, list[str]] | ValidationError | None) -> dict[str, list[str]]:
    """Field → messages from several checks, so a service reports them in one ValidationError."""
    errors: dict[str, list[str]] = {}
    for part in parts:
        if part is None:
            continue
        if isinstance(part, ValidationError):
            part = part.message_dict if hasattr(part, "error_dict") else {"__all__": part.messages}
        for name, messages in part.items():
            errors.setdefault(name, []).extend(m for m in messages if m not in errors.get(name, []))
    return errors


def full_clean_with(instance, errors: dict[str, list[str]] | None = None, *, exclude=None, **kwargs) -> None:
    """`instance.full_clean()` together with the caller's own rule errors, raised as one ValidationError
    (a field already refused by the caller is not validated again)."""
    errors = dict(errors or {})
    try:
        instance.full_clean(exclude=[*(exclude or []), *errors], **kwargs)
    except ValidationError as exc:
        errors = merge_errors(errors, exc)
    if errors:
        raise ValidationError(errors)
