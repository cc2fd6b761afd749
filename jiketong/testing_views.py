"""The generated tests' base: each model declares a `Case` in its app's `tests/cases.py`, and gets its tests.

Like NetBox's ViewTestCases / APIViewTestCases (utilities/testing/), but plain data and functions: a case names
its model, how to find the model's row of a customer in the matrix world (`find`), or one everyone may read
(`unscoped`), and the URLs it has. jiketong/tests_scope/test_generated.py turns every case into tests:

- the list page shows the reader's row and not the probe's (the nearest customer the reader must not see);
- the detail page answers 200 for the reader's row and 404 for the probe's (as for an id that does not exist);
- the same through the API: the list's items, the detail, 404 with the one error shape outside the scope;
- the writes it declares (`Write`): valid data saves (and audits), invalid data answers field errors and writes
  nothing, and a persona that may not write (`not_writer`) gets 403 and writes nothing;
- bad API input answers 400/422 with `{"detail", "errors"}` and writes nothing.

The scope matrix (test_scope_matrix.py) reads the same cases: a case's `kinds` are the id names of the model in
URL paths (`<int:lead_pk>`, `{lead_id}` and `leads/<pk>` all read "lead"), and `find`/`unscoped` are how the
matrix gets an id of that kind for a customer. The world both use is built by `build_world` below: the cast of
jiketong/testing.py, a contact, a member, a competitor, a subscription and an affiliation per customer, and what
each app's `tests/scope.py` `populate(world, customers)` adds.

Declaring a model (see docs/developing.md, "Testing"):

    CASES = [
        Case(Lead, kinds=("lead",), find=lambda c: Lead.objects.filter(customer=c).first().pk,
             list="sales:lead_list", detail="sales:lead_detail",
             api_list="/api/v1/leads", api_detail="/api/v1/leads/{id}"),
    ]

A check the current code fails is marked in the case, `xfail={"detail": "why"}` (strict: it fails once fixed).
"""

import functools
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms as django_forms
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from jiketong import testing
from jiketong.core.registry import app_modules

# --- the declarations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """A write through a page or the API: the URL (a URL name for a page, a path for the API: `{id}` the row,
    `{customer}` the row's customer), the valid data and data that must answer field errors (`None`: no
    invalid check). A page's form is first read (GET) and its values posted back with `data` over them, as a
    person would: `data` names only what a person types. `data` may be a function of the world and the row's pk
    (the customer for a create)."""

    url: str
    data: dict | Callable[[Any, Any], dict] = field(default_factory=dict)
    invalid: dict | None = None
    audited: bool = True
    # A valid create leaves one more row, a delete none; an edit (or a delete that keeps the row) declares
    # what it leaves: `changed(row)` holds for the row after it.
    changed: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class Case:
    """One model's generated tests and the scope matrix's knowledge of its ids (see the module docstring)."""

    model: type[models.Model]
    variant: str = ""  # tells two cases of one model apart (its pages as an administrator sees them)
    kinds: tuple[str, ...] = ()
    find: Callable[[Any], int] | None = None  # customer → the pk of that customer's row in the world
    unscoped: Callable[[], Any] | None = None  # → the id of a row anyone may read (catalog, configuration)
    # Route prefixes where `kinds` name this model, when two apps use the same id name (`group`).
    paths: tuple[str, ...] = ()
    list: str | None = None  # URL name of the list page
    detail: str | None = None  # URL name of the detail page
    api_list: str | None = None  # "/api/v1/leads"
    api_detail: str | None = None  # "/api/v1/leads/{id}"
    reader: str = "alice"  # who reads: the rows of OWN[reader]
    probe: str | None = None  # the customer whose rows the reader must not find (default PROBE[reader])
    # What the list page shows of a row (default: a link to its detail page).
    label: Callable[[Any], str] | None = None
    query: str = ""  # appended to the list URLs (a filter that lets the rows show)
    # How an API list's item names its row: the item's field, and the row's value for it (default its pk).
    api_key: str = "id"
    api_value: Callable[[Any], Any] | None = None
    create: Write | None = None
    edit: Write | None = None
    delete: Write | None = None
    api_create: Write | None = None
    api_edit: Write | None = None
    writer: str = "alice"
    not_writer: str | None = None  # a persona whose role may not write: 403
    xfail: dict[str, str] = field(default_factory=dict)  # check → why the current code fails it

    @property
    def name(self) -> str:
        name = f"{self.model._meta.app_label}.{self.model.__name__}"
        return f"{name}-{self.variant}" if self.variant else name

    def row(self, customer):
        return self.unscoped() if self.unscoped else self.find(customer)


def all_cases() -> list[Case]:
    return [case for module in app_modules("tests.cases") for case in getattr(module, "CASES", ())]


def other_routes() -> set[str]:
    """Routes that look like a list or a detail (no id, or ending in one) and are no model's: dashboards, forms,
    exports, a customer's page of another app. Each app's `tests/cases.py` names its own in `OTHER_ROUTES`, as
    URL names for pages and paths for the API ("/api/v1/forecast", "/api/v1/churn/customers/{customer}")."""
    return {page for module in app_modules("tests.cases") for page in getattr(module, "OTHER_ROUTES", ())}


def shape(path: str) -> str:
    """A path with its ids blanked, to compare a declaration with the URLconf: "api/v1/leads/*"."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "*", path).strip("/")


