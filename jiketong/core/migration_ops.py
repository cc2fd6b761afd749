"""Migration operations that only run on PostgreSQL (trigram and pattern indexes); SQLite skips them."""

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def collates_by_c(connection) -> bool:
    """True when the database sorts text by code point (C or POSIX collation, as scripts/with-postgres and the
    deployment create it): then a plain b-tree index serves LIKE 'x%' as well as ranges and equality."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        return cursor.fetchone()[0] in ("C", "POSIX")


class DropPatternTwins(migrations.operations.base.Operation):
    """Drop the `varchar_pattern_ops` twin (`<index>_like`) that Django's PostgreSQL backend adds beside the
    b-tree of every indexed or unique text column of `model_name`'s `fields`, and the pattern indexes in `also`
    (name → the SQL that creates it, for backwards). Under the C collation the plain b-tree already serves
    LIKE 'x%', so the twin only costs every insert and update (decision 0021). On a database with another
    collation nothing is dropped; SQLite has no twins. The model state is unchanged; backwards recreates
    what forwards dropped."""

    reversible = True

    def __init__(self, model_name: str, fields: list[str], also: dict[str, str] | None = None) -> None:
        self.model_name, self.fields, self.also = model_name, list(fields), dict(also or {})

    def deconstruct(self):
        kwargs = {"model_name": self.model_name, "fields": self.fields}
        if self.also:
            kwargs["also"] = self.also
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if connection.vendor != "postgresql" or not collates_by_c(connection):
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        names = [
            schema_editor._create_index_name(table, [model._meta.get_field(name).column], suffix="_like")
            for name in self.fields
        ]
        for name in [*names, *self.also]:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if connection.vendor != "postgresql" or not collates_by_c(connection):
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        for name in self.fields:
            statement = schema_editor._create_like_index_sql(model, model._meta.get_field(name))
            if statement is not None:
                schema_editor.execute(str(statement).replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        for sql in self.also.values():
            schema_editor.execute(sql)

    def describe(self) -> str:
        return f"Drop the LIKE twins of {self.model_name}.{', '.join(self.fields)} under the C collation"
