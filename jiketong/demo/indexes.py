"""Indexes built after a bulk load instead of kept up row by row (PostgreSQL only; elsewhere nothing happens).

A COPY into a table with ten indexes (the activities) or a trigram index (the customers' search text) spends
most of its time updating them, one row at a time; building each index once, after the load, sorts the rows
once. `built_after_load(Activity, Task)` drops the plain (non-unique) indexes of these tables for the block and
re-creates them from their own definitions (`pg_get_indexdef`: the same names and columns as the migrations
made) when it ends, whether it ends well or not. Unique indexes and constraints stay: the load still checks its
keys. Partitioned tables are left alone (their indexes live on every partition; billing.demo handles its own).
Only for the demo's load into tables nothing reads until the block ends.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

PLAIN_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relname = ANY(%s) AND t.relkind = 'r' AND NOT i.indisprimary AND NOT i.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY 1
"""


@contextmanager
def built_after_load(*models) -> Iterator[list[str]]:
    """Yields the names of the indexes dropped for the block (empty where nothing is done)."""
    if connection.vendor != "postgresql":
        yield []
        return
    with connection.cursor() as cursor:
        cursor.execute(PLAIN_INDEXES, [[model._meta.db_table for model in models]])
        saved = cursor.fetchall()
        for name, _definition in saved:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield [name for name, _definition in saved]
    finally:
        with connection.cursor() as cursor:
            if saved and connection.in_atomic_block:
                # Inside a transaction (a test's), the rows' deferred foreign-key checks are still pending and
                # PostgreSQL builds no index on a table with pending trigger events: run them now, as loaddata does.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for _name, definition in saved:
                cursor.execute(definition)
