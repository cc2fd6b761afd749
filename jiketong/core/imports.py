"""What every import of rows shares besides the reader (core.spreadsheets): the run an upload becomes, with its
progress and heartbeat; model rules checked for many rows without a query per row; key tables for set-based
look-ups; the error report. The lead import (sales) and the archive import (customers) are built on these.

Why not `full_clean()` per row: it checks each foreign key and each constraint with a query of its own, three
or four queries a row, where an import already holds every region, industry and person it refers to. Here a
row's plain fields go through each field's own `clean()` (the very checks and messages of `full_clean`), behind
a fast path that recognises values which are certainly valid; references are resolved from the dictionaries
the import loaded once; duplicates are found with one join against a temporary table of the file's keys.
"""

import csv
import functools
import operator
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
from django.conf import settings
from django.core import validators as django_validators
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from .validators import (
    USCC_AUTHORITIES,
    USCC_CHARSET,
    USCC_WEIGHTS,
    normalize_mobile,
    normalize_uscc,
    validate_name_text,
    validate_text,
    validate_uscc,
)


# --- the run -------------------------------------------------------------------------------------
class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    PARTIALLY = "partially", _("Partially loaded")


class RunMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("All or nothing")
    GOOD_ROWS = "good", _("Load the good rows")


def heartbeat_timeout() -> timedelta:
    """How long a running import may give no sign of life before it counts as dead (its worker was killed)."""
    return timedelta(seconds=getattr(settings, "IMPORT_HEARTBEAT_TIMEOUT_SECONDS", 300))


