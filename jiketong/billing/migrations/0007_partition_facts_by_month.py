"""The billing facts partitioned by month on PostgreSQL (billing.partitions, decision 0510). SQLite: nothing.

The model state is unchanged: Django keeps `id` as the primary key; the database's is (id, period)."""

from django.db import migrations

from jiketong.billing import partitions


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in partitions.TABLES:
            if not partitions.is_partitioned(table, cursor):
                partitions.partition_table(cursor, table)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in partitions.TABLES:
            if partitions.is_partitioned(table, cursor):
                partitions.unpartition_table(cursor, table)


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_credit_grade_redemptions_benefits")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
