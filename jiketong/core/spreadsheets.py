"""Reading uploaded spreadsheets within bounds: the one reader every import uses (decision 0018).

An uploaded spreadsheet is hostile until read. An XLSX is a zip of XML, so 130 KB can unpack to hundreds of
megabytes and a million cells (a spreadsheet bomb); a CSV may come in any encoding. So everything that can be
checked before a cell is parsed is checked first, and in milliseconds: the file's size, each zip member's
uncompressed size and compression ratio (read from the zip's directory, nothing inflated), and every sheet's
declared dimension. What cannot be known in advance (a sheet that declares no dimension, or lies about it;
a CSV's rows) is counted while reading, so the read stops at the first row past a limit. Each refusal names
the limit and the setting that holds it, in the user's language.

    with open_spreadsheet(path) as book:            # or an uploaded file, with name=upload.name
        for sheet in book.sheets():                 # a CSV is one sheet; an XLSX's sheets in order
            header = HeaderMap(COLUMNS).locate(sheet)   # finds the heading row (title rows above it skipped)
            for number, cells in sheet.rows:        # (row number as the sheet shows it, cells as text)
                values = header.values(cells)       # {column name: normalised text}

Limits (settings.py, from the environment; the defaults take a province's archive in one file):
SPREADSHEET_MAX_ROWS (1,000,000 data rows), SPREADSHEET_MAX_COLUMNS (200), SPREADSHEET_MAX_CELLS
(20,000,000), SPREADSHEET_MAX_FILE_MB (200), SPREADSHEET_MAX_UNCOMPRESSED_MB (1,024: an XLSX's parts
together) and SPREADSHEET_MAX_RATIO (100: a part larger than 1 MB that inflates more than 100-fold is refused,
Apache POI's ZipSecureFile default; real sheets inflate 5–20-fold).
"""

import codecs
import csv
import io
import operator
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

MB = 1 << 20
RATIO_FLOOR = MB  # parts smaller than this may inflate as much as they like: they cannot hold a bomb
MAX_ZIP_MEMBERS = 10_000
SNIFF_BYTES = 64 * 1024  # of a sheet's XML, inflated, to find its <dimension>
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?\"")
SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class Limits:
    """How much one file may hold. `rows` counts data rows (the heading row and blank rows are free)."""

    rows: int = 1_000_000
    columns: int = 200
    cells: int = 20_000_000
    file_mb: int = 200
    uncompressed_mb: int = 1024
    ratio: int = 100

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            rows=getattr(settings, "SPREADSHEET_MAX_ROWS", cls.rows),
            columns=getattr(settings, "SPREADSHEET_MAX_COLUMNS", cls.columns),
            cells=getattr(settings, "SPREADSHEET_MAX_CELLS", cls.cells),
            file_mb=getattr(settings, "SPREADSHEET_MAX_FILE_MB", cls.file_mb),
            uncompressed_mb=getattr(settings, "SPREADSHEET_MAX_UNCOMPRESSED_MB", cls.uncompressed_mb),
            ratio=getattr(settings, "SPREADSHEET_MAX_RATIO", cls.ratio),
        )

    def with_rows(self, rows: int) -> "Limits":
        return replace(self, rows=min(rows, self.rows))


class SpreadsheetError(Exception):
    """The file as a whole cannot be read; `str(error)` is the message for the user, already translated."""


class LimitExceeded(SpreadsheetError):
    """The file breaks one of the limits; `limit` names it (rows, columns, cells, file, uncompressed, ratio)."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


def _n(value: int) -> str:
    return f"{value:,}"


def _mb(value: int) -> str:
    return f"{value / MB:,.1f} MB" if value >= MB else f"{max(value // 1024, 1):,} KB"


# --- cells ---------------------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """An XLSX cell as the text a CSV would carry: dates as YYYY-MM-DD, whole numbers without ".0"
    (a mobile typed as a number stays 13800138000), text stripped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d}" if value.time() == time() else f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value).strip()


# --- the file ------------------------------------------------------------------------------------
@dataclass
class Sheet:
    """One sheet's non-blank rows as (row number, cells); row numbers are what Excel shows (the first is 1)."""

    title: str
    rows: Iterator[tuple[int, list[str]]]


