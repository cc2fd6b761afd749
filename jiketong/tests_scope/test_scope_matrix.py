"""The scope matrix: every page and API route, walked as users of different scopes.

The routes are read from the URL resolver when the tests run, so a new page or endpoint is checked
the day it is added. For a route with ids in its path, each persona asks for an object of a customer
outside their scope and for an id that does not exist: the answers must be identical (404 for GET),
so a response never tells whether an out-of-scope record exists, and nothing may be written or
revealed. List pages and endpoints, with and without a search for the hidden names, must not name
out-of-scope customers, their contacts or their members; nor may the detail pages of customers the
persona does see (hierarchies and affiliations count hidden units, never name them).

To cover a new kind of object, teach `KINDS` how to find one for a customer; `test_every_id_route_is_covered`
fails until then. An app built on the archive does that in its own `tests/scope.py` (see `APP_HOOKS`):
`populate(world, customers)` creates its objects for each customer of the world, `KINDS` finds them,
and optionally `UNSCOPED` (kind → a function returning an id anyone may read) and `NOT_LISTS`.
"""

import io
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from jiketong import testing
from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Subscription
from jiketong.core.models import AuditEvent
from jiketong.core.registry import app_modules
from jiketong.customers.models import Affiliation, CompetitorPresence, Contact, Member
from jiketong.customers.search import initials_variants
from jiketong.org.services import token_issue

SKIP_PREFIXES = ("admin/", "static/", "media/", "__debug__/")
# Routes without ids that change state or are not data pages.
NOT_LISTS = {"accounts/login/", "accounts/logout/", "i18n/setlang/", "healthz", "api/v1/docs"}
# Objects that are not customer data: everyone may read the org tree and the catalog.
UNSCOPED_KINDS = {"unit", "org_unit", "product"}
MISSING_ID = 987_654_321
METHODS = ["get", "post", "patch", "delete"]

# kind → how to find the object of that kind belonging to a customer
KINDS = {
    "customer": lambda c: c.pk,
    "contact": lambda c: Contact.objects.filter(customer=c).first().pk,
    "member": lambda c: Member.objects.filter(customer=c).first().pk,
    "competitor": lambda c: CompetitorPresence.objects.filter(customer=c).first().pk,
    "presence": lambda c: CompetitorPresence.objects.filter(customer=c).first().pk,
    "affiliation": lambda c: Affiliation.objects.filter(customer=c).first().pk,
    "subscription": lambda c: Subscription.objects.filter(customer=c).first().pk,
}
UNSCOPED_IDS: dict = {}


APP_HOOKS = app_modules("tests.scope")
for _hook in APP_HOOKS:
    KINDS.update(getattr(_hook, "KINDS", {}))
    UNSCOPED_IDS.update(getattr(_hook, "UNSCOPED", {}))
    NOT_LISTS |= set(getattr(_hook, "NOT_LISTS", ()))
UNSCOPED_KINDS = UNSCOPED_KINDS | set(UNSCOPED_IDS)

# Staff are scoped by province, not by customer: each persona probes a colleague in another province.
STAFF_KIND = "staff"


# --- routes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    path: str  # e.g. "customers/<int:pk>/contacts/new/"
    kwargs: tuple[tuple[str, str], ...]  # (name, kind) in path order

    def url(self, values: dict[str, int]) -> str:
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.path)

    def __str__(self) -> str:
        return self.path


def _walk(patterns, prefix=""):
    for pattern in patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            yield text


def _kind(name: str, path: str) -> str:
    """`contact_pk` → contact; `pk` or `id` → the collection it follows (`subscriptions/<pk>` → subscription)."""
    if name not in ("pk", "id"):
        return re.sub(r"_(pk|id)$", "", name)
    before = path[: path.index(f"<{name}>") if f"<{name}>" in path else path.index(f":{name}>")]
    segment = [s for s in before.split("/") if s and "<" not in s][-1]
    segment = segment.replace("-", "_")
    return segment[:-1] if segment.endswith("s") else segment


def all_routes() -> list[Route]:
    routes = []
    for text in dict.fromkeys(_walk(get_resolver().url_patterns)):
        if text.startswith(SKIP_PREFIXES) or "(?P" in text or text.startswith("^"):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", text)
        routes.append(Route(text, tuple((name, _kind(name, text)) for name in names)))
    return routes


ROUTES = all_routes()
ID_ROUTES = [r for r in ROUTES if r.kwargs and not {kind for _n, kind in r.kwargs} <= UNSCOPED_KINDS]
LIST_ROUTES = [r for r in ROUTES if not r.kwargs and r.path not in NOT_LISTS]


