"""Exports of any list (decision 0019): streamed in constant memory, in the background past a size, always audited.

An export is a *builder*: a module-level function `(user, params) -> Table` that reads through the app's
scoped queries. `respond` counts the table (one COUNT), then either streams it in the request (first bytes at
once, rows fetched `CHUNK_ROWS` at a time) or, past `EXPORT_INLINE_MAX_ROWS`, queues the task `run_export`,
which calls the same builder as the same user in the task worker, writes the file under
`var/exports/<user id>/<token>/`, audits it and sends the user a notification with the download link. Only
that user can download it (`download` looks in the requester's own folder: anybody else gets 404), and only for
`EXPORT_KEEP_DAYS` days. Nothing is dropped silently: a file holds every row unless `EXPORT_MAX_ROWS` is set,
and then the screen, the notification and the file's last row say that it stopped there.

Builders give rows of plain values (a queryset's `values_list`, iterated in chunks), so an export issues the
same few queries whatever its size; the cell cleaning is the one in core.xlsx, for CSV too.
"""

import csv
import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET
from django_tasks import task

from . import xlsx
from .audit import record_export
from .notify import notify

log = logging.getLogger(__name__)

CHUNK_ROWS = 2000  # rows fetched per round trip (queryset.iterator(chunk_size=…))
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Table:
    """What an export writes: the audit's name for it (`what`), the file name without its extension, the
    heading, the rows (made lazily, once) and how many there are (one COUNT, before any row is read)."""

    what: str
    filename: str
    header: Sequence[Any]
    rows: Callable[[], Iterable[Sequence[Any]]]
    count: Callable[[], int]
    sheet: str = ""
    filters: str = ""


def rows_of(queryset, *fields: str) -> Callable[[], Iterator[tuple]]:
    """The rows of a queryset's `values_list(*fields)`, fetched CHUNK_ROWS at a time."""
    return lambda: queryset.values_list(*fields).iterator(chunk_size=CHUNK_ROWS)


