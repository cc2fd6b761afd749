"""Defaults of DOMAIN §8: the working hours, the State Council's holiday arrangements that the
chinese-calendar package knows (from 2025 on), and the SLA policies. Admins change them afterwards."""

from datetime import date, time

from django.db import migrations

# (type, grade, minutes to first response, minutes to resolution), in working minutes. With the default
# day of 7 working hours (09:00–12:00, 13:30–17:30), "half a working day" for a complaint is taken as the
# longer half, the 4-hour afternoon (240 minutes), see docs/decisions/0401-service-business-calendar.md.
SLA_DEFAULTS = [
    ("inquiry", "", 10, 420),
    ("complaint", "", 30, 240),
    ("fault", "", 30, 840),
    ("request", "", 60, 2100),
    # Grade A customers are served faster.
    ("inquiry", "A", 5, 240),
    ("complaint", "A", 15, 120),
    ("fault", "A", 15, 420),
]
FIRST_YEAR = 2025


def seed(apps, schema_editor):
    from chinese_calendar import constants

    BusinessCalendar = apps.get_model("service", "BusinessCalendar")
    WorkingPeriod = apps.get_model("service", "WorkingPeriod")
    CalendarDay = apps.get_model("service", "CalendarDay")
    SlaPolicy = apps.get_model("service", "SlaPolicy")

    calendar = BusinessCalendar.objects.create(name="默认工作日历", timezone="Asia/Shanghai", weekend="6,7")
    WorkingPeriod.objects.bulk_create(
        [
            WorkingPeriod(calendar=calendar, start=time(9, 0), end=time(12, 0)),
            WorkingPeriod(calendar=calendar, start=time(13, 30), end=time(17, 30)),
        ]
    )
    days = {}
    for day, name in constants.holidays.items():
        if day >= date(FIRST_YEAR, 1, 1):
            days[day] = CalendarDay(date=day, is_workday=False, name=_chinese(name))
    for day, name in constants.workdays.items():
        if day >= date(FIRST_YEAR, 1, 1):
            days[day] = CalendarDay(date=day, is_workday=True, name=_chinese(name) + "调休")
    CalendarDay.objects.bulk_create(sorted(days.values(), key=lambda d: d.date))
    SlaPolicy.objects.bulk_create(
        [
            SlaPolicy(ticket_type=kind, grade=grade, response_minutes=response, resolution_minutes=resolution)
            for kind, grade, response, resolution in SLA_DEFAULTS
        ]
    )


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def _chinese(name) -> str:
    text = str(name)
    return HOLIDAY_NAMES.get(text, text)[:30]


def unseed(apps, schema_editor):
    for model in ("SlaPolicy", "CalendarDay", "WorkingPeriod", "BusinessCalendar"):
        apps.get_model("service", model).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
