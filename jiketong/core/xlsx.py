"""Excel exports that take whatever text is already stored, written as a stream.

The text rule (core.validators.text_error) keeps control characters out of new writes, but rows written
before it, or straight into the database, may still hold them: openpyxl refuses a control character in a
cell (IllegalCharacterError), which failed a whole export for everyone who could see that one row. Every
export builds its workbook here, so each cell is cleaned on the way out: control characters dropped, a
lone surrogate shown as U+FFFD, and text starting with "=" kept as text rather than becoming a formula.

`stream` writes a workbook as it goes (decision 0019): the zip is written to an unseekable sink (zipfile
then puts each entry's sizes after its data), the worksheet is SpreadsheetML written row by row with inline
strings (no shared-string table to hold in memory), and the bytes are handed out every `FLUSH_ROWS` rows. A
sheet holds Excel's 1,048,576 rows; the rows after that continue on a second sheet, so nothing is dropped.
"""

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from math import isfinite
from typing import Any

import openpyxl
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

SURROGATES = re.compile("[\ud800-\udfff]")


def clean_cell(value: Any) -> Any:
    """A value openpyxl can write: text without the characters a worksheet cannot hold."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        return value
    return SURROGATES.sub("\ufffd", ILLEGAL_CHARACTERS_RE.sub("", value))


class CleanWriteOnlyWorksheet(WriteOnlyWorksheet):
    def append(self, row) -> None:
        super().append([self._cell(value) for value in row])

    def _cell(self, value: Any) -> Any:
        value = clean_cell(value)
        if isinstance(value, str) and value.startswith("=") and len(value) > 1:
            # A customer named "=HYPERLINK(…)" stays a name in the sheet, not a formula Excel runs.
            cell = WriteOnlyCell(self, value)
            cell.data_type = "s"
            return cell
        return value


class Workbook(openpyxl.Workbook):
    """openpyxl's Workbook, write-only (streamed) by default, whose sheets clean every cell."""

    def __init__(self, write_only: bool = True, **kwargs: Any) -> None:
        super().__init__(write_only=write_only, **kwargs)

    def create_sheet(self, title=None, index=None):
        if not self.write_only:
            return super().create_sheet(title=title, index=index)
        sheet = CleanWriteOnlyWorksheet(parent=self, title=title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet


# --- streamed workbooks ------------------------------------------------------------------------------------
SHEET_ROWS = 1_048_576  # Excel's limit per sheet, heading included
FLUSH_ROWS = 1000  # rows written into the zip between two hand-outs of bytes
EPOCH = datetime(1899, 12, 30)

# Worksheets are typed by the "xml" default, so the content types can come first, before the number of sheets
# is known; the workbook (which lists the sheets) is written last. Zip readers go by the central directory.
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
# Styles: 0 plain, 1 date, 2 date and time, 3 the heading (bold).
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
    'state="frozen"/></sheetView></sheetViews><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"
XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _text(ref: str, text: str, style: str = "") -> str:
    # Inline strings are never formulas: a name starting with "=" stays text here too.
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text.translate(XML_ESCAPES)}</t></is></c>'


def _cell(ref: str, value: Any) -> str:
    value = clean_cell(value)
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or (isinstance(value, Decimal | float) and isfinite(value)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        return f'<c r="{ref}" s="2"><v>{(value - EPOCH).total_seconds() / 86400:.10f}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="1"><v>{(value - EPOCH.date()).days}</v></c>'
    return _text(ref, str(value))


def sheet_title(title: str, number: int = 1) -> str:
    """A title Excel accepts (31 characters, none of []:*?/\\); the second sheet of a long export is "title (2)"."""
    title = SHEET_NAME_BAD.sub(" ", str(clean_cell(title))).strip() or "Sheet"
    if number == 1:
        return title[:31]
    suffix = f" ({number})"
    return title[: 31 - len(suffix)] + suffix


class _Sink:
    """A write-only file whose bytes are taken out as they come; without tell() zipfile writes a stream."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _workbook(titles: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{title.translate(XML_ESCAPES).replace(chr(34), "&quot;")}" sheetId="{n}" r:id="rId{n}"/>'
        for n, title in enumerate(titles, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    styles = (
        f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{sheets}{styles}'
        "</Relationships>"
    )


def stream(title: str, header: Sequence, rows: Iterable[Sequence], *, sheet_rows: int = SHEET_ROWS) -> Iterator[bytes]:
    """The bytes of an .xlsx with a bold heading row and then `rows`, handed out as they are written."""
    sink = _Sink()
    heading = [str(clean_cell(label)) for label in header]
    letters = [_letters(i) for i in range(max(len(heading), 1))]
    rows = iter(rows)
    titles: list[str] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", ROOT_RELS)
        package.writestr("xl/styles.xml", STYLES)
        yield sink.take()
        while True:
            titles.append(sheet_title(title, len(titles) + 1))
            with package.open(f"xl/worksheets/sheet{len(titles)}.xml", "w", force_zip64=True) as part:
                cells = "".join(_text(f"{letters[i]}1", label, ' s="3"') for i, label in enumerate(heading))
                part.write(f'{SHEET_HEAD}<row r="1">{cells}</row>'.encode())
                lines: list[str] = []
                number = 1
                for row in islice(rows, sheet_rows - 1):
                    number += 1
                    if len(row) > len(letters):
                        letters += [_letters(i) for i in range(len(letters), len(row))]
                    cells = "".join(_cell(f"{letters[i]}{number}", value) for i, value in enumerate(row))
                    lines.append(f'<row r="{number}">{cells}</row>')
                    if len(lines) == FLUSH_ROWS:
                        part.write("".join(lines).encode())
                        lines.clear()
                        if data := sink.take():
                            yield data
                part.write(("".join(lines) + SHEET_TAIL).encode())
            following = next(rows, None)
            if following is None:
                break
            rows = chain([following], rows)
        package.writestr("xl/workbook.xml", _workbook(titles))
        package.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(titles)))
    yield sink.take()
