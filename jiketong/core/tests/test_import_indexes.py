"""Decision 0021: the tables imports write keep no redundant index, and every lookup that had one still has one."""

import pytest
from django.db import connection

from jiketong.core.migration_ops import collates_by_c

pytestmark = pytest.mark.django_db

IMPORTED_TABLES = ("sales_lead", "customers_customer")


def indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny test table: ask whether an index *can* serve
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


needs_c_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Django's LIKE twins and the collation are PostgreSQL's"
)


@needs_c_postgres
def test_no_like_twin_is_left_on_the_tables_imports_write_under_the_c_collation():
    assert collates_by_c(connection)
    for table in IMPORTED_TABLES:
        twins = {name: sql for name, sql in indexes(table).items() if "pattern_ops" in sql}
        assert twins == {}, table


@needs_c_postgres
def test_no_two_indexes_of_an_imported_table_cover_the_same_columns():
    for table in IMPORTED_TABLES:
        shapes = [sql.split(" USING ", 1)[1] for sql in indexes(table).values()]
        assert len(shapes) == len(set(shapes)), table


@needs_c_postgres
@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT id FROM customers_customer WHERE path LIKE %s", ["00001%"]),
        ("SELECT id FROM customers_customer WHERE name LIKE %s", ["广州%"]),
        ("SELECT id FROM customers_customer WHERE number LIKE %s", ["4401%"]),
        ("SELECT id FROM customers_customer WHERE uscc LIKE %s", ["914401%"]),
        ("SELECT id FROM customers_customer WHERE org_unit_id = %s", [1]),
        ("SELECT id FROM customers_customer WHERE owner_id = %s", [1]),
        ("SELECT id FROM sales_lead WHERE name_key LIKE %s", ["广州%"]),
        ("SELECT id FROM sales_lead WHERE uscc = %s", ["91440106MA59XXXX0X"]),
        ("SELECT id FROM sales_lead WHERE org_unit_id = %s", [1]),
        ("SELECT id FROM sales_lead WHERE owner_id IN (%s, %s)", [1, 2]),
        ("SELECT id FROM sales_lead WHERE customer_id = %s", [1]),
        ("SELECT id FROM sales_lead WHERE opportunity_id = %s", [1]),
    ],
)
def test_each_lookup_the_dropped_indexes_served_still_reads_an_index(sql, params):
    from django.db import transaction

    with transaction.atomic():
        explained = plan(sql, params)
    assert "Index" in explained and "Seq Scan" not in explained, explained


def test_a_lead_is_found_by_its_customer_through_the_partial_index_on_any_database():
    """The partial index is declared on the model, so SQLite has it too."""
    from jiketong.sales.models import Lead

    names = {index.name: index for index in Lead._meta.indexes}
    assert names["sales_lead_customer"].condition is not None
    assert names["sales_lead_opportunity"].condition is not None
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN SELECT id FROM sales_lead WHERE customer_id = %s", [1])
            assert "sales_lead_customer" in " ".join(str(row) for row in cursor.fetchall())
        else:
            assert "sales_lead_customer" in indexes("sales_lead")
