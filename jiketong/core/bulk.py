"""Appending many rows fast, for the demo generator and bulk jobs (nightly churn scores)."""

from collections import defaultdict

from django.db import connection, models


class Writer:
    """Appends rows to tables by column name: COPY on PostgreSQL, multi-row executemany elsewhere."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.counts: dict[str, int] = defaultdict(int)

    def write(self, model: type[models.Model], fields: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)
        self.counts[model._meta.model_name] += len(rows)
