"""The list page and form page helpers (core.listing, core.forms.form_page): which template answers, which page
of the rows, counted how far, and what a form page does with a valid and an invalid submission."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from jiketong.core import forms as core_forms
from jiketong.core import listing
from jiketong.core.paging import CappedPaginator

pytestmark = pytest.mark.django_db  # submit runs the service in a transaction

ROWS = list(range(1, 46))  # 45 rows: three pages of 20, 20 and 5


def _request(path: str = "/list/", *, htmx: bool = False, method: str = "get", data=None):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    request = getattr(RequestFactory(), method)(path, data or {}, **headers)
    request.htmx = HtmxDetails(request)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


@pytest.fixture
def rendered(monkeypatch):
    """What the helpers asked to render: (template name, context, status) of each call."""
    calls = []

    def render(request, name, context=None, status=200):
        calls.append((name, dict(context or {}), status))
        return HttpResponse(name, status=status)

    monkeypatch.setattr(listing, "render", render)
    monkeypatch.setattr(core_forms, "render", render)
    return calls


def test_a_plain_request_gets_the_whole_page(rendered):
    listing.list_page(_request(), "app/list.html", ROWS, per_page=20, capped=False)
    name, context, _status = rendered[0]
    assert name == "app/list.html"
    assert list(context["page"].object_list) == list(range(1, 21))


def test_an_htmx_request_gets_the_same_templates_partial(rendered):
    listing.list_page(_request(htmx=True), "app/list.html", ROWS, per_page=20, capped=False)
    assert rendered[0][0] == "app/list.html#table"


def test_the_partial_can_have_another_name(rendered):
    listing.list_page(_request(htmx=True), "app/list.html", ROWS, per_page=20, partial="rows", capped=False)
    assert rendered[0][0] == "app/list.html#rows"


def test_a_boosted_navigation_gets_the_whole_page(rendered):
    request = RequestFactory().get("/list/", HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    request.htmx = HtmxDetails(request)
    listing.list_page(request, "app/list.html", ROWS, per_page=20, capped=False)
    assert rendered[0][0] == "app/list.html"


def test_the_page_is_read_from_its_own_parameter():
    page = listing.paginate(_request("/x/?page=1&members_page=3"), ROWS, 20, param="members_page", capped=False)
    assert page.number == 3
    assert list(page.object_list) == list(range(41, 46))


@pytest.mark.parametrize(("asked", "number"), [("abc", 1), ("", 1), ("-2", 3), ("999", 3), ("2", 2)])
def test_a_bad_page_number_gives_the_first_or_the_last_page(asked, number):
    assert listing.paginate(_request(f"/x/?page={asked}"), ROWS, 20, capped=False).number == number


def test_a_capped_list_is_counted_up_to_its_cap(cast):
    from jiketong.org.models import OrgUnit

    units = OrgUnit.objects.order_by("pk")
    total = units.count()
    page = listing.paginate(_request(), units, 2, cap=total - 1)
    assert isinstance(page.paginator, CappedPaginator)
    assert page.paginator.count == total - 1 and page.paginator.capped
    assert listing.paginate(_request(), units, 2, cap=total).paginator.capped is False


def test_a_capped_count_reads_one_row_past_the_cap_in_the_database(cast, django_assert_num_queries):
    from jiketong.customers.models import Customer

    customers = Customer.objects.order_by("pk")
    total = customers.count()
    assert total >= 2
    with django_assert_num_queries(1) as captured:
        paginator = listing.paginate(_request(), customers, 1, cap=1).paginator
        assert (paginator.count, paginator.capped) == (1, True)
    assert "LIMIT 2" in captured.captured_queries[0]["sql"].upper()


def test_an_uncapped_list_counts_every_row():
    page = listing.paginate(_request(), ROWS, 20, capped=False)
    assert page.paginator.count == 45 and not hasattr(page.paginator, "capped")


def test_the_context_may_be_worked_out_from_the_page(rendered):
    listing.list_page(
        _request(), "app/list.html", ROWS, per_page=20, capped=False,
        context=lambda page: {"first": page.object_list[0], "title": "x"},
    )  # fmt: skip
    _name, context, _status = rendered[0]
    assert context["first"] == 1 and context["title"] == "x" and context["page"].number == 1


# --- form_page ------------------------------------------------------------------------------------
class NameForm(forms.Form):
    name = forms.CharField(max_length=10)


def _service(saved: list):
    def save(name: str):
        if name == "taken":
            raise ValidationError({"name": ["This name is taken."]})
        saved.append(name)
        return name.upper()

    return save


def test_a_form_page_on_get_renders_the_form_with_its_context(rendered):
    form = NameForm(None)
    core_forms.form_page(_request(), form, lambda: None, done="/back/", context={"title": "New"})
    name, context, _status = rendered[0]
    assert name == core_forms.FORM_TEMPLATE
    assert context["form"] is form and context["title"] == "New"


def test_a_valid_submission_runs_the_service_says_so_and_redirects(rendered):
    saved: list = []
    request = _request(method="post", data={"name": "ok"})
    form = NameForm(request.POST)
    response = core_forms.form_page(
        request, form, lambda: _service(saved)(form.cleaned_data["name"]),
        done=lambda result: f"/done/{result}/", message=lambda result: f"Saved {result}.",
    )  # fmt: skip
    assert saved == ["ok"] and rendered == []
    assert response.status_code == 302 and response["Location"] == "/done/OK/"
    assert [str(m) for m in get_messages(request)] == ["Saved OK."]


def test_a_service_error_lands_on_the_form_and_the_page_is_drawn_again(rendered):
    saved: list = []
    request = _request(method="post", data={"name": "taken"})
    form = NameForm(request.POST)
    response = core_forms.form_page(
        request, form, lambda: _service(saved)(form.cleaned_data["name"]), done="/back/", message="Saved."
    )
    assert response.status_code == 200 and saved == []
    assert form.errors["name"] == ["This name is taken."]
    assert rendered[0][1]["form"] is form
    assert list(get_messages(request)) == []


def test_done_may_answer_with_its_own_response(rendered):
    request = _request(method="post", data={"name": "ok"})
    form = NameForm(request.POST)
    response = core_forms.form_page(request, form, lambda: "x", done=lambda _r: HttpResponse("shown once"))
    assert response.status_code == 200 and response.content == b"shown once"


def test_a_context_function_is_read_only_when_the_page_is_drawn(rendered):
    reads: list = []
    request = _request(method="post", data={"name": "ok"})
    form = NameForm(request.POST)
    core_forms.form_page(request, form, lambda: "x", done="/back/", context=lambda: reads.append(1) or {})
    assert reads == []
    core_forms.form_page(_request(), NameForm(None), lambda: "x", done="/back/", context=lambda: {"title": "T"})
    assert rendered[0][1]["title"] == "T"
