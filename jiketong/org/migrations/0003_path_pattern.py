from django.db import migrations

from jiketong.core.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [("org", "0002_roles")]
    operations = [
        PostgresOnlySQL(
            "CREATE INDEX org_orgunit_path_pattern ON org_orgunit (path varchar_pattern_ops);",
            "DROP INDEX IF EXISTS org_orgunit_path_pattern;",
        )
    ]
