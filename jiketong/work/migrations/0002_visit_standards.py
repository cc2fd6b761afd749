"""The default visit standards of DOMAIN §7: A monthly, B quarterly, C twice a year, D yearly."""

from django.db import migrations

DEFAULTS = {"A1": 1, "A2": 1, "B1": 3, "B2": 3, "C": 6, "D": 12}


def seed(apps, schema_editor):
    VisitStandard = apps.get_model("work", "VisitStandard")
    for grade, months in DEFAULTS.items():
        VisitStandard.objects.get_or_create(grade=grade, defaults={"visits": 1, "interval_months": months})


class Migration(migrations.Migration):
    dependencies = [("work", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