@dataclass
class Spreadsheet:
    """An opened file: its sheets (read once, in order), an estimate of its data rows (from the sheets'
    dimensions or the CSV's line count: enough to choose between reading now and a background task), and
    `done()`, the fraction read so far."""

    name: str
    kind: str  # "csv" or "xlsx"
    estimated_rows: int
    _sheets: Callable[[], Iterator[Sheet]]
    _done: Callable[[], float]
    _close: Callable[[], None]
    counted: dict = field(default_factory=lambda: {"rows": 0, "cells": 0})

    def sheets(self) -> Iterator[Sheet]:
        return self._sheets()

    def done(self) -> float:
        return max(0.0, min(self._done(), 1.0))

    @property
    def rows_read(self) -> int:
        return self.counted["rows"]

    def close(self) -> None:
        self._close()

    def __enter__(self) -> "Spreadsheet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_spreadsheet(source: Path | str | IO[bytes] | bytes, *, name: str | None = None,
                     limits: Limits | None = None) -> Spreadsheet:  # fmt: skip
    """Open a .csv or .xlsx (a path, a binary file such as an upload, or bytes) after the checks that need
    no parsing; raises SpreadsheetError (LimitExceeded for a limit) with the user's message."""
    limits = limits or Limits.from_settings()
    owned = not hasattr(source, "read")  # a stream the caller passed stays open for the caller
    if isinstance(source, str | Path):
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise SpreadsheetError(_("No such file: %(path)s") % {"path": path})
        stream: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by Spreadsheet.close
    elif isinstance(source, bytes):
        stream = io.BytesIO(source)
    else:
        stream = source
        if hasattr(stream, "open") and getattr(stream, "closed", False):
            stream.open("rb")  # a Django UploadedFile read before
    name = name or getattr(source, "name", "") or ""
    suffix = Path(name).suffix.lower()
    try:
        if suffix not in SUFFIXES:
            if suffix in (".xls", ".et", ".numbers", ".ods"):
                raise SpreadsheetError(_("Save the file as Excel workbook (.xlsx) or CSV and upload it again."))
            raise SpreadsheetError(_("Upload an Excel (.xlsx) or CSV file."))
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        if not size:
            raise SpreadsheetError(_("The file is empty."))
        if size > limits.file_mb * MB:
            raise LimitExceeded(
                _("The file is %(size)s; files up to %(limit)s MB are accepted (SPREADSHEET_MAX_FILE_MB).")
                % {"size": _mb(size), "limit": _n(limits.file_mb)},
                "file",
            )
        if suffix == ".csv":
            return _open_csv(stream, Path(name).name, size, limits, owned)
        return _open_xlsx(stream, Path(name).name, limits, owned)
    except BaseException:
        if isinstance(source, str | Path):
            stream.close()
        raise


def _count(book_counts: dict, limits: Limits, number: int, cells: list[str]) -> list[str]:
    """Count one non-blank row against the limits; trailing empty cells do not count."""
    width = len(cells)
    while width and not cells[width - 1]:
        width -= 1
    if width > limits.columns:
        raise LimitExceeded(
            _("Row %(row)s has %(n)s columns; at most %(limit)s are accepted (SPREADSHEET_MAX_COLUMNS).")
            % {"row": _n(number), "n": _n(width), "limit": _n(limits.columns)},
            "columns",
        )
    book_counts["cells"] += width
    if book_counts["cells"] > limits.cells:
        raise LimitExceeded(
            _("The file has more than %(limit)s cells (SPREADSHEET_MAX_CELLS); split it into smaller files.")
            % {"limit": _n(limits.cells)},
            "cells",
        )
    return cells if width == len(cells) else cells[:width]


def _rows_limit(limits: Limits) -> LimitExceeded:
    return LimitExceeded(
        _("The file has more than %(limit)s rows (SPREADSHEET_MAX_ROWS); split it into smaller files.")
        % {"limit": _n(limits.rows)},
        "rows",
    )


def _counted(rows: Iterator[tuple[int, list[str]]], counts: dict, limits: Limits, *, first_free: bool):
    """The non-blank rows, counted; the first one of each sheet (its heading) does not count as a data row."""
    free = first_free
    for number, cells in rows:
        if not any(cells):
            continue
        cells = _count(counts, limits, number, cells)
        if free:
            free = False
        else:
            counts["rows"] += 1
            if counts["rows"] > limits.rows:
                raise _rows_limit(limits)
        yield number, cells


# --- CSV -----------------------------------------------------------------------------------------
def detect_encoding(stream: IO[bytes]) -> str:
    """UTF-16 when the file starts with its BOM (Excel's "Unicode text"), else UTF-8 (with or without BOM) if
    the whole file decodes, else GB18030 (a superset of GBK: what BOSS and Chinese Excel save)."""
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            while chunk := stream.read(MB):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            stream.seek(0)
            continue
        stream.seek(0)
        return encoding
    raise SpreadsheetError(_("The file is neither UTF-8 nor GBK/GB18030 text. Save it as CSV (UTF-8) and try again."))


