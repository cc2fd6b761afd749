"""Loading BOSS files (docs/billing-import.md): read a CSV or XLSX as a stream, check each row, stage
the good ones in a temporary table, check references and duplicates there with set-based SQL, then
replace the file's periods in one transaction.

Three passes keep memory flat at any file size: (1) parse and stage in batches (COPY on PostgreSQL),
(2) one CREATE TABLE AS that resolves customer numbers and product codes by left joins and marks
duplicate keys with a window, (3) one DELETE + INSERT … SELECT inside one transaction. Nothing touches
the live tables before (3), and (3) is atomic, so an import that dies at any point leaves the previous
data as it was. The per-row error report is
written by re-reading the file for the (usually few) bad rows, so good rows never carry their raw text.
"""

import codecs
import csv
import io
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from jiketong.catalog.models import Product
from jiketong.customers.models import Customer

from . import partitions
from .models import BillingFact, ImportKind, MemberSnapshot

BATCH = 20_000
MAX_DAYS = 3650
MAX_REVENUE = Decimal("9999999999.99")
CENT = Decimal("0.01")
YES = {"是", "y", "yes", "true", "1", "按时", "已缴", "本网", "t"}
NO = {"否", "n", "no", "false", "0", "欠费", "未缴", "异网", "f"}
MOBILE = re.compile(r"1[3-9]\d{9}")
PLAIN_AMOUNT = re.compile(r"\d{1,10}(?:\.\d{1,2})?")
PERIOD = re.compile(r"(\d{4})(?:(\d{2})|[-/.年](\d{1,2})月?)(?:[-/.]\d{1,2}日?)?")
STAGE = "billing_import_stage"  # the file's rows, format-checked
CHECKED = "billing_import_checked"  # the same with resolved ids and the first row of each key


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, format, header); no row is looked at."""


# --- columns -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    required: bool = True

    @property
    def label(self) -> str:
        return self.aliases[0]


def _normal(header: str) -> str:
    return re.sub(r"[\s_()（）元]", "", str(header or "").strip().lower().lstrip("\ufeff"))


PERIOD_COLUMN = Column("period", ("账期", "期间", "月份", "period", "month"))
CUSTOMER_COLUMN = Column("customer_number", ("客户编号", "集团编号", "customer_number", "customer"))
FACT_COLUMNS = (
    PERIOD_COLUMN,
    CUSTOMER_COLUMN,
    Column("product_code", ("产品编码", "产品代码", "product_code", "product")),
    Column("revenue", ("收入", "收入金额", "金额", "revenue", "amount")),
    Column("billed_members", ("计费成员数", "计费成员", "billed_members"), required=False),
    Column("paid_on_time", ("是否按时缴费", "按时缴费", "paid_on_time", "paid"), required=False),
    Column("days_to_pay", ("回款天数", "缴费天数", "days_to_pay", "days"), required=False),
)
MEMBER_COLUMNS = (
    PERIOD_COLUMN,
    CUSTOMER_COLUMN,
    Column("phone", ("手机号码", "手机号", "号码", "phone", "mobile")),
    Column("on_net", ("是否本网", "本网", "on_net"), required=False),
)


def header_map(header: list, columns: tuple[Column, ...]) -> dict[str, int]:
    """Column name → index in the file; raises on a missing required column."""
    positions = {_normal(h): i for i, h in enumerate(header)}
    found, missing = {}, []
    for column in columns:
        index = next((positions[_normal(a)] for a in column.aliases if _normal(a) in positions), None)
        if index is not None:
            found[column.name] = index
        elif column.required:
            missing.append(column.label)
    if missing:
        raise ImportFileError(
            _("Missing column(s): %(columns)s. See the file format in the help.") % {"columns": "、".join(missing)}
        )
    return found


# --- reading -------------------------------------------------------------------------------------
def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK, what BOSS exports)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with open(path, "rb") as stream:
                while chunk := stream.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError(_("The file is neither UTF-8 nor GBK/GB18030 text. Save it as CSV (UTF-8) and try again."))


def _cell(value) -> str:
    """An XLSX cell as the text a CSV would carry."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value:%Y-%m}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