def claimed_routes(cases: list[Case]) -> set[str]:
    """The shapes of the routes the cases and the apps' OTHER_ROUTES account for."""
    names = route_names()
    claimed = set()
    for case in cases:
        claimed |= {shape(names[n]) for n in (case.list, case.detail) if n}
        claimed |= {shape(p) for p in (case.api_list, case.api_detail) if p}
        for write in (case.create, case.edit, case.delete, case.api_create, case.api_edit):
            if write is not None:
                claimed.add(shape(write.url if write.url.startswith("/") else names[write.url]))
    return claimed | {shape(o if o.startswith("/") else names[o]) for o in other_routes()}


# --- routes ------------------------------------------------------------------------------------------------------
def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}".strip(":") if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, text, inner)
        elif isinstance(pattern, URLPattern):
            yield text, f"{namespace}:{pattern.name}".strip(":") if pattern.name else ""


@functools.cache
def route_names() -> dict[str, str]:
    """URL name → its path pattern ("sales:lead_detail" → "sales/leads/<int:pk>/")."""
    names: dict[str, str] = {}
    for text, name in _walk(get_resolver().url_patterns):
        names.setdefault(name, text)
    return names


def url(name: str, row: Any = None, customer: Any = None) -> str:
    """The page `name` for a row (or a customer): `customer_pk` takes the customer, any other id the row."""
    path = route_names()[name]
    return "/" + re.sub(
        r"<(?:\w+:)?(\w+)>", lambda m: str(customer if m.group(1) in ("customer_pk", "customer_id") else row), path
    )


@dataclass(frozen=True)
class Route:
    """A route of the URLconf, with the kind of each id in its path (the scope matrix walks them all)."""

    path: str  # e.g. "customers/<int:pk>/contacts/new/"
    kwargs: tuple[tuple[str, str], ...]  # (name, kind) in path order

    def url(self, values: dict[str, Any]) -> str:
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.path)

    def __str__(self) -> str:
        return self.path


def id_kind(name: str, path: str) -> str:
    """`contact_pk` → contact; `pk` or `id` → the collection it follows (`subscriptions/<pk>` → subscription)."""
    if name not in ("pk", "id"):
        return re.sub(r"_(pk|id)$", "", name)
    before = path[: path.index(f"<{name}>") if f"<{name}>" in path else path.index(f":{name}>")]
    segment = [s for s in before.split("/") if s and "<" not in s][-1]
    segment = segment.replace("-", "_")
    return segment[:-1] if segment.endswith("s") else segment


def all_routes(resolver, skip: tuple[str, ...] = ()) -> list[Route]:
    routes = []
    for text in dict.fromkeys(text for text, _name in _walk(resolver.url_patterns)):
        if text.startswith(skip) or "(?P" in text or text.startswith("^"):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", text)
        routes.append(Route(text, tuple((name, id_kind(name, text)) for name in names)))
    return routes


