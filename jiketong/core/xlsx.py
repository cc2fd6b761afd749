"""Excel exports that take whatever text is already stored.

The text rule (core.validators.text_error) keeps control characters out of new writes, but rows written
before it, or straight into the database, may still hold them: openpyxl refuses a control character in a
cell (IllegalCharacterError), which failed a whole export for everyone who could see that one row. Every
export builds its workbook here, so each cell is cleaned on the way out: control characters dropped, a
lone surrogate shown as U+FFFD, and text starting with "=" kept as text rather than becoming a formula.
"""

import re
from typing import Any

import openpyxl
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
