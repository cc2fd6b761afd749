"""Month partitions of the billing facts on PostgreSQL (decision 0510): BillingFact, MemberSnapshot and
CustomerMonth are each declared `PARTITION BY RANGE (period)`, one partition per month
(`billing_billingfact_p202611`) and a default partition (`…_default`) that catches a month nobody prepared,
so an ORM write of any period never fails. SQLite keeps plain tables and everything here does nothing there.

Django keeps `id` as the model's primary key; the database's primary key is (id, period), since PostgreSQL
wants the partition key in every unique constraint. `id` stays unique because only its identity sequence
gives it (nothing writes an id of its own) and nothing points at these rows by id.

A period's replace (imports.replace_periods, rollup.refresh_month) deletes `WHERE period = …`: the planner
prunes to that month's partition, so a re-import of November neither scans nor bloats October. Partitions are
created on demand, for the months an import is about to replace, in a short transaction of their own before
the replace (`ensure`): creating one takes a brief exclusive lock on the default partition, which must not
be held for the whole import.
"""

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

TABLES = ("billing_billingfact", "billing_membersnapshot", "billing_customermonth")
LOCK_KEY = 0x0B111  # pg_advisory_xact_lock: one creator of partitions at a time


def _next_month(period: date) -> date:
    return date(period.year + 1, 1, 1) if period.month == 12 else date(period.year, period.month + 1, 1)


def partition_name(table: str, period: date) -> str:
    return f"{table}_p{period:%Y%m}"


def is_partitioned(table: str, cursor=None) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as own:
        cursor = cursor or own
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def ensure(periods: Iterable[date], tables: Iterable[str] = TABLES) -> list[str]:
    """The month partitions of these periods exist in these tables (created when missing, with the rows the
    default partition held for that month moved in). Returns the partitions created. One query when all exist."""
    if connection.vendor != "postgresql":
        return []
    months = sorted({date(p.year, p.month, 1) for p in periods})
    wanted = [(table, month) for table in tables for month in months]
    if not wanted:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL",
            [[partition_name(table, month) for table, month in wanted]],
        )
        missing = {name for (name,) in cursor.fetchall()}
    if not missing:
        return []
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        for table, month in wanted:
            name = partition_name(table, month)
            if name in missing and _create(cursor, table, month):
                created.append(name)
    return created


def _create(cursor, table: str, month: date) -> bool:
    name = partition_name(table, month)
    cursor.execute("SELECT to_regclass(%s) IS NULL", [name])
    if not cursor.fetchone()[0] or not is_partitioned(table, cursor):
        return False  # created meanwhile (another worker held the lock first), or not partitioned at all
    bounds = [month, _next_month(month)]
    default = f"{table}_default"
    # A default partition holding rows of this month would refuse the new partition: move them in.
    cursor.execute(
        f'CREATE TEMP TABLE "moving" ON COMMIT DROP AS WITH m AS (DELETE FROM "{default}" '
        f"WHERE period >= %s AND period < %s RETURNING *) SELECT * FROM m",
        bounds,
    )
    cursor.execute(f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES FROM (%s) TO (%s)', bounds)
    cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "moving"')
    cursor.execute('DROP TABLE "moving"')
    return True


def split_default(tables: Iterable[str] = TABLES) -> list[str]:
    """Give every month still in a default partition its own partition (after a bulk load that wrote periods
    nobody prepared, e.g. an old database migrated to partitions, or rows written through the ORM)."""
    if connection.vendor != "postgresql":
        return []
    created = []
    for table in tables:
        if not is_partitioned(table):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT DISTINCT period FROM "{table}_default"')
            months = [period for (period,) in cursor.fetchall()]
        created += ensure(months, [table])
    return created


# --- the migration ------------------------------------------------------------------------------------
def partition_table(cursor, table: str) -> None:
    """Rebuild a plain table as a partitioned one with the same columns, constraints, indexes and name, the rows
    copied month by month into their partitions (the migration: seconds per million rows)."""
    old = f"{table}_unpartitioned"
    constraints, indexes, used = _set_aside(cursor, table, old)
    cursor.execute(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS) '
        "PARTITION BY RANGE (period)"
    )
    cursor.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
    cursor.execute(f'SELECT DISTINCT period FROM "{old}" ORDER BY period')
    months = sorted({date(p.year, p.month, 1) for (p,) in cursor.fetchall()})
    for month in months:
        cursor.execute(
            f'CREATE TABLE "{partition_name(table, month)}" PARTITION OF "{table}" FOR VALUES FROM (%s) TO (%s)',
            [month, _next_month(month)],
        )
    cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
    cursor.execute(f'DROP TABLE "{old}"')
    _continue_ids(cursor, table, used)
    for name, kind, definition in constraints:
        if kind == "p":
            definition = "PRIMARY KEY (id, period)"
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        cursor.execute(definition)


def _set_aside(cursor, table: str, old: str) -> tuple[list, list, int | None]:
    """Rename `table` to `old` stripped of its own constraints, indexes and sequence name, so a new `table` can
    be made beside it; returns what to put back on the new one (constraints, indexes, the last id used)."""
    cursor.execute(
        """SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') AND conparentid = 0
           ORDER BY contype DESC, conname""",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN
           (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)""",
        [table, table],
    )
    indexes = cursor.fetchall()
    cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))", [table])
    (used,) = cursor.fetchone()
    cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    for name, _kind, _definition in constraints:
        cursor.execute(f'ALTER TABLE "{old}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute(f'ALTER SEQUENCE IF EXISTS "{table}_id_seq" RENAME TO "{old}_id_seq"')
    return constraints, indexes, used


def _continue_ids(cursor, table: str, used: int | None) -> None:
    """The new table's identity goes on from where the old one's stopped (never reusing an id)."""
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST(COALESCE(MAX(id), 0), %s) + 1, false) "
        f'FROM "{table}"',
        [table, used or 0],
    )


def unpartition_table(cursor, table: str) -> None:
    """The reverse: a plain table again, `id` its primary key."""
    old = f"{table}_partitioned"
    constraints, indexes, used = _set_aside(cursor, table, old)
    cursor.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)')
    cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
    cursor.execute(f'DROP TABLE "{old}" CASCADE')
    _continue_ids(cursor, table, used)
    for name, kind, definition in constraints:
        if kind == "p":
            definition = "PRIMARY KEY (id)"
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        cursor.execute(definition)
