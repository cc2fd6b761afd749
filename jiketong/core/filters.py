"""Filters the apps' FilterSets share: ids that must fit a 64-bit column before they reach the database.

A list filter given an id past 64 bits (`?owner=99999999999999999999`) made SQLite raise OverflowError while
binding it, a 500 for a typo. These filters refuse such a value as an invalid choice instead, so the page shows
the filter's error and the list unfiltered by it, as for any other bad filter value; the API's filter schemas
already bound their ids (api.base.Id).
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_filters.fields import ModelChoiceField

INT64_MAX = 2**63 - 1  # the largest key SQLite and PostgreSQL (bigint) store


def fits_int64(value) -> bool:
    """Whether `value` reads as an integer a 64-bit column can hold (anything else is left to the field)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return True
    return -INT64_MAX <= number <= INT64_MAX


def _integer_key(model: type[models.Model], name: str | None) -> bool:
    field = model._meta.get_field(name) if name else model._meta.pk
    while field.is_relation:  # a one-to-one primary key (staff → user) is its target's column
        field = field.target_field
    return isinstance(field, models.IntegerField)  # AutoField and BigAutoField included


class BoundedModelChoiceField(ModelChoiceField):
    def to_python(self, value):
        if (
            value not in self.empty_values
            and self.queryset is not None
            and _integer_key(self.queryset.model, self.to_field_name)
            and not fits_int64(value)
        ):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class BoundedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """django-filter's ModelChoiceFilter, with integer keys past 64 bits refused as an invalid choice."""

    field_class = BoundedModelChoiceField


class IdFilter(django_filters.NumberFilter):
    """A filter on an id column (`customer=<id>`): a whole number within 64 bits, else the filter's error."""

    field_class = forms.IntegerField

    def get_max_validator(self):
        return MaxValueValidator(INT64_MAX)

    @property
    def field(self):
        field = super().field
        if not any(isinstance(v, MinValueValidator) for v in field.validators):
            field.validators.append(MinValueValidator(-INT64_MAX))
        return field
