"""Billing facts partitioned by month on PostgreSQL (billing.partitions, decision 0510); plain tables on SQLite."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from jiketong.billing import partitions, services
from jiketong.billing.models import BillingFact, CustomerMonth, ImportStatus

pytestmark = pytest.mark.django_db
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="declarative partitioning is PostgreSQL's")
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def run(cast, path):
    imported = services.import_file(actor=cast.erin.user, path=path, kind="facts", mode="all")
    return services.run_import(imported.pk)


def where(model, **filters) -> set[str]:
    """The tables (partitions) that hold these rows."""
    ids = list(model.objects.filter(**filters).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT tableoid::regclass::text FROM {model._meta.db_table} WHERE id = ANY(%s)", [ids]
        )
        return {name for (name,) in cursor.fetchall()}


def deleted_in_this_transaction(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_tup_del FROM pg_stat_xact_user_tables WHERE relname = %s", [table])
        row = cursor.fetchone()
        return row[0] if row else 0


def test_on_sqlite_the_tables_stay_plain_and_nothing_is_created():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite side")
    assert not partitions.is_partitioned("billing_billingfact")
    assert partitions.ensure([NOV]) == []


@on_postgres
def test_the_fact_tables_are_partitioned_by_month():
    assert all(partitions.is_partitioned(table) for table in partitions.TABLES)


@on_postgres
def test_an_import_puts_each_month_in_its_own_partition(billing, write_csv):
    path = write_csv([("202610", "C001", "DIA", "100", "0", "是"), ("202611", "C001", "DIA", "200", "0", "是"),
                      ("202611", "C002", "VNET", "50", "10", "是")])  # fmt: skip
    assert run(billing, path).status == ImportStatus.SUCCEEDED
    assert where(BillingFact, period=OCT) == {"billing_billingfact_p202610"}
    assert where(BillingFact, period=NOV) == {"billing_billingfact_p202611"}
    assert where(CustomerMonth, period=NOV) == {"billing_customermonth_p202611"}


@on_postgres
def test_replacing_a_month_deletes_in_its_partition_only(billing, write_csv):
    both = write_csv([("202610", "C001", "DIA", "100", "0", "是"), ("202611", "C001", "DIA", "200", "0", "是")])
    assert run(billing, both).status == ImportStatus.SUCCEEDED
    november = write_csv([("202611", "C001", "DIA", "300", "0", "是")], name="nov.csv")
    assert run(billing, november).status == ImportStatus.SUCCEEDED
    assert deleted_in_this_transaction("billing_billingfact_p202611") == 1
    assert deleted_in_this_transaction("billing_billingfact_p202610") == 0
    assert BillingFact.objects.get(period=NOV).revenue == Decimal("300")
    assert BillingFact.objects.get(period=OCT).revenue == Decimal("100")


@on_postgres
def test_a_row_of_a_month_nobody_prepared_waits_in_the_default_partition_until_its_month_is_made(billing):
    fact = BillingFact.objects.create(customer=billing.alice_customer, product=billing.dia, period=date(2019, 3, 1))
    assert where(BillingFact, pk=fact.pk) == {"billing_billingfact_default"}
    assert partitions.split_default() == ["billing_billingfact_p201903"]  # the others' default partitions are empty
    assert where(BillingFact, pk=fact.pk) == {"billing_billingfact_p201903"}
    assert BillingFact.objects.get(pk=fact.pk).period == date(2019, 3, 1)  # the same row, the same id
    assert partitions.ensure([date(2019, 3, 1)]) == [
        "billing_membersnapshot_p201903",
        "billing_customermonth_p201903",
    ]
    assert partitions.ensure([date(2019, 3, 1)]) == []


@on_postgres
def test_the_migration_turns_a_table_with_rows_into_partitions_and_back(billing):
    kept = CustomerMonth.objects.create(customer=billing.alice_customer, period=OCT, revenue=Decimal("10"))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the row's deferred FK check, as if committed
        partitions.unpartition_table(cursor, "billing_customermonth")
        assert not partitions.is_partitioned("billing_customermonth", cursor)
        partitions.partition_table(cursor, "billing_customermonth")
        assert partitions.is_partitioned("billing_customermonth", cursor)
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'billing_customermonth'::regclass")
        names = {name for (name,) in cursor.fetchall()}
    assert {"billing_customer_month_key", "billing_customermonth_pkey"} <= names
    assert where(CustomerMonth, pk=kept.pk) == {"billing_customermonth_p202610"}
    fresh = CustomerMonth.objects.create(customer=billing.bob_customer, period=OCT)
    assert fresh.pk > kept.pk  # the ids go on from where they were