class ImportRunBase(models.Model):
    """One uploaded file and what became of it. The rows land in one transaction with the run's final state,
    so a run still marked running has landed nothing; while it runs the worker touches `heartbeat_at`, and
    the frequent job fails a run whose heartbeat is older than IMPORT_HEARTBEAT_TIMEOUT_SECONDS."""

    mode = models.CharField(_("mode"), max_length=4, choices=RunMode.choices, default=RunMode.ALL_OR_NOTHING)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    file_name = models.CharField(_("file name"), max_length=255)
    file_path = models.CharField(_("stored file"), max_length=500)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_ok = models.PositiveIntegerField(_("good rows"), default=0)
    rows_bad = models.PositiveIntegerField(_("bad rows"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error_path = models.CharField(_("error report"), max_length=500, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_done(self) -> bool:
        return self.status not in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def is_stalled(self) -> bool:
        """Queued with no worker taking it, or running with no sign of life, for longer than the timeout."""
        last = {RunStatus.QUEUED: self.created_at, RunStatus.RUNNING: self.heartbeat_at or self.started_at}.get(
            self.status
        )
        return last is not None and last < timezone.now() - heartbeat_timeout()

    def update(self, **fields) -> None:
        """Write these fields now (outside any model save: progress is written while the import runs)."""
        for name, value in fields.items():
            setattr(self, name, value)
        type(self).objects.filter(pk=self.pk).update(**fields)

    def start(self) -> bool:
        """Queued → running; False when another delivery of the task already took it."""
        now = timezone.now()
        taken = (
            type(self)
            .objects.filter(pk=self.pk, status=RunStatus.QUEUED)
            .update(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)
        )
        if taken:
            self.status, self.started_at, self.heartbeat_at = RunStatus.RUNNING, now, now
        return bool(taken)


class Progress:
    """Progress of a run: `tick(fraction, rows=…)` writes the percentage and the heartbeat at most every
    `every` seconds (IMPORT_PROGRESS_SECONDS, 1 s unless set), outside the import's writing transaction only:
    inside it a write would be seen by nobody before the commit (and on SQLite the writer holds the only write
    lock), so ticks there are kept on the run in memory and the frequent job waits on `hold`'s lock instead;
    `on_tick` tells a terminal as well. The first tick always writes, later ones when the interval has passed:
    a test that counts queries sets IMPORT_PROGRESS_SECONDS high so the count cannot depend on the clock."""

    def __init__(
        self, run: ImportRunBase | None, *, every: float | None = None, on_tick: Callable | None = None
    ) -> None:
        if every is None:
            every = float(getattr(settings, "IMPORT_PROGRESS_SECONDS", 1.0))
        self.run, self.every, self.on_tick = run, every, on_tick
        self.last = 0.0

    def tick(self, fraction: float, *, force: bool = False, **fields) -> None:
        now = timezone.now()
        if not force and (now.timestamp() - self.last) < self.every:
            return
        self.last = now.timestamp()
        if self.run is not None and self.run.pk:
            percent = max(0, min(int(fraction * 100), 99))
            if connection.in_atomic_block:
                for name, value in {"progress": percent, **fields}.items():
                    setattr(self.run, name, value)
            else:
                self.run.update(progress=percent, heartbeat_at=now, **fields)
        if self.on_tick:
            self.on_tick(fraction, fields)

    def hold(self) -> None:
        """Called first in the writing transaction: lock the run's row, so the frequent job, which fails runs
        without a recent heartbeat, waits for this transaction instead of failing a run that is writing (on
        SQLite the transaction's write lock already does that)."""
        if self.run is not None and self.run.pk and connection.vendor == "postgresql":
            now = timezone.now()
            type(self.run).objects.filter(pk=self.run.pk).update(heartbeat_at=now)  # the UPDATE holds the row lock


def close_stalled(model: type[ImportRunBase], now: datetime) -> int:
    """Fail the running imports whose worker died (no heartbeat within the timeout). Nothing of theirs
    landed: the rows and the final state commit together."""
    return model.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=now - heartbeat_timeout()).update(
        status=RunStatus.FAILED,
        finished_at=now,
        progress=100,
        message=_("The import stopped without finishing (its worker ended); nothing was loaded. Upload it again."),
    )


def runs_visible_to(queryset, user):
    """Runs are their uploader's (and an administrator's): they name the file and carry its rows."""
    from . import access

    if user.is_superuser or access.can(user, {access.ADMIN}):
        return queryset
    return queryset.filter(created_by=user)


def store_upload(upload, folder: str) -> Path:
    """Keep an uploaded file under MEDIA_ROOT/imports/<folder>/ for the task worker; answers its path."""
    suffix = Path(getattr(upload, "name", "") or "").suffix.lower()
    stored = Path(settings.MEDIA_ROOT) / "imports" / folder / f"{timezone.now():%Y%m}" / f"{uuid.uuid4().hex}{suffix}"
    stored.parent.mkdir(parents=True, exist_ok=True)
    upload.seek(0)
    with open(stored, "wb") as out:
        if hasattr(upload, "chunks"):
            for chunk in upload.chunks():
                out.write(chunk)
        else:
            while chunk := upload.read(1 << 20):
                out.write(chunk)
    upload.seek(0)
    return stored


def write_error_report(path: Path, header: list[str], rows: Iterable[list[Any]]) -> Path:
    """A CSV of the bad rows (UTF-8 with a BOM so Excel opens the Chinese as Chinese)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def error_report_header(*columns: str) -> list[str]:
    return [pgettext("error report", "Row"), *columns]


# --- model rules without queries -------------------------------------------------------------------
_TEXT_RULES = (validate_text, validate_name_text)


def _fast_check(field: models.Field, prevalidated: bool) -> Callable[[Any], bool] | None:
    """A cheap test that is True only for values `field.clean` certainly accepts (None: always clean)."""
    check = _value_check(field, prevalidated)
    if field.blank and isinstance(field, models.CharField | models.TextField):
        # An empty text where blank is allowed passes every rule: validate() lets it through and the validators
        # are not run on empty values (Field.run_validators), whatever they are (an e-mail address's too).
        return (lambda value: value == "" or check(value)) if check else (lambda value: value == "")
    return check


def _value_check(field: models.Field, prevalidated: bool) -> Callable[[Any], bool] | None:
    known, low, high = True, None, None
    for validator in field.validators:
        if any(validator is rule for rule in _TEXT_RULES) or isinstance(
            validator, django_validators.MaxLengthValidator
        ):
            continue
        if validator is validate_uscc and prevalidated:
            continue
        if isinstance(validator, django_validators.MinValueValidator):
            low = validator.limit_value if low is None else max(low, validator.limit_value)
        elif isinstance(validator, django_validators.MaxValueValidator):
            high = validator.limit_value if high is None else min(high, validator.limit_value)
        else:
            known = False
    if not known:
        return None
    null, blank = field.null, field.blank
    choices = {value for value, _label in field.flatchoices} if field.choices else None
    if isinstance(field, models.CharField | models.TextField):
        limit = field.max_length or 10**9

        def text(value) -> bool:
            if type(value) is not str:
                return value is None and null
            if not value:
                return blank
            return len(value) <= limit and value.isprintable() and (choices is None or value in choices)

        return text
    if isinstance(field, models.BooleanField):
        return lambda value: type(value) is bool
    if isinstance(field, models.IntegerField) and choices is None:
        lo, hi = (-(2**63) if low is None else low), (2**63 - 1 if high is None else high)
        return lambda value: (value is None and null) or (type(value) is int and lo <= value <= hi)
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField) and low is high is None:
        return lambda value: (value is None and null) or type(value) is date
    return None


class FieldRules:
    """The model's own field rules for many rows: `errors({field: value})` answers {field: [messages]} as
    `full_clean` would for those fields, with no query (foreign keys are the caller's: resolve them from
    what the import loaded). `prevalidated` names fields whose own validators the caller just ran (a USCC
    normalised by normalize_uscc), so they are not run twice."""

    def __init__(self, model: type[models.Model], names: Iterable[str], *, prevalidated: Iterable[str] = ()) -> None:
        pre = set(prevalidated)
        self.fields = {name: model._meta.get_field(name) for name in names}
        for name, item in self.fields.items():
            if item.is_relation:
                raise ValueError(f"{model.__name__}.{name} is a reference: resolve it, do not clean it")
        self.fast = {name: _fast_check(item, name in pre) for name, item in self.fields.items()}
        self.skip = {name: [v for v in item.validators if v is validate_uscc] if name in pre else []
                     for name, item in self.fields.items()}  # fmt: skip

    def errors(self, values: dict[str, Any], into: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
        errors = {} if into is None else into
        fast = self.fast
        for name, value in values.items():
            check = fast.get(name)
            if check is not None and check(value):
                continue
            if name in errors or name not in self.fields:
                continue
            messages = self._slow(name, value)
            if messages:
                errors[name] = messages
        return errors

    def _slow(self, name: str, value: Any) -> list[str]:
        """Field.clean, less the validators the caller already ran."""
        field, skip = self.fields[name], self.skip[name]
        try:
            value = field.to_python(value)
            field.validate(value, None)
        except ValidationError as exc:
            return exc.messages
        if value in field.empty_values:
            return []
        messages: list[str] = []
        for validator in field.validators:
            if any(validator is item for item in skip):
                continue
            try:
                validator(value)
            except ValidationError as exc:
                if getattr(exc, "code", None) in field.error_messages:
                    exc.message = field.error_messages[exc.code]
                messages.extend(ValidationError(exc.error_list).messages)
        return messages


# --- codes fast ----------------------------------------------------------------------------------
_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
_CN_MOBILE = re.compile(_CN.mobile.national_number_pattern)
_CN_PREFIX = re.compile(_CN.national_prefix_for_parsing or "$^")
# Any other kind of number, as one pattern: fullmatch of an alternation is a fullmatch of one of its parts.
_OTHER_KINDS = ("fixed_line", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip", "pager", "uan",
                "voicemail")  # fmt: skip
_CN_OTHER = re.compile(
    "|".join(
        f"(?:{desc.national_number_pattern})"
        for desc in (getattr(_CN, kind, None) for kind in _OTHER_KINDS)
        if desc is not None and desc.national_number_pattern
    )
    or "$^"
)


def fast_mobile(value: str) -> str:
    """normalize_mobile, with a fast path: 11 plain digits that libphonenumber's own CN metadata says are a
    mobile number and nothing else (and that carry no carrier prefix it would strip) are returned as they
    are, exactly what normalize_mobile answers for them; anything else goes through normalize_mobile."""
    if (
        len(value) == 11
        and value.isascii()
        and value.isdigit()
        and not _CN_PREFIX.match(value)
        and _CN_MOBILE.fullmatch(value)
        and not _CN_OTHER.fullmatch(value)
    ):
        return value
    return normalize_mobile(value)


_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_CHARSET)}
_USCC_SHAPE = re.compile(
    f"[{re.escape(''.join(sorted(USCC_AUTHORITIES)))}][1-9][0-9]{{6}}[{re.escape(USCC_CHARSET)}]{{10}}"
)


def fast_uscc(value: str) -> str:
    """normalize_uscc, with a fast path for a code already in canonical form (what nearly every file holds):
    the standard's shape (authority, type, division, charset) and check digit, computed from the validators'
    own tables; anything else goes through normalize_uscc and its messages."""
    if len(value) == 18 and _USCC_SHAPE.fullmatch(value):
        total = sum(map(operator.mul, map(_USCC_VALUE.__getitem__, value[:17]), USCC_WEIGHTS))
        if USCC_CHARSET[(31 - total % 31) % 31] == value[17]:
            return value
    return normalize_uscc(value)


# --- key tables ----------------------------------------------------------------------------------
@contextmanager
def key_table(name: str, columns: dict[str, str], rows: Iterable[tuple]):
    """A temporary table `name` holding `rows` (columns: name → SQL type), for joining a file's keys
    against a live table in one query; dropped on the way out. Filled in one short transaction (SQLite would
    otherwise commit every row); the queries against it run in the caller's transaction, or none."""
    quoted = connection.ops.quote_name(name)
    definition = ", ".join(f"{column} {sql_type}" for column, sql_type in columns.items())
    names = ", ".join(columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
        cursor.execute(f"CREATE TEMP TABLE {quoted} ({definition})")
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quoted} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"ANALYZE {quoted}")
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quoted} ({names}) VALUES ({marks})", list(rows))
    try:
        yield quoted
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
        except DatabaseError:  # a failed transaction: the temporary table goes with the rollback or the session
            pass


