"""Billing fixtures: the cast's customers get BOSS customer numbers, two products, and files to import."""

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.customers.models import Customer


@pytest.fixture(autouse=True)
def immediate_tasks(settings, tmp_path):
    """Tasks run inside the request; uploads and error reports go to a throwaway media root."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def billing(cast):
    """cast + customer numbers C001 (alice's), C002 (bob's), C003 (深圳, ivan's) and products DIA, VNET."""
    for number, customer in (
        ("C001", cast.alice_customer),
        ("C002", cast.bob_customer),
        ("C003", cast.shenzhen_customer),
    ):
        Customer.objects.filter(pk=customer.pk).update(number=number)
    cast.dia = Product.objects.create(
        code="DIA", name="互联网专线", category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP, standard_price=Decimal("3000"),
    )  # fmt: skip
    cast.vnet = Product.objects.create(
        code="VNET", name="集团V网", category=ProductCategory.VOICE,
        billing_unit=BillingUnit.PER_MEMBER, standard_price=Decimal("5"),
    )  # fmt: skip
    return cast


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(rows, header=..., encoding=..., name=...) → path of a CSV file."""

    def write(rows, header=("账期", "客户编号", "产品编码", "收入", "计费成员数", "是否按时缴费"), encoding="utf-8",
              name="facts.csv") -> Path:  # fmt: skip
        path = tmp_path / name
        with open(path, "w", encoding=encoding, newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write
