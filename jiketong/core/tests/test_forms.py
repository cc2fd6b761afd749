"""Errors in one round: every field error of a submission shows at once, at its field, on every form.

Form validation and the service's rules run together (core.forms.submit); a model's check constraint lands
on the field it is about; words and dates pasted from Excel are read as the pages show them; dates that are
facts cannot lie in the future and plans cannot start in the past.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from jiketong import testing
from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.catalog.services import subscription_create
from jiketong.customers.models import Customer, Member, PaidBy
from jiketong.customers.services import member_add, member_update
from jiketong.customers.tests.test_views import customer_post
from jiketong.deals import services as deals
from jiketong.deals.models import Contract
from jiketong.sales import services as sales
from jiketong.sales.models import Lead, LeadStatus
from jiketong.work import services as work
from jiketong.work.models import Task

pytestmark = pytest.mark.django_db

BAD_USCC = "91440101MA59XXXXX0"


def field_errors(response) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: list(errors) for name, errors in form.errors.items()}


# --- form rules and service rules in one round --------------------------------------------------------
def test_a_lead_with_three_mistakes_shows_all_three_at_their_fields_at_once(cast, client_as):
    data = {"name": "新线索科技有限公司", "uscc": BAD_USCC, "contact_mobile": "12345", "source": ""}
    response = client_as(cast.alice).post(reverse("sales:lead_create"), data)
    assert response.status_code == 200
    errors = field_errors(response)
    assert {"source", "uscc", "contact_mobile"} <= set(errors), errors
    assert "__all__" not in errors
    html = response.content.decode()
    for name in ("source", "uscc", "contact_mobile"):
        assert f'data-field-error="{name}"' in html
    assert not Lead.objects.filter(name="新线索科技有限公司").exists()


def test_a_customer_with_a_form_error_and_a_service_error_shows_both(cast, client_as):
    data = customer_post(None, cast.org["440106"], name="", uscc=BAD_USCC)
    response = client_as(cast.alice).post(reverse("customers:create"), data)
    errors = field_errors(response)
    assert {"name", "uscc"} <= set(errors), errors
    assert not Customer.objects.filter(uscc=BAD_USCC).exists()


def test_a_rehearsal_leaves_nothing_behind(cast, client_as, django_capture_on_commit_callbacks):
    """The service rehearses inside a savepoint that is rolled back: no row, no audit, no event."""
    from jiketong.core.models import AuditEvent, Event

    before = (Lead.objects.count(), AuditEvent.objects.count(), Event.objects.count())
    data = {"name": "只差来源有限公司", "source": ""}  # the service alone would accept the rest
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_as(cast.alice).post(reverse("sales:lead_create"), data)
    assert set(field_errors(response)) == {"source"}
    assert (Lead.objects.count(), AuditEvent.objects.count(), Event.objects.count()) == before
    assert callbacks == []


def test_a_contract_ending_before_it_starts_is_refused_at_the_end_date(cast, client_as):
    url = reverse("deals:contract_create", args=[cast.alice_customer.pk])
    response = client_as(cast.alice).post(url, {"start_on": "2026-06-01", "end_on": "2026-05-01", "value": "100"})
    assert response.status_code == 200
    errors = field_errors(response)
    assert list(errors) == ["end_on"], errors
    assert not Contract.objects.exists()


def test_a_member_leaving_before_joining_is_refused_at_the_leave_date(cast):
    member = member_add(
        actor=cast.alice.user, customer=cast.alice_customer, phone="13800000001", joined_on=date(2024, 3, 1)
    )
    with pytest.raises(ValidationError) as exc:
        member_update(actor=cast.alice.user, member=member, left_on=date(2024, 1, 1))
    assert list(exc.value.message_dict) == ["left_on"]


def test_a_subscription_ending_before_it_starts_is_refused_at_the_end_date(cast):
    product = Product.objects.create(code="SMS", name="企信通", category=ProductCategory.MESSAGING,
                                     billing_unit=BillingUnit.PER_GROUP, standard_price=Decimal("50.00"))  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        subscription_create(actor=cast.alice.user, customer=cast.alice_customer, product=product,
                            start_on=date(2026, 6, 1), end_on=date(2026, 5, 1))  # fmt: skip
    assert "end_on" in exc.value.message_dict and "__all__" not in exc.value.message_dict


ADMIN_ONLY = {
    # Configuration edited in Django admin (which shows the message above the form) or loaded by imports,
    # never through a page form: their check constraints may stay non-field errors.
    "sales.stage",
    "deals.discountpolicy",
    "service.workingperiod",
    "catalog.product",
    "billing.billingfact",
    "billing.pointsrule",
    "analytics.gradescheme",
}


def test_every_check_constraint_of_a_form_edited_model_lands_on_one_of_its_fields():
    from jiketong.core.models import ConstraintFieldsMixin

    missing, wrong = [], []
    for model in apps.get_models():
        if not model.__module__.startswith("jiketong."):
            continue
        checks = [c for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
        if not checks or model._meta.label_lower in ADMIN_ONLY or model._meta.abstract:
            continue
        if not issubclass(model, ConstraintFieldsMixin):
            missing.append(model._meta.label_lower)
            continue
        names = {f.name for f in model._meta.get_fields()}
        for constraint in checks:
            if model.constraint_field(constraint) not in names:
                wrong.append((model._meta.label_lower, constraint.name))
    assert missing == [] and wrong == []


# --- the convert form asks for what the service needs ---------------------------------------------------
def test_converting_a_lead_without_an_industry_asks_for_it_on_the_form(cast, client_as):
    lead = sales.lead_create(actor=cast.alice.user, confirm_duplicates=True, source="visit", name="无行业线索有限公司")
    url = reverse("sales:lead_convert", args=[lead.pk])
    client = client_as(cast.alice)
    assert "industry" in client.get(url).context["form"].fields
    data = {"customer_type": "enterprise", "expected_close": "2027-01-31", "amount_monthly": "0", "amount_once": "0"}
    response = client.post(url, data)
    errors = field_errors(response)
    assert list(errors) == ["industry"], errors
    assert "industry:" not in response.content.decode()
    response = client.post(url, data | {"industry": "it"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and lead.customer.industry_id == "it"
    assert lead.industry_id == "it"


def test_a_service_error_on_a_field_the_form_lacks_names_the_field_in_words(cast):
    from jiketong.core.forms import apply_errors
    from jiketong.sales.forms import LeadForm

    form = LeadForm({"name": "x", "source": "visit"}, user=cast.alice.user)
    form.is_valid()
    apply_errors(form, ValidationError({"customer": ["Choose a customer you can see."]}))
    assert form.non_field_errors() == ["Customer: Choose a customer you can see."]


# --- words and dates pasted from Excel ------------------------------------------------------------------
def test_bulk_member_add_takes_the_words_and_dates_pasted_from_excel(cast, client_as):
    rows = "\n".join(
        [
            "13800000001\t市场部\t2024/3/1\t集团统付\t本网",
            "13800000002\t\t2024年3月2日\t个人付费(个付)\t异网",
            "13800000003\t\t2024-03-03\tPaid by the group\tOther operator",
            "13800000004\t\t\tgroup\toff_net",
            "13800000005\t\t\t统付\t本网",
        ]
    )
    url = reverse("customers:members_bulk_add", args=[cast.alice_customer.pk])
    response = client_as(cast.alice).post(url, {"rows": rows, "joined_on": "2024-02-01", "all_or_nothing": "on"})
    assert response.status_code in (200, 302)
    added = {m.phone: (m.joined_on, m.paid_by, m.network) for m in Member.objects.filter(customer=cast.alice_customer)}
    assert added == {
        "13800000001": (date(2024, 3, 1), "group", "on_net"),
        "13800000002": (date(2024, 3, 2), "self", "off_net"),
        "13800000003": (date(2024, 3, 3), "group", "off_net"),
        "13800000004": (date(2024, 2, 1), "group", "off_net"),
        "13800000005": (date(2024, 2, 1), "group", "on_net"),
    }


def test_choice_words_and_pasted_dates():
    from jiketong.core.forms import choice_words, pasted_date, word_key

    words = choice_words(PaidBy)
    assert words[word_key("集团统付")] == words[word_key("Paid by the group")] == words["group"] == "group"
    assert words[word_key("个人付费（个付）")] == "self"
    assert pasted_date("2024/3/1") == pasted_date("2024年3月1日") == pasted_date("２０２４-03-01") == date(2024, 3, 1)
    assert pasted_date("2024/2/30") == "2024/2/30" and pasted_date("三月") == "三月"


# --- facts are not in the future, plans are not in the past ---------------------------------------------
def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


def test_a_cooperation_start_in_the_future_is_refused_at_its_field(cast, client_as):
    data = customer_post(None, cast.org["440106"], cooperation_since="2030-01-01")
    response = client_as(cast.alice).post(reverse("customers:create"), data)
    assert list(field_errors(response)) == ["cooperation_since"]
    customer = cast.alice_customer
    response = client_as(cast.alice).post(
        reverse("customers:edit", args=[customer.pk]),
        customer_post(customer, customer.org_unit, cooperation_since="2030-01-01"),
    )
    assert list(field_errors(response)) == ["cooperation_since"]


def test_a_member_joining_in_the_future_is_refused_at_its_field(cast):
    with pytest.raises(ValidationError) as exc:
        member_add(actor=cast.alice.user, customer=cast.alice_customer, phone="13800000001", joined_on=tomorrow())
    assert list(exc.value.message_dict) == ["joined_on"]


def test_a_contract_signed_in_the_future_is_refused_at_its_field(cast, client_as):
    contract = deals.contract_create(actor=cast.alice.user, customer=cast.alice_customer, start_on=date(2026, 1, 1),
                                     end_on=date(2026, 12, 31), value=Decimal("1200"))  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        deals.contract_activate(actor=cast.alice.user, contract=contract, signed_on=tomorrow())
    assert list(exc.value.message_dict) == ["signed_on"]
    url = reverse("deals:contract_create", args=[cast.alice_customer.pk])
    data = {"start_on": "2026-06-01", "end_on": "2027-05-31", "value": "100", "signed_on": tomorrow().isoformat()}
    assert list(field_errors(client_as(cast.alice).post(url, data))) == ["signed_on"]


def test_a_task_due_in_the_past_is_refused_when_it_is_given(cast, client_as):
    yesterday = timezone.localdate() - timedelta(days=1)
    data = {"title": "回访", "due_on": yesterday.isoformat(), "priority": "normal", "kind": "follow_up"}
    response = client_as(cast.alice).post(reverse("work:task_create"), data)
    assert list(field_errors(response)) == ["due_on"]
    with pytest.raises(ValidationError) as exc:
        work.task_create(cast.alice.user, owner=cast.alice, title="回访", due_on=yesterday)
    assert list(exc.value.message_dict) == ["due_on"]
    task = work.task_create(cast.alice.user, owner=cast.alice, title="回访", due_on=timezone.localdate())
    assert Task.objects.filter(pk=task.pk).exists()


def test_past_dates_and_future_dates_are_refused_in_the_api_too(cast):
    from jiketong.api.tests.conftest import ApiClient
    from jiketong.org.services import token_issue

    api = ApiClient(token_issue(user=cast.alice.user))
    body = {"name": "未来合作有限公司", "type": "enterprise", "industry": "it", "org_unit": cast.org["440106"].pk,
            "uscc": testing.make_uscc("440106"), "cooperation_since": "2030-01-01"}  # fmt: skip
    response = api.post_json("/customers", body)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["cooperation_since"]
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = api.post_json("/tasks", {"title": "回访", "due_on": past})
    assert response.status_code == 400 and "due_on" in response.json()["errors"]
