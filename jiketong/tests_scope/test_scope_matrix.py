"""The scope matrix: every page and API route, walked as users of different scopes.

The routes are read from the URL resolver when the tests run, so a new page or endpoint is checked
the day it is added. For a route with ids in its path, each persona asks for an object of a customer
outside their scope and for an id that does not exist: the answers must be identical (404 for GET),
so a response never tells whether an out-of-scope record exists, and nothing may be written or
revealed. List pages and endpoints, with and without a search for the hidden names, must not name
out-of-scope customers, their contacts or their members; nor may the detail pages of customers the
persona does see (hierarchies and affiliations count hidden units, never name them).

To cover a new kind of object, declare its model's `Case` in the app's `tests/cases.py` (jiketong/testing_views.py)
with the id names it has in paths (`kinds`) and how to find the row of a customer (`find`) or one anyone may read
(`unscoped`); `test_every_id_route_is_covered` fails until then. The same declarations generate the model's list,
detail, write and API tests (test_generated.py). The app's `tests/scope.py` creates its objects for each customer
of the world (`populate(world, customers)`, see testing_views.build_world), and optionally lists `UNSCOPED` ids
that are no model's row (kind → a function returning one anyone may use) and `NOT_LISTS`.
"""

import pytest
from django.urls import get_resolver

from jiketong.core.models import AuditEvent
from jiketong.core.registry import app_modules
from jiketong.customers.search import initials_variants
from jiketong.testing_views import CUSTOMERS, PROBE, VISIBLE, Route, Visitor, all_cases, all_routes, text_of

SKIP_PREFIXES = ("admin/", "static/", "media/", "__debug__/")
# Routes without ids that change state or are not data pages.
NOT_LISTS = {"accounts/login/", "accounts/logout/", "i18n/setlang/", "healthz", "api/v1/docs"}
MISSING_ID = 987_654_321
METHODS = ["get", "post", "patch", "delete"]

# kind → the cases (jiketong/testing_views.py, each app's tests/cases.py) of models with that id name in paths
CASES_BY_KIND: dict = {}
for _case in all_cases():
    for _kind_name in _case.kinds:
        CASES_BY_KIND.setdefault(_kind_name, []).append(_case)
# Ids that are no model's row (an export's download token): kind → a function returning one anyone may use.
UNSCOPED_IDS: dict = {}
for _hook in app_modules("tests.scope"):
    UNSCOPED_IDS.update(getattr(_hook, "UNSCOPED", {}))
    NOT_LISTS |= set(getattr(_hook, "NOT_LISTS", ()))

# Staff are scoped by province, not by customer: each persona probes a colleague in another province.
STAFF_KIND = "staff"


def case_for(route: Route, kind: str):
    """The case whose model the id `kind` names on this route (by its `paths` when two apps use the name)."""
    cases = CASES_BY_KIND.get(kind, [])
    if len(cases) > 1:
        cases = [c for c in cases if any(route.path.startswith(p) for p in c.paths)] or cases
    return cases[0] if cases else None


def unscoped(route: Route, kind: str) -> bool:
    case = case_for(route, kind)
    return kind in UNSCOPED_IDS if case is None else case.unscoped is not None


ROUTES = all_routes(get_resolver(), SKIP_PREFIXES)
ID_ROUTES = [r for r in ROUTES if r.kwargs and not all(unscoped(r, kind) for _n, kind in r.kwargs)]
LIST_ROUTES = [r for r in ROUTES if not r.kwargs and r.path not in NOT_LISTS]


# --- the world ----------------------------------------------------------------------------------
PERSONAS = list(PROBE)
STAFF_PROBE = {"alice": "dave", "bob": "dave", "ivan": "dave", "carol": "dave", "dave": "alice", "grace": "dave"}


@pytest.fixture
def world(shared_world, db):
    """testing_views.build_world, built once for the module (tests_scope/conftest.py); each test in a savepoint."""
    return shared_world


def covered(route: Route) -> bool:
    return all(
        kind == STAFF_KIND or case_for(route, kind) is not None or kind in UNSCOPED_IDS for _n, kind in route.kwargs
    )


def ids_for(route: Route, customer, staff) -> dict[str, int]:
    """Ids for the route's path: the customer's own objects, `staff` for a colleague's id."""
    values = {}
    for name, kind in route.kwargs:
        if kind == STAFF_KIND:
            values[name] = staff.pk
        elif unscoped(route, kind):
            values[name] = _unscoped_id(route, kind)
        else:
            values[name] = case_for(route, kind).find(customer)
    return values


def _unscoped_id(route: Route, kind: str):
    case = case_for(route, kind)
    return case.unscoped() if case is not None else UNSCOPED_IDS[kind]()


def missing_ids(route: Route) -> dict[str, int]:
    return {name: (_unscoped_id(route, kind) if unscoped(route, kind) else MISSING_ID) for name, kind in route.kwargs}


def hidden_from(persona: str, world) -> list[str]:
    return [s for name in CUSTOMERS if name not in VISIBLE[persona] for s in world.secrets[name] if s]


