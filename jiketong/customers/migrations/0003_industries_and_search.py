from django.db import migrations

from jiketong.core.migration_ops import PostgresOnlySQL

# DOMAIN §4's default list, with how each industry is approached.
INDUSTRIES = [
    ("government", "党政军", "centralised"),
    ("finance", "金融（银行/证券/保险）", "centralised"),
    ("education", "教育", "centralised"),
    ("healthcare", "医疗卫生", "centralised"),
    ("transport", "交通物流", "fragmented"),
    ("manufacturing", "工业制造", "fragmented"),
    ("energy", "能源电力", "closed"),
    ("retail", "商贸零售", "fragmented"),
    ("hospitality", "酒店餐饮", "fragmented"),
    ("construction", "建筑房地产", "fragmented"),
    ("it", "信息技术/互联网", "fragmented"),
    ("agriculture", "农林牧渔", "fragmented"),
    ("media", "文化传媒", "closed"),
    ("other", "其他", "fragmented"),
]


def create_industries(apps, schema_editor):
    Industry = apps.get_model("customers", "Industry")
    for order, (code, name, approach) in enumerate(INDUSTRIES, start=1):
        Industry.objects.update_or_create(code=code, defaults={"name": name, "approach": approach, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]
    operations = [
        migrations.RunPython(create_industries, migrations.RunPython.noop),
        # Substring search over name, pinyin, USCC and number at province scale.
        PostgresOnlySQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
            "CREATE INDEX customers_search_trgm ON customers_customer USING gin (search_text gin_trgm_ops);",
            "DROP INDEX IF EXISTS customers_search_trgm;",
        ),
        # Prefix (LIKE 'x%') lookups on the hierarchy path whatever the database collation.
        PostgresOnlySQL(
            "CREATE INDEX customers_path_pattern ON customers_customer (path varchar_pattern_ops);",
            "DROP INDEX IF EXISTS customers_path_pattern;",
        ),
    ]