@dataclass
class Source:
    """A file opened as rows: `header`, then `rows` of (row number, cells); `done()` is the fraction read."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    done: Callable[[], float]
    close: Callable[[], None]


def open_source(path: Path) -> Source:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _open_csv(path)
    if suffix == ".xlsx":
        return _open_xlsx(path)
    raise ImportFileError(_("Upload a .csv or .xlsx file."))


def _numbered(rows, first: int) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(rows, start=first):
        if any(cell for cell in row):
            yield number, row


def _open_csv(path: Path) -> Source:
    encoding = detect_encoding(path)
    raw = open(path, "rb")  # noqa: SIM115 - closed by Source.close
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if not header:
        raw.close()
        raise ImportFileError(_("The file is empty."))
    size = max(path.stat().st_size, 1)
    return Source(header, _numbered(reader, 2), lambda: min(raw.tell() / size, 1.0), raw.close)


def _open_xlsx(path: Path) -> Source:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ImportFileError(_("The file is not a readable .xlsx workbook.")) from exc
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = [_cell(v) for v in next(values, ())]
    if not any(header):
        book.close()
        raise ImportFileError(_("The file is empty."))
    total = max((sheet.max_row or 0) - 1, 1)
    position = {"row": 0}

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(values, start=2):
            position["row"] = number - 1
            cells = [_cell(v) for v in row]
            if any(cells):
                yield number, cells

    return Source(header, rows(), lambda: min(position["row"] / total, 1.0), book.close)


# --- checking one row ----------------------------------------------------------------------------
class RowError(ValueError):
    pass


@dataclass
class Checker:
    """Per-row format checks; references and duplicates are checked later in SQL."""

    this_month: date = field(default_factory=lambda: timezone.localdate().replace(day=1))
    periods: dict[str, str] = field(default_factory=dict)

    def period(self, value: str) -> str:
        cached = self.periods.get(value)
        if cached:
            return cached
        match = PERIOD.fullmatch(value.strip())
        month = int(match.group(2) or match.group(3)) if match else 0
        if not match or not 1 <= month <= 12 or not 2000 <= int(match.group(1)) <= 2100:
            raise RowError(_("Bad period “%(value)s”: write YYYYMM or YYYY-MM.") % {"value": value})
        period = date(int(match.group(1)), month, 1)
        if period > self.this_month:
            raise RowError(_("Period %(value)s is in the future.") % {"value": value})
        self.periods[value] = period.isoformat()
        return self.periods[value]

    @staticmethod
    def required(value: str, column: str) -> str:
        value = value.strip()
        if not value:
            raise RowError(_("%(field)s is empty.") % {"field": LABELS[column]()})
        return value

    @staticmethod
    def money(value: str) -> Decimal | str:
        if PLAIN_AMOUNT.fullmatch(value):
            return value  # already what the database stores; the common case skips Decimal
        try:
            amount = Decimal(value.replace(",", "").replace("¥", "").strip())
        except InvalidOperation:
            raise RowError(_("Revenue is not a number: “%(value)s”.") % {"value": value}) from None
        if not amount.is_finite():
            raise RowError(_("Revenue is not a number: “%(value)s”.") % {"value": value})
        if amount < 0:
            raise RowError(_("Revenue cannot be negative: %(value)s.") % {"value": value})
        if amount > MAX_REVENUE:
            raise RowError(_("Revenue is too large: %(value)s.") % {"value": value})
        return amount.quantize(CENT, ROUND_HALF_UP)

    @staticmethod
    def count(value: str) -> int:
        if value.isdigit():
            return int(value)
        value = value.strip()
        if not value:
            return 0
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal(-1)
        if not number.is_finite() or number < 0 or number != number.to_integral_value() or number > 10**9:
            raise RowError(_("Billed members must be a whole number ≥ 0: “%(value)s”.") % {"value": value})
        return int(number)

    @staticmethod
    def days(value: str) -> int | None:
        """回款天数: empty (BOSS did not say) or a whole number of days, 0–3,650."""
        if value.isdigit() and len(value) <= 4:
            number = int(value)
        else:
            value = value.strip()
            if not value:
                return None
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = Decimal(-1)
            if not number.is_finite() or number != number.to_integral_value():
                number = Decimal(-1)
            number = int(number)
        if not 0 <= number <= MAX_DAYS:
            raise RowError(_("Days to pay must be a whole number from 0 to 3650: “%(value)s”.") % {"value": value})
        return number

    @staticmethod
    def yes_no(value: str, column: str) -> bool:
        value = value.strip().lower()
        if not value or value in YES:
            return True
        if value in NO:
            return False
        raise RowError(_("%(field)s must be 是 or 否: “%(value)s”.") % {"field": LABELS[column](), "value": value})

    @staticmethod
    def phone(value: str) -> str:
        digits = re.sub(r"[\s\-]", "", value)
        digits = digits.removeprefix("+86") if digits.startswith("+86") else digits
        if not MOBILE.fullmatch(digits):
            raise RowError(_("Not a mobile number (11 digits starting with 1): “%(value)s”.") % {"value": value})
        return digits


# Translated only when a row is bad: gettext per good row would cost more than the parsing.
LABELS = {
    "customer_number": lambda: _("Customer number"),
    "product_code": lambda: _("Product code"),
    "revenue": lambda: _("Revenue"),
    "paid_on_time": lambda: _("Paid on time"),
    "phone": lambda: _("Phone number"),
    "on_net": lambda: _("On our network"),
}


def cell_picker(header: list, columns: tuple[Column, ...]) -> Callable[[list[str]], tuple[str, ...]]:
    """row → its cells in `columns` order ("" for an optional column the file lacks); fast per row."""
    found = header_map(header, columns)
    width = len(header)
    pick = operator.itemgetter(*(found.get(column.name, width) for column in columns))

    def cells(row: list[str]) -> tuple[str, ...]:
        if len(row) != width:
            row = (row + [""] * width)[:width]
        row.append("")  # what an absent optional column reads
        return pick(row)

    return cells


# --- the two kinds of file -----------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """What differs between a facts file and a members file: columns, staging table, the live table."""

    columns: tuple[Column, ...]
    stage_columns: tuple[tuple[str, str], ...]  # name, SQL type (the checked values of a row)
    key: tuple[str, ...]  # the unique key in the staging table (after references are resolved)
    model: type
    to_row: Callable[[Checker, tuple[str, ...]], tuple]
    references: tuple[tuple[str, str, str, str], ...]  # stage column, id column, table, key column


def _fact_row(check: Checker, cells: tuple[str, ...]) -> tuple:
    period, number, code, revenue, billed, paid, days = cells
    return (
        check.period(period),
        check.required(number, "customer_number"),
        check.required(code, "product_code"),
        check.money(check.required(revenue, "revenue")),
        check.count(billed),
        check.yes_no(paid, "paid_on_time"),
        check.days(days) if days else None,
    )


def _member_row(check: Checker, cells: tuple[str, ...]) -> tuple:
    period, number, phone, on_net = cells
    return (
        check.period(period),
        check.required(number, "customer_number"),
        check.phone(check.required(phone, "phone")),
        check.yes_no(on_net, "on_net"),
    )


CUSTOMER_REF = ("customer_number", "customer_id", Customer._meta.db_table, "number")
KINDS = {
    ImportKind.FACTS: Kind(
        columns=FACT_COLUMNS,
        stage_columns=(
            ("period", "date"),
            ("customer_number", "varchar(40)"),
            ("product_code", "varchar(40)"),
            ("revenue", "numeric(14,2)"),
            ("billed_members", "integer"),
            ("paid_on_time", "boolean"),
            ("days_to_pay", "integer"),
        ),
        key=("period", "customer_id", "product_id"),
        model=BillingFact,
        to_row=_fact_row,
        references=(CUSTOMER_REF, ("product_code", "product_id", Product._meta.db_table, "code")),
    ),
    ImportKind.MEMBERS: Kind(
        columns=MEMBER_COLUMNS,
        stage_columns=(
            ("period", "date"),
            ("customer_number", "varchar(40)"),
            ("phone", "varchar(11)"),
            ("on_net", "boolean"),
        ),
        key=("period", "customer_id", "phone"),
        model=MemberSnapshot,
        to_row=_member_row,
        references=(CUSTOMER_REF,),
    ),
}


# --- staging -------------------------------------------------------------------------------------
def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def create_stage(kind: Kind) -> None:
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in kind.stage_columns)
    drop_stage()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            cursor.execute("PRAGMA temp_store=MEMORY")  # the stage never touches the disk
        cursor.execute(f"CREATE TEMP TABLE {STAGE} (line integer, {columns})")


def drop_stage() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"DROP TABLE IF EXISTS {CHECKED}")


def write_stage(kind: Kind, rows: list[tuple]) -> None:
    if not rows:
        return
    names = ", ".join(["line", *(name for name, _ in kind.stage_columns)])
    # One short transaction per batch: SQLite would otherwise commit every row.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The batch as one CSV text written by the C csv module: far faster than a row at a time.
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)
            with cursor.cursor.copy(f"COPY {STAGE} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join(["%s"] * (len(kind.stage_columns) + 1))
            cursor.executemany(f"INSERT INTO {STAGE} ({names}) VALUES ({marks})", rows)


def check_stage(kind: Kind) -> dict[int, str]:
    """Resolve references (left joins) and find duplicate keys (a window over the resolved key) in one
    pass into CHECKED; returns {row number: reason} for the bad rows."""
    joins = " ".join(
        f"LEFT JOIN {_quote(table)} {id_column}_t ON {id_column}_t.{key_column} = s.{column}"
        for column, id_column, table, key_column in kind.references
    )
    ids = ", ".join(f"{id_column}_t.id AS {id_column}" for _c, id_column, _t, _k in kind.references)
    resolved = " AND ".join(f"{id_column} IS NOT NULL" for _c, id_column, _t, _k in kind.references)
    refs = ", ".join(f"{column}, {id_column}" for column, id_column, _t, _k in kind.references)
    key = ", ".join(kind.key)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {CHECKED} AS SELECT r.*, MIN(r.line) OVER (PARTITION BY {key}) AS first_line "
            f"FROM (SELECT s.*, {ids} FROM {STAGE} s {joins}) r"
        )
        cursor.execute(
            f"SELECT line, first_line, {resolved}, {refs} FROM {CHECKED} WHERE first_line < line OR NOT ({resolved})"
        )
        bad = {}
        for line, first, all_found, *pairs in cursor.fetchall():
            reasons = []
            for k, (column, *_rest) in enumerate(kind.references):
                value, found = pairs[2 * k], pairs[2 * k + 1]
                if found is None:
                    reasons.append(UNKNOWN[column]() % {"value": value})
            if all_found and first < line:
                reasons.append(_("Same key as row %(line)s (period, customer and %(what)s).") % {
                    "line": first, "what": KEY_WHAT[kind.model]()
                })  # fmt: skip
            bad[line] = "; ".join(reasons)
    return bad


UNKNOWN = {
    "customer_number": lambda: _("Unknown customer number “%(value)s”."),
    "product_code": lambda: _("Unknown product code “%(value)s”."),
}
KEY_WHAT = {BillingFact: lambda: _("product"), MemberSnapshot: lambda: _("phone number")}


def good_rows_sql(kind: Kind) -> str:
    return "first_line = line AND " + " AND ".join(f"{id_column} IS NOT NULL" for _, id_column, _, _ in kind.references)


def stage_periods(kind: Kind) -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT period FROM {CHECKED} WHERE {good_rows_sql(kind)} ORDER BY period")
        return [_as_date(value) for (value,) in cursor.fetchall()]


def stage_counts(kind: Kind) -> dict[date, int]:
    """Good rows per period: what each period would hold after the replace."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT period, COUNT(*) FROM {CHECKED} WHERE {good_rows_sql(kind)} GROUP BY period")
        return {_as_date(value): count for value, count in cursor.fetchall()}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def replace_periods(kind: Kind, periods: list[date]) -> int:
    """Inside the caller's transaction: the live table's rows for these periods become the staged good rows.
    On PostgreSQL the DELETE is pruned to the months' partitions (billing.partitions)."""
    partitions.ensure(periods, [kind.model._meta.db_table])  # normally done already, before the transaction
    table = _quote(kind.model._meta.db_table)
    values = [name for name, _ in kind.stage_columns if name not in ("customer_number", "product_code")]
    ids = [id_column for _, id_column, _, _ in kind.references]
    columns = ", ".join([*values, *ids])
    marks = ", ".join(["%s"] * len(periods))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE period IN ({marks})", periods)
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {CHECKED} WHERE {good_rows_sql(kind)}")
        return cursor.rowcount


def delete_periods(kind: Kind, periods: list[date]) -> int:
    """Inside the caller's transaction: the live table's rows for these periods are gone."""
    return kind.model.objects.filter(period__in=periods).delete()[0]


# --- the error report ----------------------------------------------------------------------------
def write_error_report(source_path: Path, report_path: Path, bad: dict[int, str],
                       tick: Callable[[], None] | None = None) -> None:  # fmt: skip
    """The bad rows as they were in the file, with the row number and the reason; UTF-8 with a BOM so
    Excel opens the Chinese correctly. `tick` is called every BATCH rows read (the run's heartbeat)."""
    source = open_source(source_path)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(report_path, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([pgettext("error report", "Row"), pgettext("error report", "Reason"), *source.header])
            for read, (number, row) in enumerate(source.rows, start=1):
                reason = bad.get(number)
                if reason:
                    writer.writerow([number, reason, *row])
                if tick and read % BATCH == 0:
                    tick()
    finally:
        source.close()
