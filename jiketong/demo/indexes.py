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

FOREIGN_KEYS = """
    SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
    WHERE t.relname = ANY(%s) AND c.contype = 'f' AND c.conparentid = 0
    ORDER BY 1, 2
"""
PLAIN_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relname = ANY(%s) AND t.relkind = 'r' AND NOT i.indisprimary AND NOT i.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY 1
"""


@contextmanager
def built_after_load(*models, indexes: bool = True, foreign_keys: bool = False) -> Iterator[list[str]]:
    """Yields the names of the indexes (and foreign keys) dropped for the block (empty where nothing is done).
    `foreign_keys`: their foreign keys too, checked again in one statement each when they are added back, instead
    of one deferred check per row at every commit (the roll-ups' millions of customer-months); `indexes=False`
    keeps the indexes (tables the block itself reads by index)."""
    if connection.vendor != "postgresql":
        yield []
        return
    tables = [[model._meta.db_table for model in models]]
    with connection.cursor() as cursor:
        keys = []
        if foreign_keys:
            cursor.execute(FOREIGN_KEYS, tables)
            keys = cursor.fetchall()
        saved = []
        if indexes:
            cursor.execute(PLAIN_INDEXES, tables)
            saved = cursor.fetchall()
        if (saved or keys) and connection.in_atomic_block:
            # Inside a transaction (a test's), earlier rows' deferred foreign-key checks may be pending, and
            # PostgreSQL alters no table with pending trigger events: run them now, as loaddata does.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in saved:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield [name for name, _definition in saved] + [name for _table, name, _definition in keys]
    finally:
        with connection.cursor() as cursor:
            if (saved or keys) and connection.in_atomic_block:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for _name, definition in saved:
                cursor.execute(definition)
            for table, name, definition in keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
