"""The tests every model gets by declaring a `Case` in its app's `tests/cases.py` (jiketong/testing_views.py).

One world for the module (`shared_world`, rolled back at its end); each test runs in a savepoint inside it. The
reader is the case's persona (Alice unless declared), the probe the nearest customer the reader must not see
(testing_views.PROBE): the reader's rows show, the probe's never, and the probe's answer 404 like a missing id.
"""

import json
import re

import pytest
from django.urls import get_resolver

from jiketong.core.models import AuditEvent
from jiketong.testing_views import (
    OWN,
    PROBE,
    Case,
    Visitor,
    Write,
    all_cases,
    all_routes,
    api_ids,
    api_url,
    claimed_routes,
    error_shape,
    form_errors,
    form_values,
    shape,
    text_of,
    url,
)

pytestmark = pytest.mark.django_db
CASES = all_cases()
MISSING_ID = 987_654_321


def params(check: str, wanted) -> list:
    """The cases that have what the check needs, each marked xfail (strict) where the case says it fails."""
    out = []
    for case in CASES:
        if wanted(case):
            marks = [pytest.mark.xfail(strict=True, reason=case.xfail[check])] if check in case.xfail else []
            out.append(pytest.param(case, id=case.name, marks=marks))
    return out


def people(world, case: Case):
    """(the reader's visitor, the reader's customer, the probed customer)."""
    probe = case.probe or PROBE.get(case.reader)
    theirs = getattr(world, probe) if probe else None
    return Visitor(getattr(world, case.reader)), getattr(world, OWN[case.reader]), theirs


def label(case: Case, pk, customer) -> str:
    if case.label:
        return case.label(case.model.objects.get(pk=pk))
    return url(case.detail, row=pk, customer=customer.pk)


def counts(case: Case) -> tuple[int, int]:
    return case.model.objects.count(), AuditEvent.objects.count()


# --- the meta-test: a model with a list or a detail route declares itself ------------------------------------
SKIP = ("admin/", "static/", "media/", "__debug__/", "accounts/", "i18n/", "healthz", "api/v1/docs")


def list_or_detail_routes() -> list[str]:
    """Routes without ids (a list, or a page of no record) and routes that end in an id (a record's detail)."""
    out = []
    for route in all_routes(get_resolver(), SKIP):
        if not route.kwargs or re.search(r"<[^>]+>/?$", route.path):
            out.append(route.path)
    return out


def test_every_list_and_detail_route_has_a_declaration():
    """A new model's list or detail page (or API route) fails here until its app's tests/cases.py declares a
    Case for it (and so gets the generated tests), or names the route in OTHER_ROUTES (no model's)."""
    claimed = claimed_routes(CASES)
    missing = sorted(path for path in list_or_detail_routes() if shape(path) not in claimed)
    assert not missing, "declare a Case (or OTHER_ROUTES) in the app's tests/cases.py for:\n" + "\n".join(missing)


def test_declared_urls_exist():
    """A declaration naming a route that is gone would silently test nothing."""
    routes = {shape(r.path) for r in all_routes(get_resolver())}
    stale = sorted(c for c in claimed_routes(CASES) if c not in routes)
    assert not stale, stale


def test_every_listed_case_can_be_found_on_its_list():
    """A list check needs something to look for: the row's detail link, or a declared label."""
    assert not [case.name for case in CASES if case.list and not (case.detail or case.label)]


# --- reads ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", params("list", lambda c: c.list))
def test_list_shows_the_readers_row_and_not_the_probes(shared_world, case):
    visitor, mine, theirs = people(shared_world, case)
    response = visitor.request("get", url(case.list) + case.query)
    assert response.status_code == 200
    text = text_of(response)
    assert label(case, case.row(mine), mine) in text, f"{case.reader}'s row is not on {case.list}"
    if not case.unscoped:
        assert case.row(theirs) != case.row(mine), "the world gives the reader and the probe the same row"
        assert label(case, case.row(theirs), theirs) not in text, f"{case.list} shows {theirs}'s row"


@pytest.mark.parametrize("case", params("detail", lambda c: c.detail))
def test_detail_answers_in_scope_and_404_outside(shared_world, case):
    visitor, mine, theirs = people(shared_world, case)
    assert visitor.request("get", url(case.detail, row=case.row(mine), customer=mine.pk)).status_code == 200
    assert visitor.request("get", url(case.detail, row=MISSING_ID, customer=mine.pk)).status_code == 404
    if not case.unscoped:
        assert visitor.request("get", url(case.detail, row=case.row(theirs), customer=theirs.pk)).status_code == 404


@pytest.mark.parametrize("case", params("api_list", lambda c: c.api_list))
def test_api_list_has_the_readers_row_and_not_the_probes(shared_world, case):
    visitor, mine, theirs = people(shared_world, case)
    response = visitor.request("get", api_url(case.api_list, customer=mine.pk) + case.query)
    assert response.status_code == 200, response.content[:300]
    ids = api_ids(response, case.api_key)

    def value(customer):
        pk = case.row(customer)
        return case.api_value(case.model.objects.get(pk=pk)) if case.api_value else pk

    assert value(mine) in ids
    if not case.unscoped and "{customer}" not in case.api_list:
        assert value(theirs) not in ids
    if "{customer}" in case.api_list and not case.unscoped:
        response = visitor.request("get", api_url(case.api_list, customer=theirs.pk))
        assert response.status_code == 404, "the list of a customer outside the scope answers"
        assert not error_shape(response)