# --- the world ----------------------------------------------------------------------------------
CUSTOMERS = ["alice_customer", "bob_customer", "backed_up", "shenzhen_customer", "zhejiang_customer", "hangzhou_unit"]
# Who sees which customer (see jiketong/testing.py; hangzhou_unit is a Zhejiang unit of Alice's group).
VISIBLE = {
    "alice": {"alice_customer", "backed_up"},
    "bob": {"bob_customer", "backed_up"},
    "ivan": {"shenzhen_customer"},
    "carol": {"alice_customer", "bob_customer", "backed_up"},
    "dave": {"zhejiang_customer", "hangzhou_unit"},
    "grace": {"alice_customer", "bob_customer", "backed_up", "shenzhen_customer"},
}
# The out-of-scope customer each persona probes: the nearest one they must not see.
PROBE = {
    "alice": "bob_customer",
    "bob": "alice_customer",
    "ivan": "alice_customer",
    "carol": "shenzhen_customer",
    "dave": "backed_up",
    "grace": "zhejiang_customer",
}
PERSONAS = list(PROBE)
STAFF_PROBE = {"alice": "dave", "bob": "dave", "ivan": "dave", "carol": "dave", "dave": "alice", "grace": "dave"}


@pytest.fixture
def world(cast):
    cast.hangzhou_unit = testing.make_customer(
        org_unit=cast.org["330106"], parent=cast.alice_customer, name="广州地铁杭州设计分院"
    )
    product = Product.objects.create(
        code="VNET",
        name="集团V网",
        category=ProductCategory.VOICE,
        billing_unit=BillingUnit.PER_MEMBER,
        standard_price=Decimal("10.00"),
    )
    customers = [getattr(cast, name) for name in CUSTOMERS]
    cast.secrets = {}
    customers_by_name = {name: getattr(cast, name) for name in CUSTOMERS}
    for i, customer in enumerate(customers):
        contact = Contact.objects.create(
            customer=customer, name=f"联系人{'甲乙丙丁戊己'[i]}某", mobile=f"1391111000{i}"
        )
        member = Member.objects.create(customer=customer, phone=f"1382222000{i}", joined_on=date(2024, 1, 1))
        CompetitorPresence.objects.create(customer=customer, competitor="china_telecom", products="宽带")
        Subscription.objects.create(
            customer=customer, product=product, contracted_price=Decimal("10.00"), start_on=date(2024, 1, 1)
        )
        cast.secrets[CUSTOMERS[i]] = [customer.name, customer.uscc, contact.name, contact.mobile, member.phone]
    # Every customer is affiliated with the next one, so in-scope pages point at hidden customers.
    for i, customer in enumerate(customers):
        Affiliation.objects.create(
            customer=customer, related=customers[(i + 1) % len(customers)], kind="equity", direction="controls"
        )
    for hook in APP_HOOKS:
        hook.populate(cast, customers_by_name)
    return cast


class Visitor:
    """A persona's browser (session) and API client (bearer token)."""

    def __init__(self, staff):
        self.browser = Client()
        self.browser.force_login(staff.user)
        self.api = Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")

    def request(self, method: str, url: str):
        client = self.api if url.startswith("/api/") else self.browser
        if method in ("patch", "post") and url.startswith("/api/"):
            return getattr(client, method)(url, data="{}", content_type="application/json")
        return getattr(client, method)(url)


def covered(route: Route) -> bool:
    return all(kind in KINDS or kind in UNSCOPED_KINDS or kind == STAFF_KIND for _n, kind in route.kwargs)


def ids_for(route: Route, customer, staff) -> dict[str, int]:
    """Ids for the route's path: the customer's own objects, `staff` for a colleague's id."""
    values = {}
    for name, kind in route.kwargs:
        if kind == STAFF_KIND:
            values[name] = staff.pk
        elif kind in KINDS:
            values[name] = KINDS[kind](customer)
        else:
            values[name] = _unscoped_id(kind)
    return values


def _unscoped_id(kind: str) -> int:
    from jiketong.org.models import OrgUnit

    if kind in UNSCOPED_IDS:
        return UNSCOPED_IDS[kind]()
    return {"unit": OrgUnit.objects.first, "org_unit": OrgUnit.objects.first, "product": Product.objects.first}[
        kind
    ]().pk


def missing_ids(route: Route) -> dict[str, int]:
    return {name: (MISSING_ID if kind not in UNSCOPED_KINDS else _unscoped_id(kind)) for name, kind in route.kwargs}


def text_of(response) -> str:
    """What a person could read in the response: HTML, JSON with Chinese unescaped, or a workbook's cells."""
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(json.loads(response.content), ensure_ascii=False)
    if "spreadsheet" in response.get("Content-Type", ""):
        from openpyxl import load_workbook

        raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
        book = load_workbook(io.BytesIO(raw), read_only=True)
        return " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


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
    assert not unknown, f"teach KINDS how to find these objects: {sorted(unknown)}"


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