def api_url(template: str, row: Any = None, customer: Any = None) -> str:
    return template.format(id=row, customer=customer)


# --- the world -----------------------------------------------------------------------------------------------
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
# The customer whose rows a persona reads in the generated tests.
OWN = {
    "alice": "alice_customer", "bob": "bob_customer", "ivan": "shenzhen_customer", "carol": "alice_customer",
    "dave": "zhejiang_customer", "grace": "alice_customer", "frank": "alice_customer", "erin": "alice_customer",
}  # fmt: skip


def build_world(cast):
    """The scope matrix's world on top of the cast (see the module docstring); returns the cast."""
    from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Subscription
    from jiketong.customers.models import Affiliation, CompetitorPresence, Contact, Member

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
    for hook in app_modules("tests.scope"):
        hook.populate(cast, {name: getattr(cast, name) for name in CUSTOMERS})
    return cast


class SharedWorld:
    """The world built once for a test module, in a transaction rolled back at the module's end; each test runs
    in a savepoint inside it (pytest-django's own), so what one test writes is gone for the next."""

    def __init__(self, blocker):
        self.blocker = blocker

    def __enter__(self):
        from django.test import override_settings
        from django.utils import translation

        with self.blocker.unblock(), override_settings(PASSWORD_HASHERS=["jiketong.testing.FastArgon2Hasher"]):
            self.atomic = transaction.atomic()
            self.atomic._from_testcase = True  # a service's durable atomic block nests in it, as in a TestCase
            self.atomic.__enter__()
            with translation.override("en"):
                return build_world(testing.make_cast(testing.make_org_tree()))

    def __exit__(self, *exc):
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)


class Visitor:
    """A persona's browser (session) and API client (bearer token)."""

    def __init__(self, staff):
        from jiketong.org.services import token_issue

        self.browser = Client()
        self.browser.force_login(staff.user)
        self.api = Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")

    def request(self, method: str, url: str, data: Any = None):
        client = self.api if url.startswith("/api/") else self.browser
        if method in ("patch", "post", "put") and url.startswith("/api/"):
            body = "{}" if data is None else json.dumps(data, default=str)
            return getattr(client, method)(url, data=body, content_type="application/json")
        if data is not None:
            return getattr(client, method)(url, data=data)
        return getattr(client, method)(url)


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


def form_errors(response) -> dict:
    """The field errors of the forms a page rendered (empty when it rendered none with errors)."""
    errors: dict = {}
    for context in response.context or ():
        for value in context.flatten().values() if hasattr(context, "flatten") else ():
            if isinstance(value, django_forms.BaseForm) and value.is_bound and value.errors:
                errors |= dict(value.errors)
    return errors


def form_values(response) -> dict:
    """What the forms (and formsets) of a page would post back unchanged: each field's value as a browser sends it."""
    data: dict = {}
    seen = set()
    for context in response.context or ():
        for value in context.flatten().values() if hasattr(context, "flatten") else ():
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, django_forms.BaseFormSet):
                for form in [value.management_form, *value.forms]:
                    data |= _values(form)
            elif isinstance(value, django_forms.BaseForm):
                data |= _values(value)
    return data


def _values(form) -> dict:
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        elif isinstance(value, (list, tuple)):
            value = [str(v) for v in value]
        elif isinstance(value, models.Model):
            value = value.pk
        data[form.add_prefix(name)] = value
    return data


def api_ids(response, key: str = "id") -> set:
    """The ids (or `key`) of the items of an API list answer ({count, items} or a plain list)."""
    body = json.loads(response.content)
    items = body["items"] if isinstance(body, dict) else body
    return {item.get(key) for item in items if isinstance(item, dict)}


def error_shape(response) -> list[str]:
    """What is wrong with an API error answer's body: it must be `{"detail": str, "errors": {field: [str]}}`."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return [f"not JSON: {response.content[:80]!r}"]
    wrong = []
    if not isinstance(body, dict) or not isinstance(body.get("detail"), str):
        wrong.append(f"no detail: {body}")
    elif not isinstance(body.get("errors"), dict):
        wrong.append(f"no errors object: {body}")
    return wrong