@pytest.mark.parametrize("case", params("api_detail", lambda c: c.api_detail))
def test_api_detail_answers_in_scope_and_404_with_the_error_shape_outside(shared_world, case):
    visitor, mine, theirs = people(shared_world, case)
    response = visitor.request("get", api_url(case.api_detail, row=case.row(mine), customer=mine.pk))
    assert response.status_code == 200, response.content[:300]
    body = json.loads(response.content)
    assert body.get("id", case.row(mine)) == case.row(mine)
    outside = [api_url(case.api_detail, row=MISSING_ID, customer=mine.pk)]
    if not case.unscoped:
        outside.append(api_url(case.api_detail, row=case.row(theirs), customer=theirs.pk))
    for path in outside:
        response = visitor.request("get", path)
        assert response.status_code == 404, path
        assert not error_shape(response), path


@pytest.mark.parametrize("case", params("api_bad_id", lambda c: c.api_detail))
def test_api_detail_refuses_a_malformed_id_with_the_error_shape(shared_world, case):
    visitor, mine, _theirs = people(shared_world, case)
    response = visitor.request("get", api_url(case.api_detail, row="x", customer=mine.pk))
    assert response.status_code in (404, 422), response.content[:300]
    assert not error_shape(response)


# --- writes --------------------------------------------------------------------------------------------------
WRITES = ("create", "edit", "delete", "api_create", "api_edit")


def write_params(check: str, valid: bool, wanted=lambda case: True) -> list:
    out = []
    for case in filter(wanted, CASES):
        for kind in WRITES:
            write = getattr(case, kind)
            if write is None or (not valid and write.invalid is None):
                continue
            key = f"{check}:{kind}"
            marks = [pytest.mark.xfail(strict=True, reason=case.xfail[key])] if key in case.xfail else []
            out.append(pytest.param(case, kind, id=f"{case.name}-{kind}", marks=marks))
    return out


def target_of(case: Case, kind: str, customer):
    """The id in a write's URL: the customer for a create, the customer's row for an edit or a delete."""
    return None if kind in ("create", "api_create") else case.row(customer)


def post(visitor, case: Case, kind: str, customer, data):
    """Send the write; `data` is the write's data or a function of (world, row) giving it."""
    write, row = getattr(case, kind), target_of(case, kind, customer)
    row = customer.pk if row is None else row  # a create's id (`customers/<pk>/contacts/new/`) is the customer's
    if kind.startswith("api_"):
        method = "post" if kind == "api_create" else "patch"
        return visitor.request(method, api_url(write.url, row=row, customer=customer.pk), data)
    page = url(write.url, row=row, customer=customer.pk)
    form = visitor.request("get", page)
    return visitor.request("post", page, form_values(form) | data if form.status_code == 200 else data)


def data_of(write: Write, world, target) -> dict:
    return write.data(world, target) if callable(write.data) else write.data


@pytest.mark.parametrize("case, kind", write_params("valid", True))
def test_a_valid_write_saves_and_audits(shared_world, case, kind):
    write = getattr(case, kind)
    visitor, customer = Visitor(getattr(shared_world, case.writer)), getattr(shared_world, OWN[case.writer])
    row = target_of(case, kind, customer)
    rows, audits = counts(case)
    response = post(visitor, case, kind, customer, data_of(write, shared_world, row or customer))
    assert response.status_code in (200, 201, 204, 302, 303), response.content[:500]
    if not kind.startswith("api_"):
        assert not form_errors(response), form_errors(response)
    if kind in ("create", "api_create"):
        assert case.model.objects.count() == rows + 1
    elif write.changed:
        assert write.changed(case.model.objects.filter(pk=row).first())
    elif kind == "delete":
        assert not case.model.objects.filter(pk=row).exists()
    if write.audited:
        assert AuditEvent.objects.count() > audits, "the write left no audit line"


@pytest.mark.parametrize("case, kind", write_params("invalid", False))
def test_an_invalid_write_answers_field_errors_and_writes_nothing(shared_world, case, kind):
    write = getattr(case, kind)
    visitor, customer = Visitor(getattr(shared_world, case.writer)), getattr(shared_world, OWN[case.writer])
    before = counts(case)
    response = post(visitor, case, kind, customer, write.invalid)
    if kind.startswith("api_"):
        assert response.status_code in (400, 422), response.content[:300]
        assert not error_shape(response)
        assert json.loads(response.content)["errors"], "an API error without field errors"
    else:
        assert response.status_code in (200, 400, 422)
        assert form_errors(response), "the page shows no field error"
    assert counts(case) == before


@pytest.mark.parametrize("case, kind", write_params("forbidden", True, lambda case: case.not_writer))
def test_a_role_that_may_not_write_gets_403(shared_world, case, kind):
    write = getattr(case, kind)
    visitor, customer = Visitor(getattr(shared_world, case.not_writer)), getattr(shared_world, OWN[case.writer])
    row = target_of(case, kind, customer)
    before = counts(case)
    response = post(visitor, case, kind, customer, data_of(write, shared_world, row or customer))
    assert response.status_code == 403
    assert counts(case) == before
