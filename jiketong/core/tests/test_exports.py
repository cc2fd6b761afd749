"""Exports (core.exports, decision 0019): streamed, complete, bounded in queries, in the background past a size,
downloadable only by whoever asked, audited either way."""

import io
import os
import time
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jiketong import testing
from jiketong.core import exports, xlsx
from jiketong.core.models import AuditAction, AuditEvent, Notification
from jiketong.customers import queries as customer_queries

CHUNK = 20


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 20 rows fetched and 10 rows written between hand-outs, so 60 rows make a large export."""
    monkeypatch.setattr(exports, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(xlsx, "FLUSH_ROWS", CHUNK // 2)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return tmp_path


def portfolio(cast, count: int) -> None:
    for _ in range(count):
        testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice)


def sheet_rows(data: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return [row for sheet in workbook for row in sheet.iter_rows(values_only=True)]


def test_a_large_export_streams_its_first_rows_before_the_rest_are_read(cast, client_as, small_chunks):
    portfolio(cast, 3 * CHUNK)
    expected = customer_queries.customer_list(cast.alice.user)[1].count()
    response = client_as(cast.alice).get(reverse("customers:export"))
    assert isinstance(response, StreamingHttpResponse)
    progress, chunks = [], []
    for chunk in response.streaming_content:
        chunks.append(chunk)
        progress.append(response.export.written)
    assert any(0 < written < expected for written in progress[:-1])  # rows on their way while more are unread
    rows = sheet_rows(b"".join(chunks))
    assert len(rows) - 1 == expected == response.export.written
    assert AuditEvent.objects.get(action=AuditAction.EXPORT).after == {"count": expected, "filters": ""}


def test_export_queries_do_not_grow_with_rows(cast, client_as, small_chunks):
    def queries_of_one_export() -> int:
        client = client_as(cast.alice)
        with CaptureQueriesContext(connection) as captured:
            b"".join(client.get(reverse("customers:export")).streaming_content)
        return len(captured)

    portfolio(cast, 2)
    few = queries_of_one_export()
    portfolio(cast, 3 * CHUNK)
    assert queries_of_one_export() == few


def test_the_export_holds_exactly_the_filtered_rows(cast, client_as):
    portfolio(cast, 5)
    response = client_as(cast.carol).get(reverse("customers:export"), {"grade": "C", "page": "3"})
    expected = customer_queries.customer_list(cast.carol.user, {"grade": "C"})[1].count()
    assert len(sheet_rows(response.getvalue())) - 1 == expected
    assert AuditEvent.objects.get(action=AuditAction.EXPORT).after == {"count": expected, "filters": "grade=C"}


def test_past_the_threshold_the_export_is_prepared_in_the_background(
    cast, client_as, settings, var_dir, django_capture_on_commit_callbacks
):
    portfolio(cast, 3)
    settings.EXPORT_INLINE_MAX_ROWS = 2
    expected = customer_queries.customer_list(cast.alice.user)[1].count()
    client = client_as(cast.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("customers:export"), HTTP_REFERER="http://testserver/customers/?grade=C")
    assert response.status_code == 302 and response["Location"] == "http://testserver/customers/?grade=C"
    notification = Notification.objects.get(recipient=cast.alice.user, kind="export")
    assert f"（{expected} 行）" in notification.title and notification.url.startswith("/exports/")
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor, event.after) == (cast.alice.user, {"count": expected, "filters": "", "background": True})
    download = client.get(notification.url)
    assert download.status_code == 200
    assert 'filename="customers.xlsx"' in download["Content-Disposition"]
    assert len(sheet_rows(download.getvalue())) - 1 == expected


def test_nobody_else_can_download_a_prepared_export_and_it_expires(
    cast, client_as, settings, var_dir, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_MAX_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        client_as(cast.alice).get(reverse("customers:export"))
    url = Notification.objects.get(recipient=cast.alice.user, kind="export").url
    assert client_as(cast.bob).get(url).status_code == 404
    assert client_as(cast.frank).get(url).status_code == 404
    assert client_as(cast.alice).get(reverse("exports:download", args=["0" * 32])).status_code == 404
    assert client_as(cast.alice).get(reverse("exports:download", args=["..%2F.."])).status_code == 404
    old = time.time() - (settings.EXPORT_KEEP_DAYS + 1) * 86400
    for path in (var_dir / "exports").glob("*/*"):
        for inner in path.iterdir():
            os.utime(inner, (old, old))
        os.utime(path, (old, old))
    assert client_as(cast.alice).get(url).status_code == 404
    assert exports.purge() == 1
    assert not list((var_dir / "exports").glob("*/*"))


@pytest.mark.parametrize("page", ["customers:list", "churn:warnings", "audit:list", "deals:order_list"])
def test_the_list_page_says_when_an_export_goes_to_the_background(cast, client_as, settings, page):
    settings.EXPORT_INLINE_MAX_ROWS = 50_000
    html = client_as(cast.frank).get(reverse(page)).content.decode()
    assert "不超过 50,000 行的导出立即下载" in html and "保留 7 天" in html


def test_a_cap_is_said_on_screen_in_the_file_and_in_the_audit(cast, client_as, settings):
    portfolio(cast, 3)
    settings.EXPORT_MAX_ROWS = 2
    total = customer_queries.customer_list(cast.alice.user)[1].count()
    assert "每个文件最多 2 行" in client_as(cast.alice).get(reverse("customers:list")).content.decode()
    rows = sheet_rows(client_as(cast.alice).get(reverse("customers:export")).getvalue())
    assert len(rows) == 1 + 2 + 1
    assert f"只含 {total} 行中的前 2 行" in rows[-1][0]
    assert AuditEvent.objects.get(action=AuditAction.EXPORT).after == {"count": 2, "filters": "", "capped_at": 2}


def test_a_workbook_longer_than_a_sheet_continues_on_the_next_one():
    rows = [[n] for n in range(5)]
    workbook = load_workbook(io.BytesIO(b"".join(xlsx.stream("客户", ["n"], rows, sheet_rows=3))))
    assert workbook.sheetnames == ["客户", "客户 (2)", "客户 (3)"]
    assert [[r[0] for r in sheet.iter_rows(values_only=True)] for sheet in workbook] == [
        ["n", 0, 1],
        ["n", 2, 3],
        ["n", 4],
    ]


def test_cells_keep_their_types_and_stored_bad_text_is_cleaned():
    at = timezone.make_aware(datetime(2026, 3, 1, 9, 30))
    row = ["=HYPERLINK(1)", 3, Decimal("1.50"), date(2026, 1, 2), at, None, True, "a\x01b<&>\ud800"]
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.stream("x", list("abcdefgh"), [row])))).active
    cells = [cell for cell in sheet[2]]
    assert cells[0].value == "=HYPERLINK(1)" and cells[0].data_type == "s"
    assert [c.value for c in cells[1:5]] == [3, 1.5, datetime(2026, 1, 2), datetime(2026, 3, 1, 9, 30)]
    assert cells[5].value is None and cells[6].value is True and cells[7].value == "ab<&>\ufffd"


def test_csv_is_utf8_with_a_byte_order_mark_and_local_times():
    at = timezone.make_aware(datetime(2026, 3, 1, 9, 30))
    text = b"".join(exports.stream_csv(["名称", "时间"], [["广州\x01地铁", at]])).decode("utf-8")
    assert text == "\ufeff名称,时间\r\n广州地铁,2026-03-01 09:30:00\r\n"
