"""The bounded reader every import uses (core.spreadsheets): encodings, headings, and files past the limits
refused before they are parsed, with the limit named in the user's language."""

import io
import zipfile
from datetime import date, datetime

import pytest
from django.utils import translation
from openpyxl import Workbook

from jiketong.core.spreadsheets import (
    Column,
    HeaderMap,
    LimitExceeded,
    Limits,
    SpreadsheetError,
    cell_text,
    header_key,
    open_spreadsheet,
)

COLUMNS = (
    Column("name", ("单位名称", "name"), required=True),
    Column("code", ("区域编码", "region"), normalise=str.upper),
)


def rows_of(data: bytes, name: str, **limits) -> list[tuple[int, list[str]]]:
    with open_spreadsheet(data, name=name, limits=Limits(**limits) if limits else None) as book:
        return [row for sheet in book.sheets() for row in sheet.rows]


def xlsx(rows, *, title: str = "Sheet") -> bytes:
    book = Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHEET_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="摸底" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def handmade_xlsx(rows: int, columns: int, *, dimension: bool = True) -> bytes:
    """A workbook written by hand with zipfile: `rows` × `columns` cells holding 1, deflated as hard as zip can."""
    last = ""
    n = columns
    while n:
        n, rest = divmod(n - 1, 26)
        last = chr(65 + rest) + last
    row = "<row>" + "<c><v>1</v></c>" * columns + "</row>"
    head = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    sheet = head + (f'<dimension ref="A1:{last}{rows}"/>' if dimension else "") + "<sheetData>"
    sheet += row * rows + "</sheetData></worksheet>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for part, text in SHEET_PARTS.items():
            archive.writestr(part, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


@pytest.fixture
def openpyxl_must_not_run(monkeypatch):
    import openpyxl

    def refuse(*args, **kwargs):
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


# --- bombs ---------------------------------------------------------------------------------------------
def test_a_spreadsheet_bomb_is_refused_before_it_is_parsed_naming_the_limit(openpyxl_must_not_run):
    bomb = handmade_xlsx(1000, 1000)
    assert len(bomb) < 200_000  # a small upload …
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 15_000_000  # … of a million cells
    with translation.override("zh-hans"), pytest.raises(LimitExceeded) as info:
        open_spreadsheet(bomb, name="bomb.xlsx")
    assert info.value.limit == "ratio"
    message = str(info.value)
    assert "SPREADSHEET_MAX_RATIO" in message and "100" in message
    assert "压缩炸弹" in message


def test_a_sheet_declaring_too_many_columns_is_refused_unread(openpyxl_must_not_run):
    with translation.override("zh-hans"), pytest.raises(LimitExceeded) as info:
        open_spreadsheet(handmade_xlsx(2, 300), name="wide.xlsx", limits=Limits(ratio=10**6))
    assert info.value.limit == "columns" and "SPREADSHEET_MAX_COLUMNS" in str(info.value)
    assert "列" in str(info.value)


def test_a_sheet_declaring_too_many_cells_is_refused_unread(openpyxl_must_not_run):
    with pytest.raises(LimitExceeded) as info:
        open_spreadsheet(handmade_xlsx(101, 10), name="tall.xlsx", limits=Limits(ratio=10**6, cells=500))
    assert info.value.limit == "cells"


def test_a_sheet_that_declares_nothing_is_stopped_at_the_first_row_past_a_limit():
    data = handmade_xlsx(50, 300, dimension=False)
    with open_spreadsheet(data, name="undeclared.xlsx", limits=Limits(ratio=10**6)) as book:
        sheet = next(book.sheets())
        with pytest.raises(LimitExceeded) as info:
            next(sheet.rows)
    assert info.value.limit == "columns" and "1" in str(info.value)


def test_rows_past_the_limit_stop_the_read():
    text = "单位名称\n" + "".join(f"单位{i}\n" for i in range(6))
    with pytest.raises(LimitExceeded) as info:
        rows_of(text.encode(), "list.csv", rows=5)
    assert info.value.limit == "rows" and "SPREADSHEET_MAX_ROWS" in str(info.value)
    assert len(rows_of(text.encode(), "list.csv", rows=6)) == 7  # the heading row is free


def test_a_file_over_the_size_limit_is_refused_from_its_size(settings):
    settings.SPREADSHEET_MAX_FILE_MB = 1
    with pytest.raises(LimitExceeded) as info:
        open_spreadsheet(b"x" * (1 << 20) + b"x", name="big.csv")
    assert info.value.limit == "file" and "SPREADSHEET_MAX_FILE_MB" in str(info.value)


def test_limits_come_from_settings(settings):
    settings.SPREADSHEET_MAX_ROWS = 7
    settings.SPREADSHEET_MAX_RATIO = 30
    limits = Limits.from_settings()
    assert (limits.rows, limits.ratio, limits.columns) == (7, 30, 200)
    assert limits.with_rows(3).rows == 3 and limits.with_rows(10).rows == 7


# --- encodings and formats -----------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_csv_in_the_encodings_chinese_offices_save(encoding):
    text = "单位名称,区域编码\n石牌街道办事处,440106\n"
    assert rows_of(text.encode(encoding), "list.csv") == [
        (1, ["单位名称", "区域编码"]),
        (2, ["石牌街道办事处", "440106"]),
    ]


def test_a_bom_does_not_end_up_in_the_first_heading():
    data = "\ufeff单位名称\n岗顶小卖部\n".encode()
    with open_spreadsheet(data, name="list.csv") as book:
        header = HeaderMap(COLUMNS).locate(next(book.sheets()))
        assert header.has("name") and header.cells[0] == "单位名称"


def test_text_that_is_neither_utf8_nor_gbk_is_refused_in_chinese():
    with translation.override("zh-hans"), pytest.raises(SpreadsheetError) as info:
        open_spreadsheet(b"\xff\xfe\x00" * 0 + bytes([0x81, 0x20, 0xFF]), name="bad.csv")
    assert "UTF-8" in str(info.value) and "GBK" in str(info.value)


def test_tab_separated_text_from_excel_is_read():
    data = "单位名称\t区域编码\n石牌街道办事处\t440106\n".encode("utf-16")
    assert rows_of(data, "list.csv")[1] == (2, ["石牌街道办事处", "440106"])


def test_blank_rows_are_skipped_and_row_numbers_are_the_sheets():
    data = xlsx([["单位名称", "规模"], [None, None], ["天河城", 300], ["", ""], ["岗顶", 5.0]])
    assert rows_of(data, "s.xlsx") == [(1, ["单位名称", "规模"]), (3, ["天河城", "300"]), (5, ["岗顶", "5"])]


def test_xlsx_cells_become_the_text_a_csv_would_carry():
    assert cell_text(datetime(2024, 3, 1)) == "2024-03-01"
    assert cell_text(datetime(2024, 3, 1, 8, 30)) == "2024-03-01 08:30:00"
    assert cell_text(date(2024, 3, 1)) == "2024-03-01"
    assert cell_text(13800138000.0) == "13800138000"
    assert cell_text(2.5) == "2.5"
    assert cell_text(True) == "TRUE" and cell_text(None) == "" and cell_text("  天河 ") == "天河"


def test_every_visible_sheet_is_read_in_order():
    book = Workbook()
    book.active.append(["单位名称"])
    book.active.append(["甲"])
    second = book.create_sheet("成员")
    second.append(["手机号码"])
    hidden = book.create_sheet("lists")
    hidden.append(["x"])
    hidden.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    with open_spreadsheet(out.getvalue(), name="book.xlsx") as spreadsheet:
        assert [(s.title, [cells for _n, cells in s.rows]) for s in spreadsheet.sheets()] == [
            ("Sheet", [["单位名称"], ["甲"]]),
            ("成员", [["手机号码"]]),
        ]


@pytest.mark.parametrize(
    ("name", "data", "word"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", ".xlsx"),
        ("notes.txt", b"x", "CSV"),
        ("broken.xlsx", b"PK\x03\x04junk", "Excel"),
    ],
)
def test_other_files_are_refused_with_a_reason(name, data, word):
    with pytest.raises(SpreadsheetError) as info:
        open_spreadsheet(data, name=name)
    assert word in str(info.value)


def test_an_empty_file_is_refused():
    with pytest.raises(SpreadsheetError):
        open_spreadsheet(b"", name="empty.csv")


def test_an_xlsx_estimates_its_rows_from_its_dimension_and_a_csv_from_its_lines():
    with open_spreadsheet(xlsx([["单位名称"], ["a"], ["b"], ["c"]]), name="s.xlsx") as book:
        assert book.estimated_rows == 3
    with open_spreadsheet("单位名称\na\nb\n".encode(), name="s.csv") as book:
        assert book.estimated_rows == 2


# --- headings ------------------------------------------------------------------------------------------
def test_headings_match_in_chinese_or_english_with_marks_and_spacing():
    assert header_key("单位名称*") == header_key("单位名称（必填）") == header_key(" 单位 名称 ")
    assert header_key("Region") == header_key("REGION") == "region"
    found = HeaderMap(COLUMNS).match(["Name", "区域编码*"])
    assert found == {"name": 0, "code": 1}


def test_the_heading_row_is_found_below_a_title_and_columns_are_normalised():
    data = "2026年天河区网格摸底表,,\n,,\n序号,单位名称,区域编码\n1,石牌街道办事处,ab01\n".encode()
    with open_spreadsheet(data, name="survey.csv") as book:
        sheet = next(book.sheets())
        header = HeaderMap(COLUMNS).locate(sheet)
        assert header.number == 3
        assert [header.values(cells) for _n, cells in sheet.rows] == [{"name": "石牌街道办事处", "code": "AB01"}]


def test_a_short_row_reads_as_empty_cells():
    data = "单位名称,区域编码\n石牌\n".encode()
    with open_spreadsheet(data, name="s.csv") as book:
        sheet = next(book.sheets())
        header = HeaderMap(COLUMNS).locate(sheet)
        assert [header.values(cells) for _n, cells in sheet.rows] == [{"name": "石牌", "code": ""}]


def test_a_missing_required_column_is_named():
    book = open_spreadsheet("区域编码\n440106\n".encode(), name="s.csv")
    with translation.override("zh-hans"), book, pytest.raises(SpreadsheetError) as info:
        HeaderMap(COLUMNS).locate(next(book.sheets()))
    assert "单位名称" in str(info.value)
