"""The API helpers every app's api.py uses: a field read from another attribute, the id resolver and the
filtered list."""

import pytest
from django.core.exceptions import ValidationError
from ninja import Schema

from jiketong.api.base import TwoPlaces, filtered, from_attr, resolve_ids
from jiketong.customers.models import Customer
from jiketong.org.models import OrgUnit, Staff


class _Ids(Schema):
    org_unit: int = from_attr("org_unit_id", description="The org unit's id.")
    owner: int | None = from_attr("owner_id")


class _Out(_Ids):
    owner_name: str = from_attr("owner.name", "")


pytestmark = pytest.mark.django_db


def test_a_foreign_key_is_answered_as_its_id_without_a_query(cast, django_assert_num_queries):
    customer_a = Customer.objects.get(pk=cast.alice_customer.pk)
    with django_assert_num_queries(0):
        out = _Ids.model_validate(customer_a)
    assert (out.org_unit, out.owner) == (customer_a.org_unit_id, customer_a.owner_id)


def test_a_dotted_attribute_follows_the_relation(cast):
    customer_a = cast.alice_customer
    assert _Out.model_validate(customer_a).owner_name == customer_a.owner.name


def test_the_published_schema_keeps_the_field_name_and_description():
    schema = _Out.model_json_schema(mode="serialization")
    assert set(schema["properties"]) == {"org_unit", "owner", "owner_name"}
    assert schema["properties"]["org_unit"]["description"] == "The org unit's id."
    assert schema["required"] == ["org_unit", "owner"]


def test_resolve_ids_swaps_each_id_for_its_scoped_record(cast):
    customer_a = cast.alice_customer
    data = {"customer": customer_a.pk, "org_unit": customer_a.org_unit_id, "note": "x"}
    resolve_ids(
        data,
        {
            "customer": (Customer.objects.visible_to(cast.alice.user), "no customer"),
            "org_unit": (OrgUnit.objects.all(), "no unit"),
        },
    )
    assert data == {"customer": customer_a, "org_unit": customer_a.org_unit, "note": "x"}


def test_resolve_ids_leaves_absent_and_null_ids_alone(db):
    data = {"owner": None}
    assert resolve_ids(data, {"owner": (Staff.objects.all(), "no one"), "customer": (Customer.objects.all(), "")}) == {
        "owner": None
    }


def test_resolve_ids_answers_every_unknown_or_out_of_scope_id_at_once(cast):
    customer_a = cast.alice_customer
    data = {"customer": customer_a.pk, "owner": 2**62}
    with pytest.raises(ValidationError) as caught:
        resolve_ids(
            data,
            {
                "customer": (Customer.objects.visible_to(cast.bob.user), "There is no customer with this id."),
                "owner": (Staff.objects.all(), "There is no staff member with this id."),
            },
        )
    assert caught.value.message_dict == {
        "customer": ["There is no customer with this id."],
        "owner": ["There is no staff member with this id."],
    }


class _Filters(Schema):
    grade: str | None = None
    status: str | None = None


def test_filtered_passes_the_given_filters_and_answers_the_queryset(cast):
    seen = {}

    class _Ok:
        errors = {}

    def query(user, params):
        seen.update(user=user, params=params)
        return _Ok(), Customer.objects.none()

    queryset = filtered(query, cast.alice.user, _Filters(grade="A1"))
    assert seen == {"user": cast.alice.user, "params": {"grade": "A1"}}
    assert queryset.model is Customer


def test_filtered_answers_a_field_error_per_invalid_filter(cast):
    class _Bad:
        errors = {"grade": ["Select a valid choice."], "status": ["Nope."]}

    with pytest.raises(ValidationError) as caught:
        filtered(lambda user, params: (_Bad(), Customer.objects.none()), cast.alice.user, _Filters())
    assert caught.value.message_dict == {"grade": ["Select a valid choice."], "status": ["Nope."]}


def test_resolve_ids_answers_the_handlers_own_errors_with_the_unknown_ids(db):
    with pytest.raises(ValidationError) as caught:
        resolve_ids({"owner": 2**62}, {"owner": (Staff.objects.all(), "No one.")}, errors={"items": ["Bad."]})
    assert caught.value.message_dict == {"items": ["Bad."], "owner": ["No one."]}


def test_resolve_ids_raises_the_handlers_own_errors_when_every_id_is_known(db):
    with pytest.raises(ValidationError) as caught:
        resolve_ids({}, {"owner": (Staff.objects.all(), "No one.")}, errors={"items": ["Bad."]})
    assert caught.value.message_dict == {"items": ["Bad."]}


class _Price(Schema):
    price: TwoPlaces
    list_price: TwoPlaces = from_attr("product.price")


def test_a_decimal_is_answered_with_two_places():
    from decimal import Decimal
    from types import SimpleNamespace

    row = SimpleNamespace(price=Decimal("1280.5"), product=SimpleNamespace(price=Decimal("3")))
    assert _Price.model_validate(row).model_dump() == {"price": "1280.50", "list_price": "3.00"}


def test_a_two_places_field_is_published_as_a_string():
    assert _Price.model_json_schema(mode="serialization")["properties"]["price"] == {"title": "Price", "type": "string"}