def batches(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def cap() -> int:
    """The most rows one file holds (0: every row)."""
    return max(settings.EXPORT_MAX_ROWS, 0)


def note() -> str:
    """What the list pages say next to their export button."""
    text = _("Up to %(rows)s rows download at once; a larger export is prepared in the background and a link arrives "
             "in your notifications, kept for %(days)s days.") % {
        "rows": f"{settings.EXPORT_INLINE_MAX_ROWS:,}", "days": settings.EXPORT_KEEP_DAYS}  # fmt: skip
    if cap():
        text += " " + _("One file holds at most %(cap)s rows.") % {"cap": f"{cap():,}"}
    return text


def _capped_text(total: int) -> str:
    return _("Only the first %(cap)s of %(total)s rows are in this file (EXPORT_MAX_ROWS); narrow the filter for the "
             "rest.") % {"cap": f"{cap():,}", "total": f"{total:,}"}  # fmt: skip


def _filters(params: QueryDict) -> QueryDict:
    params = params.copy()
    params.pop("page", None)
    return params


# --- writing ----------------------------------------------------------------------------------------------------
class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_value(value: Any) -> Any:
    value = xlsx.clean_cell(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value.isoformat()
    return value


def stream_csv(header: Sequence, rows: Iterable[Sequence]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (Excel then reads Chinese right), CHUNK_ROWS rows per piece."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow([str(xlsx.clean_cell(label)) for label in header])).encode()
    for batch in batches(rows, xlsx.FLUSH_ROWS):
        yield "".join(writer.writerow([_csv_value(v) for v in row]) for row in batch).encode()


class _Counted:
    """The rows, counted as they are written (`written`), and stopped at the cap with a last row saying so."""

    def __init__(self, rows: Iterable[Sequence], total: int) -> None:
        self.rows, self.total, self.written = rows, total, 0
        self.capped = False

    def __iter__(self) -> Iterator[Sequence]:
        limit = cap()
        for row in self.rows:
            if limit and self.written >= limit:
                self.capped = True
                yield [_capped_text(max(self.total, self.written + 1))]
                return
            self.written += 1
            yield row


def content(table: Table, fmt: str, total: int) -> tuple[_Counted, Iterator[bytes]]:
    rows = _Counted(table.rows(), total)
    if fmt == "csv":
        return rows, stream_csv(table.header, rows)
    return rows, xlsx.stream(table.sheet or table.filename, table.header, rows)


# --- the request ------------------------------------------------------------------------------------------------
def respond(request: HttpRequest, builder: Callable[..., Table], *, fmt: str = "xlsx", api: bool = False,
            inline: bool = False) -> HttpResponse:  # fmt: skip
    """Stream the builder's table, or past EXPORT_INLINE_MAX_ROWS queue it for the worker and say so (unless
    `inline`: rows already in memory)."""
    params = _filters(request.GET)
    table = builder(request.user, params)
    filters = table.filters or params.urlencode()
    total = table.count()
    if total > settings.EXPORT_INLINE_MAX_ROWS and not inline:
        return _queue(request, builder, params, fmt=fmt, total=total, api=api)
    limit = cap()
    extra = {"capped_at": limit} if limit and total > limit else {}
    record_export(actor=request.user, what=table.what, count=min(total, limit or total), filters=filters, **extra)
    counted, chunks = content(table, fmt, total)
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{table.filename}.{fmt}"'
    response.export = counted  # how far the stream has got (tests)
    return response


def respond_rows(request: HttpRequest, *, what: str, filename: str, header: Sequence, rows: Iterable[Sequence],
                 fmt: str = "xlsx") -> HttpResponse:  # fmt: skip
    """A table already worked out in the request (an indicator table: one row per group, so never large),
    streamed and logged like any export."""
    rows = list(rows)
    table = Table(what=what, filename=filename, header=header, rows=lambda: rows, count=lambda: len(rows))
    return respond(request, lambda _user, _params: table, fmt=fmt, inline=True)


def _queue(request, builder, params: QueryDict, *, fmt: str, total: int, api: bool) -> HttpResponse:
    path = f"{builder.__module__}.{builder.__qualname__}"
    user_id, query, language = request.user.pk, params.urlencode(), translation.get_language()
    transaction.on_commit(lambda: run_export.enqueue(path, user_id, query, fmt, language), robust=True)
    text = ngettext(
        "%(count)s row: the export is being prepared in the background; a link will arrive in your notifications.",
        "%(count)s rows: the export is being prepared in the background; a link will arrive in your notifications.",
        total,
    ) % {"count": f"{total:,}"}
    if cap() and total > cap():
        text += " " + _capped_text(total)
    if api:
        return JsonResponse({"detail": text, "rows": total, "background": True}, status=202)
    messages.info(request, text)
    back = request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = reverse("home")
    return redirect(back)


# --- the worker -------------------------------------------------------------------------------------------------
def root() -> Path:
    return Path(settings.VAR_DIR) / "exports"


@task()
def run_export(builder: str, user_id: int, query: str, fmt: str, language: str | None = None) -> str:
    """An export past EXPORT_INLINE_MAX_ROWS, in the task worker: written, then the user is notified."""
    with translation.override(language):
        return str(run(builder, user_id, query, fmt))


def run(builder_path: str, user_id: int, query: str, fmt: str) -> Path:
    """Write the export as the user who asked for it, audit it, tell them where it is (the task `run_export`)."""
    user = get_user_model().objects.get(pk=user_id)
    builder = import_string(builder_path)
    params = QueryDict(query)
    table = builder(user, params)
    total = table.count()
    token = uuid.uuid4().hex
    folder = root() / str(user.pk) / token
    folder.mkdir(parents=True)
    name = f"{table.filename}.{fmt}"
    partial = folder / f".{name}.part"
    try:
        counted, chunks = content(table, fmt, total)
        with open(partial, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        partial.rename(folder / name)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        notify([user.pk], kind="export", title=_("Your export %(file)s failed; please try again.") % {"file": name})
        raise
    extra = {"background": True} | ({"capped_at": cap()} if counted.capped else {})
    with transaction.atomic():
        record_export(actor=user, what=table.what, count=counted.written, filters=table.filters or query, **extra)
        title = ngettext("Your export is ready: %(file)s (%(count)s row)",
                         "Your export is ready: %(file)s (%(count)s rows)", counted.written) % {
            "file": name, "count": f"{counted.written:,}"}  # fmt: skip
        body = _("The link works for %(days)s days, for you only.") % {"days": settings.EXPORT_KEEP_DAYS}
        if counted.capped:
            body += " " + _capped_text(total)
        notify([user.pk], kind="export", title=title, body=body, url=reverse("exports:download", args=[token]))
    return folder / name


def _expired(path: Path, now: float) -> bool:
    return now - path.stat().st_mtime > settings.EXPORT_KEEP_DAYS * 86400


@require_GET
def download(request: HttpRequest, token: str) -> FileResponse:
    """The requester's own prepared export; anybody else's, an expired one or an unknown token: 404."""
    if not TOKEN.match(token):
        raise Http404
    folder = root() / str(request.user.pk) / token
    files = [p for p in folder.glob("*") if p.is_file() and not p.name.startswith(".")] if folder.is_dir() else []
    if len(files) != 1 or _expired(files[0], time.time()):
        raise Http404
    path = files[0]
    fmt = path.suffix.lstrip(".")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name, content_type=CONTENT_TYPES.get(fmt))


def purge(now: float | None = None) -> int:
    """Delete prepared exports older than EXPORT_KEEP_DAYS (the daily job); returns how many went."""
    now = time.time() if now is None else now
    gone = 0
    for folder in root().glob("*/*"):
        if folder.is_dir() and _expired(folder, now):
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return gone