def name_prefix_range(key: str) -> list[tuple[str, str]]:
    """(low, high) bounds of names starting with `key`, in both cases (a normalised key is lower case): a
    range on a name index, exact under the C collation the database runs with."""
    return [(prefix, prefix + "\U0010ffff") for prefix in dict.fromkeys((key, key.upper()))]


def chunks(items: list, size: int = 5000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- writing many rows ---------------------------------------------------------------------------
def new_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for `model`, so rows (and the rows that point at them) can be written in
    bulk without reading ids back. PostgreSQL hands them out from the table's sequence; on SQLite the caller's
    transaction already holds the only write lock (transaction_mode IMMEDIATE), so the next ids past both
    the largest id and AUTOINCREMENT's high-water mark are free (an id is never reused, as AUTOINCREMENT
    promises: the audit trail may still name a deleted row's id)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [pk for (pk,) in cursor.fetchall()]
        if not connection.in_atomic_block:
            raise RuntimeError("new_ids on SQLite needs the writing transaction")
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(column)}), 0) FROM {quoted}")
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        start = max(top, found[0] if found else 0) + 1
        return list(range(start, start + count))


def db_now() -> Any:
    """Now, as the database column takes it in a bulk write (Django's own adaptation on SQLite)."""
    now = timezone.now()
    return now if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(now)


