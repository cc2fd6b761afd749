"""The list page, one way for every app (issue 16): a page of rows read and counted in the database, and the
same template's partial when HTMX asks for a fragment (STYLE §7).

A list view is its query and this:

    lead_filter, leads = queries.lead_list(request.user, request.GET)
    return list_page(request, "sales/lead_list.html", leads, per_page=20, context={"filter": lead_filter})

`paginate` alone serves the pages that show a list among other things (the 360 page's members, a report's two
lists), `render_htmx` the ones that dress the page's rows before drawing them (the defence board's days since
the last visit). Lists that grow with the scope are counted up to a cap (`capped`, decision 0605); the few
that stay small (a run log, a customer's contacts) count exactly. The export link carries the list's query
string (`?{{ request.GET.urlencode }}`) to the app's export view, which reads through the same query and
answers with core.exports.respond (streamed, audited).
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .htmx import is_partial
from .paging import CappedPaginator

Context = Mapping[str, Any] | Callable[[Page], Mapping[str, Any]] | None


def paginate(
    request: HttpRequest,
    rows: QuerySet | list,
    per_page: int,
    *,
    param: str = "page",
    capped: bool = True,
    cap: int | None = None,
) -> Page:
    """The page the request asks for in `param` (`members_page`…): a number past the end gives the last page,
    anything that is not a number the first. Counted up to `cap` (by default CappedPaginator's,
    LIST_COUNT_CAP; `page.paginator.capped` says there are more) unless `capped` is False."""
    if not capped:
        paginator = Paginator(rows, per_page)
    else:
        paginator = CappedPaginator(rows, per_page) if cap is None else CappedPaginator(rows, per_page, cap=cap)
    return paginator.get_page(request.GET.get(param))


def render_htmx(
    request: HttpRequest, template: str, context: Mapping[str, Any], *, partial: str = "table", status: int = 200
) -> HttpResponse:
    """The whole page, or only its `{% partialdef partial %}` for an HTMX request for a fragment."""
    name = f"{template}#{partial}" if is_partial(request) else template
    return render(request, name, context, status=status)


def list_page(
    request: HttpRequest,
    template: str,
    rows: QuerySet | list,
    *,
    per_page: int,
    context: Context = None,
    partial: str = "table",
    param: str = "page",
    capped: bool = True,
    cap: int | None = None,
) -> HttpResponse:
    """A page of `rows` as `page` in the template, with `context` (a dict, or a function of the page for what is
    worked out from its rows); the `partial` alone for HTMX."""
    page = paginate(request, rows, per_page, param=param, capped=capped, cap=cap)
    extra = context(page) if callable(context) else context or {}
    return render_htmx(request, template, {"page": page, **extra}, partial=partial)