def _delimiter(first_line: str) -> str:
    """Comma unless the heading line clearly uses tabs or semicolons (Excel's "Unicode text", European CSV)."""
    counts = {sep: first_line.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _line_count(stream: IO[bytes]) -> int:
    """Line breaks in the file: an estimate of its rows (quoted cells may hold line breaks too)."""
    count = 0
    while chunk := stream.read(MB):
        count += chunk.count(b"\n")
    stream.seek(0)
    return count


def _open_csv(stream: IO[bytes], name: str, size: int, limits: Limits, owned: bool) -> Spreadsheet:
    encoding = detect_encoding(stream)
    estimated = max(_line_count(stream) - 1, 0)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    first = text.readline()
    text.seek(0)
    reader = csv.reader(text, delimiter=_delimiter(first))
    counts = {"rows": 0, "cells": 0}

    def raw() -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            for number, row in enumerate(reader, start=1):  # noqa: B007 - kept for the error message
                yield number, [cell.strip() for cell in row]
        except csv.Error as exc:
            raise SpreadsheetError(
                _("Row %(row)s cannot be read as CSV (%(reason)s).") % {"row": _n(number + 1), "reason": exc}
            ) from exc

    def sheets() -> Iterator[Sheet]:
        yield Sheet(Path(name).stem, _counted(raw(), counts, limits, first_free=True))

    def done() -> float:
        try:
            return stream.tell() / size
        except (ValueError, OSError):
            return 1.0

    def close() -> None:
        text.detach()
        if owned:
            stream.close()
        else:
            stream.seek(0)

    book = Spreadsheet(name, "csv", estimated, sheets, done, close)
    book.counted = counts
    return book


# --- XLSX ----------------------------------------------------------------------------------------
def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _check_zip(archive: zipfile.ZipFile, name: str, limits: Limits) -> int:
    """The zip's own directory against the limits (nothing is inflated); answers the declared data rows."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise LimitExceeded(
            _("The workbook holds %(n)s parts; a spreadsheet has far fewer. It is refused as unsafe.")
            % {"n": _n(len(members))},
            "ratio",
        )
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > RATIO_FLOOR and member.file_size > limits.ratio * max(member.compress_size, 1):
            raise LimitExceeded(
                _(
                    "%(part)s unpacks from %(packed)s to %(size)s, %(ratio)s times its packed size; at most "
                    "%(limit)s times is accepted (SPREADSHEET_MAX_RATIO). A file like this is a “spreadsheet "
                    "bomb” and is refused unread."
                )
                % {
                    "part": member.filename,
                    "packed": _mb(member.compress_size),
                    "size": _mb(member.file_size),
                    "ratio": _n(member.file_size // max(member.compress_size, 1)),
                    "limit": _n(limits.ratio),
                },
                "ratio",
            )
    if total > limits.uncompressed_mb * MB:
        raise LimitExceeded(
            _("The workbook unpacks to %(size)s; at most %(limit)s MB is accepted (SPREADSHEET_MAX_UNCOMPRESSED_MB).")
            % {"size": _mb(total), "limit": _n(limits.uncompressed_mb)},
            "uncompressed",
        )
    declared_rows = declared_cells = 0
    for member in members:
        if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
            continue
        with archive.open(member) as part:
            head = part.read(SNIFF_BYTES)
        match = DIMENSION.search(head)
        if not match:
            continue
        first_col, first_row = _column_number(match.group(1).decode()), int(match.group(2))
        last_col = _column_number(match.group(3).decode()) if match.group(3) else first_col
        last_row = int(match.group(4)) if match.group(4) else first_row
        columns, rows = last_col - first_col + 1, last_row - first_row + 1
        if columns > limits.columns:
            raise LimitExceeded(
                _("A sheet declares %(n)s columns; at most %(limit)s are accepted (SPREADSHEET_MAX_COLUMNS).")
                % {"n": _n(columns), "limit": _n(limits.columns)},
                "columns",
            )
        declared_rows += max(rows - 1, 0)
        declared_cells += rows * columns
    if declared_rows > limits.rows:
        raise LimitExceeded(
            _("The workbook declares %(n)s rows; at most %(limit)s are accepted (SPREADSHEET_MAX_ROWS).")
            % {"n": _n(declared_rows), "limit": _n(limits.rows)},
            "rows",
        )
    if declared_cells > limits.cells:
        raise LimitExceeded(
            _("The workbook declares %(n)s cells; at most %(limit)s are accepted (SPREADSHEET_MAX_CELLS).")
            % {"n": _n(declared_cells), "limit": _n(limits.cells)},
            "cells",
        )
    return declared_rows


def _open_xlsx(stream: IO[bytes], name: str, limits: Limits, owned: bool) -> Spreadsheet:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpreadsheetError(_("This Excel file cannot be read.")) from exc
    try:
        estimated = _check_zip(archive, name, limits)
    finally:
        archive.close()
    stream.seek(0)
    from openpyxl import load_workbook

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise SpreadsheetError(_("This Excel file cannot be read.")) from exc
    counts = {"rows": 0, "cells": 0}
    progress = {"rows": 0}

    def raw(sheet) -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                progress["rows"] += 1
                yield number, [cell_text(value) for value in row]
        except SpreadsheetError:
            raise
        except Exception as exc:  # a damaged part: openpyxl and the XML parser raise many kinds
            raise SpreadsheetError(_("This Excel file cannot be read.")) from exc

    def sheets() -> Iterator[Sheet]:
        for sheet in book.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                continue  # hidden sheets hold lookup lists, not rows to import
            # Read every row there is: some writers declare a wrong dimension, and openpyxl would stop there.
            sheet.reset_dimensions()
            yield Sheet(sheet.title, _counted(raw(sheet), counts, limits, first_free=True))

    def done() -> float:
        return progress["rows"] / max(estimated + 1, 1) if estimated else 0.0

    def close() -> None:
        book.close()
        if owned:
            stream.close()
        else:
            stream.seek(0)

    spreadsheet = Spreadsheet(name, "xlsx", estimated, sheets, done, close)
    spreadsheet.counted = counts
    return spreadsheet


# --- headings ------------------------------------------------------------------------------------
HEADER_NOISE = re.compile(r"[\s_\-*:：()（）\[\]【】/／.。]|必填|选填")


def header_key(text: str) -> str:
    """A heading as compared: full-width folded, lower case, without spaces, brackets, "*" required marks
    and 必填/选填 notes, so 单位名称*, 单位名称（必填） and Unit Name all compare by their words."""
    return HEADER_NOISE.sub("", unicodedata.normalize("NFKC", str(text or "")).lstrip("\ufeff").lower())


@dataclass(frozen=True)
class Column:
    """A column an import reads: its name in the code, the headings it goes by (the first is the one
    messages use), whether a file must have it, and how its text is normalised before the rules see it."""

    name: str
    aliases: tuple[str, ...]
    required: bool = False
    normalise: Callable[[str], str] | None = None

    @property
    def label(self) -> str:
        return self.aliases[0]


class HeaderMap:
    """Chinese or English headings → columns. `locate(sheet)` finds the heading row among the first rows
    (a survey sheet often has a title row above it) and returns a `Header` that turns rows into values."""

    LOOK_AHEAD = 10

    def __init__(self, columns: tuple[Column, ...] | list[Column]) -> None:
        self.columns = tuple(columns)
        self.by_key: dict[str, Column] = {}
        for column in self.columns:
            for alias in column.aliases:
                self.by_key.setdefault(header_key(alias), column)

    def match(self, cells: list[str]) -> dict[str, int]:
        """Column name → position for the headings this row names (the first of repeated headings wins)."""
        found: dict[str, int] = {}
        for position, cell in enumerate(cells):
            column = self.by_key.get(header_key(cell))
            if column is not None and column.name not in found:
                found[column.name] = position
        return found

    def missing(self, found: dict[str, int]) -> list[str]:
        return [column.label for column in self.columns if column.required and column.name not in found]

    def locate(self, sheet: Sheet, *, required_message: str | None = None) -> "Header":
        """Read the sheet up to its heading row: the first row that names every required column (or, when
        none is found among the first rows, raise naming what is missing)."""
        best: dict[str, int] = {}
        for _seen, (number, cells) in zip(range(self.LOOK_AHEAD), sheet.rows, strict=False):
            found = self.match(cells)
            if found and not self.missing(found):
                return Header(self, found, cells, number, sheet)
            if len(found) > len(best):
                best = found
        if required_message:
            raise SpreadsheetError(required_message)
        raise SpreadsheetError(
            _("Missing column(s): %(columns)s. The first row must name the columns.")
            % {"columns": "、".join(self.missing(best)) or "—"}
        )


@dataclass
class Header:
    """A sheet's heading row, mapped: `values(cells)` gives {column name: text} for the columns the file has."""

    map: HeaderMap
    found: dict[str, int]
    cells: list[str]
    number: int
    sheet: Sheet

    def __post_init__(self) -> None:
        self.names = list(self.found)
        self.width = max(self.found.values(), default=-1) + 1
        self._pick = operator.itemgetter(*self.found.values()) if self.found else (lambda row: ())
        columns = {column.name: column for column in self.map.columns}
        self._normalisers = [(i, columns[name].normalise) for i, name in enumerate(self.names)
                             if columns[name].normalise]  # fmt: skip

    def has(self, name: str) -> bool:
        return name in self.found

    def values(self, cells: list[str]) -> dict[str, str]:
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        picked = self._pick(cells)
        if len(self.names) == 1:
            picked = (picked,)
        if self._normalisers:
            picked = list(picked)
            for i, normalise in self._normalisers:
                picked[i] = normalise(picked[i])
        return dict(zip(self.names, picked, strict=True))