def db_date(value: date | None) -> Any:
    return value if value is None or connection.vendor == "postgresql" else connection.ops.adapt_datefield_value(value)


def write_rows(model: type[models.Model], fields: list[str], rows: Iterable[tuple]) -> int:
    """Append rows (values in `fields` order, adapted by the caller: db_now, db_date, JSON as text) with COPY on
    PostgreSQL and a multi-row insert on SQLite; answers how many. `rows` may be a generator: on PostgreSQL the
    server inserts (and maintains its indexes) while the generator computes the next rows, so work the
    caller does per row there (search text, audit snapshots) runs beside the database's, on another core."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    count = 0

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            yield row

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in counted():
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", counted())
    return count


class Snapshot:
    """core.audit.snapshot of `fields` for many records at once, masked as AuditEvent masks it on save
    (core.audit.mask_audit_values: the model's PERSONAL_FIELDS by the one masking rule, mobiles in any other
    text too). Works on anything with the fields' attributes (ids for references), saved or not. A field
    whose every choice is a plain code is left as it is when it holds one of them (masking cannot change it)."""

    def __init__(self, model: type[models.Model], fields: list[str]) -> None:
        from .masking import personal_fields

        personal = personal_fields(model._meta.label_lower)
        self.names = list(fields)
        attributes = []
        self.treat: list[tuple[str, bool, frozenset | None]] = []
        for name in fields:
            item = model._meta.get_field(name)
            attributes.append(item.attname if item.is_relation else name)
            codes = None
            if item.choices and not item.is_relation:
                values = frozenset(str(value) for value, _label in item.flatchoices)
                codes = values if all(mask_text_is_identity(value) for value in values) else None
            self.treat.append((name, name in personal, codes))
        self.get = operator.attrgetter(*attributes)
        self.pick = operator.itemgetter(*attributes)

    def of_values(self, values: dict) -> dict:
        """The same, from a dict keyed by attribute name (ids for references: industry_id …)."""
        return self._masked(dict(zip(self.names, self.pick(values), strict=True)))

    def __call__(self, record) -> dict:
        return self._masked(dict(zip(self.names, self.get(record), strict=True)))

    def _masked(self, data: dict) -> dict:
        from .audit import _json_value
        from .masking import _mask_free_text
        from .validators import mask_personal, mask_text

        for name, personal, codes in self.treat:
            value = data[name]
            kind = type(value)
            if kind is int or value is None:
                if personal:
                    data[name] = mask_personal(value)
                continue
            if kind is not str:
                value = _json_value(value)
                kind = type(value)
            if personal:
                value = mask_personal(value)
            elif kind is str:
                # mask_text masks 11-digit numbers starting with 1: text without a "1" comes back as it was.
                if "1" in value and (codes is None or value not in codes):
                    value = mask_text(value)
            elif kind is list or kind is dict:
                value = _mask_free_text(value)
            data[name] = value
        return data


def mask_text_is_identity(value: str) -> bool:
    from .validators import mask_text

    return mask_text(value) == value


def audit_rows(
    *, actor, action: str, target_type: str, items: Iterable[tuple], note: str = "", text_masked: bool = False
) -> Iterator[tuple]:
    """Audit rows for write_rows(AuditEvent, AUDIT_FIELDS, …), one per (target id, target text, customer id,
    before, after[, note]) item, `before`/`after` already masked (Snapshot); the target text is cut to 200
    characters and masked here, as AuditEvent's own save masks it, unless `text_masked` says the caller did.
    An item's own note, when it has one, replaces `note`. A generator: the JSON is made as COPY takes it."""
    import json

    from .validators import mask_text

    at = db_now()
    actor_id = getattr(actor, "pk", None)
    note = mask_text(note[:500])
    dumps = json.dumps
    for item in items:
        target_id, text, customer_id, before, after = item[:5]
        yield (
            at,
            actor_id,
            action,
            target_type,
            target_id,
            text if text_masked else mask_text(str(text)[:200]),
            customer_id,
            None if before is None else dumps(before),
            None if after is None else dumps(after),
            mask_text(item[5][:500]) if len(item) > 5 else note,
        )