def leaks(persona: str, text: str, world) -> list[str]:
    return [s for s in hidden_from(persona, world) if s in text]


# --- the matrix ---------------------------------------------------------------------------------
def test_the_matrix_finds_the_routes():
    paths = {r.path for r in ROUTES}
    assert any(p.startswith("api/v1/") for p in paths), "the API routes were not found"
    assert ID_ROUTES, "no route with a customer id was found"


def test_every_id_route_is_covered():
    unknown = sorted({f"{r} ({name} → {kind})" for r in ID_ROUTES if not covered(r) for name, kind in r.kwargs})
    assert not unknown, f"declare a Case (tests/cases.py) with these kinds: {sorted(unknown)}"


def compare(visitor, persona, hidden_url, missing_url, world) -> list[str]:
    """Every method on the out-of-scope URL must answer as on a missing one; GET, where allowed, with 404."""
    wrong = []
    for method in METHODS:
        hidden, missing = visitor.request(method, hidden_url), visitor.request(method, missing_url)
        if hidden.status_code != missing.status_code or (method == "get" and hidden.status_code not in (403, 404, 405)):
            wrong.append(f"{method.upper()} {hidden_url}: {hidden.status_code} (missing id: {missing.status_code})")
        elif hidden.status_code != 405 and (found := leaks(persona, text_of(hidden), world)):
            wrong.append(f"{method.upper()} {hidden_url} names {found}")
    return wrong


@pytest.mark.parametrize("persona", PERSONAS)
def test_out_of_scope_ids_answer_exactly_like_missing_ones(world, persona):
    visitor = Visitor(getattr(world, persona))
    probe, staff = getattr(world, PROBE[persona]), getattr(world, STAFF_PROBE[persona])
    events = AuditEvent.objects.count()
    wrong = []
    for route in filter(covered, ID_ROUTES):
        wrong += compare(
            visitor, persona, route.url(ids_for(route, probe, staff)), route.url(missing_ids(route)), world
        )
    assert not wrong, f"{persona} probing {PROBE[persona]}:\n" + "\n".join(wrong)
    assert AuditEvent.objects.count() == events, "an out-of-scope request wrote or revealed something"


@pytest.mark.parametrize("persona", PERSONAS)
def test_nested_object_of_another_customer_is_not_found_under_a_visible_one(world, persona):
    """`customers/<mine>/contacts/<theirs>`: the child must belong to the customer in the path."""
    visitor = Visitor(getattr(world, persona))
    mine, theirs = getattr(world, sorted(VISIBLE[persona])[0]), getattr(world, PROBE[persona])
    events = AuditEvent.objects.count()
    wrong = []
    for route in filter(covered, ID_ROUTES):
        kinds = [kind for _n, kind in route.kwargs]
        if len(kinds) < 2 or kinds[0] != "customer":
            continue
        first = route.kwargs[0][0]
        hidden = route.url(ids_for(route, theirs, None) | {first: mine.pk})
        missing = route.url(missing_ids(route) | {first: mine.pk})
        wrong += compare(visitor, persona, hidden, missing, world)
    assert not wrong, "\n".join(wrong)
    assert AuditEvent.objects.count() == events, "a request through the wrong customer wrote or revealed something"


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_never_name_out_of_scope_customers(world, persona):
    visitor = Visitor(getattr(world, persona))
    name, uscc, contact = world.secrets[PROBE[persona]][:3]
    # Search for the hidden customer too. Pages may echo what was typed (the search box, the export
    # line in the audit log), so once a term has been typed it no longer counts as a leak.
    typed = {uscc, name, contact}
    searches = [("", set()), (f"?search={initials_variants(name)[0]}", set())]
    searches += [(f"?search={term}", typed) for term in (uscc, name, contact)]
    wrong = []
    for query, echoed in searches:
        for route in LIST_ROUTES:
            url = route.url({}) + query
            response = visitor.request("get", url)
            if response.status_code >= 500:
                wrong.append(f"GET {url}: {response.status_code}")
            elif found := [s for s in leaks(persona, text_of(response), world) if s not in echoed]:
                wrong.append(f"GET {url} names {found}")
    assert not wrong, f"{persona}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_of_visible_customers_never_name_hidden_ones(world, persona):
    visitor = Visitor(getattr(world, persona))
    wrong = []
    for name in sorted(VISIBLE[persona]):
        customer = getattr(world, name)
        for route in filter(covered, ID_ROUTES):
            if any(kind == STAFF_KIND for _n, kind in route.kwargs):
                continue  # staff pages name colleagues, not customers
            url = route.url(ids_for(route, customer, None))
            response = visitor.request("get", url)
            if response.status_code == 404:
                wrong.append(f"GET {url}: 404 for a customer {persona} sees")
            elif response.status_code == 200 and (found := leaks(persona, text_of(response), world)):
                wrong.append(f"GET {url} names {found}")
    assert not wrong, f"{persona}:\n" + "\n".join(wrong)
