"""CustomerMonth keeps the facts the indicators count (is_new, is_mobile_group, is_integrated, sticky_revenue;
docs/decisions/0604), filled in here for the months already loaded, and an index for the month's biggest bills.

The backfill is a frozen copy of `billing.rollup.refresh_flags` as it was when these fields were added (a
migration must not follow later code); later definitions come with their own migrations. Set-based: two
UPDATE statement per month."""

from django.db import migrations, models

import jiketong.core.money

MOBILE_MIN_MEMBERS = 10
INTEGRATED_MIN_BASIC = 2


def backfill(apps, schema_editor):
    CustomerMonth = apps.get_model("billing", "CustomerMonth")
    BillingFact = apps.get_model("billing", "BillingFact")
    Product = apps.get_model("catalog", "Product")
    quote = schema_editor.connection.ops.quote_name
    cm, fact, product = (quote(m._meta.db_table) for m in (CustomerMonth, BillingFact, Product))
    in_use = "(f.revenue > 0 OR f.billed_members > 0)"
    bill = f"""SELECT f.customer_id,
                      SUM(CASE WHEN p.stickiness <> 'none' THEN f.revenue ELSE 0 END) AS sticky,
                      SUM(CASE WHEN p.is_basic_service AND {in_use} THEN 1 ELSE 0 END) AS basic_used,
                      SUM(CASE WHEN p.is_basic_service AND f.revenue > 0 THEN 1 ELSE 0 END) AS basic_paid
               FROM {fact} f JOIN {product} p ON p.id = f.product_id
               WHERE f.period = %(period)s GROUP BY f.customer_id"""
    periods = sorted(CustomerMonth.objects.order_by().values_list("period", flat=True).distinct())
    with schema_editor.connection.cursor() as cursor:
        for period in periods:
            previous = (
                period.replace(year=period.year - 1, month=12)
                if period.month == 1
                else period.replace(month=period.month - 1)
            )
            cursor.execute(
                f"""UPDATE {cm} SET is_new = x.is_new, is_mobile_group = x.is_mobile_group,
                        is_integrated = x.is_integrated, sticky_revenue = x.sticky_revenue
                    FROM (SELECT c.id, prev.customer_id IS NULL AS is_new,
                                 (c.on_net_members >= {MOBILE_MIN_MEMBERS}) AS is_mobile_group,
                                 COALESCE(f.basic_used >= {INTEGRATED_MIN_BASIC} AND f.basic_paid > 0, FALSE)
                                     AS is_integrated,
                                 COALESCE(f.sticky, 0) AS sticky_revenue
                          FROM {cm} c
                          LEFT JOIN ({bill}) f ON f.customer_id = c.customer_id
                          LEFT JOIN {cm} prev ON prev.customer_id = c.customer_id AND prev.period = %(previous)s
                          WHERE c.period = %(period)s) x
                    WHERE {cm}.id = x.id""",
                {"period": period, "previous": previous},
            )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_import_heartbeat_and_confirmation"),
        ("catalog", "0003_product_cost_rate"),
    ]

    operations = [
        migrations.AddField(
            model_name="customermonth",
            name="is_new",
            field=models.BooleanField(default=False, verbose_name="new this month"),
        ),
        migrations.AddField(
            model_name="customermonth",
            name="is_mobile_group",
            field=models.BooleanField(default=False, verbose_name="mobile group customer"),
        ),
        migrations.AddField(
            model_name="customermonth",
            name="is_integrated",
            field=models.BooleanField(default=False, verbose_name="integrated-service customer"),
        ),
        migrations.AddField(
            model_name="customermonth",
            name="sticky_revenue",
            field=jiketong.core.money.MoneyField(
                decimal_places=2, default=0, max_digits=14, verbose_name="revenue from sticky products (yuan)"
            ),
        ),
        migrations.AddIndex(
            model_name="customermonth",
            index=models.Index(fields=["period", "-revenue"], name="billing_customer_month_top"),
        ),
        migrations.RemoveIndex(model_name="customermonth", name="billing_customer_month_period"),
        # Last: PostgreSQL refuses DDL on a table with updates pending their deferred foreign-key checks.
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