AUDIT_FIELDS = ["at", "actor", "action", "target_type", "target_id", "target_repr", "customer_id", "before", "after",
                "note"]  # fmt: skip


# --- words for choices -----------------------------------------------------------------------------
def choice_words(choices, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """Every word an import takes for a choice → its code, compared by core.spreadsheets.header_key (case,
    spacing and brackets aside): the codes, the labels in each UI language (what the forms show) and the
    `aliases` (short forms people write in a sheet)."""
    from django.utils import translation

    from .spreadsheets import header_key

    words = {header_key(word): str(code) for word, code in (aliases or {}).items()}
    for code, label in choices:
        words[header_key(code)] = str(code)
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                words.setdefault(header_key(str(label)), str(code))
    return words


DATE_FORMATS = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?|\s*月?)\s*|(\d{4})(\d{2})(\d{2})"
)


@functools.lru_cache(maxsize=10_000)
def parse_date(text: str) -> date | None:
    """A date as people type it in a sheet: 2024-03-01, 2024/3/1, 2024.03.01, 2024年3月1日, 20240301, or a month
    (2024-03, 2024年3月: its first day); an XLSX date cell arrives as 2024-03-01 (core.spreadsheets.cell_text).
    Answers None when the text is no date (the caller names the field)."""
    text = (text or "").strip()
    if " " in text and text[:10].count("-") == 2:
        text = text[:10]  # a date cell with a time of day
    match = DATE_FORMATS.fullmatch(text)
    if not match:
        return None
    year, month, day = (match.group(1), match.group(2), match.group(3)) if match.group(1) else match.group(4, 5, 6)
    try:
        return date(int(year), int(month), int(day or 1))
    except ValueError:
        return None
