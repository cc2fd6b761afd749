"""Demo data of the assessment, so the scorecards show a real day: a login history for every manager (axes' access
log, on most working days), the province's default weights and targets (version 1) and a personal version for
the `manager` login, and the two newest billed months computed, the older one closed (frozen) by the admin."""

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from jiketong.analytics.periods import add_months
from jiketong.billing.models import CustomerMonth
from jiketong.org.models import OrgUnit, Staff

from . import compute, loyalty, services
from .components import default_terms
from .models import AssessmentMonth, LoyaltyFact, ManagerScore, RankGrades, ScoreSettings, UnitScore


def _access_log():
    from axes.models import AccessLog

    return AccessLog


RESET_MODELS = [ManagerScore, UnitScore, AssessmentMonth, ScoreSettings, RankGrades, LoyaltyFact, _access_log()]
LOGIN_SHARE = 0.85  # of working days


def _logins(builder, months: list[date]) -> int:
    """Logins on LOGIN_SHARE of the working days of each manager, appended through the builder's writer (COPY on
    PostgreSQL) with their time set as they are written (the model's attempt_time is auto_now_add)."""
    from axes.models import AccessLog

    rng = builder.rng
    adapt = connection.ops.adapt_datetimefield_value
    names = [person.user.username for person in compute.managers()]
    fields = ["username", "ip_address", "user_agent", "http_accept", "path_info", "attempt_time", "session_hash"]
    made = 0
    for period in months:
        day, rows = period, []
        while day < add_months(period, 1):
            if day.isoweekday() < 6:
                moment = adapt(timezone.make_aware(datetime(day.year, day.month, day.day, 8, 30)))
                rows += [
                    (name, "10.20.0.1", "demo", "*/*", "/accounts/login/", moment, "")
                    for name in names
                    if rng.random() < LOGIN_SHARE
                ]
            day += timedelta(days=1)
        builder.writer.write(AccessLog, fields, rows)
        made += len(rows)
    return made


def generate(builder) -> None:
    newest = CustomerMonth.objects.order_by("-period").values_list("period", flat=True).first()
    if newest is None:
        return
    months = [add_months(newest, -1), newest]
    logins = _logins(builder, months)
    admin = get_user_model().objects.filter(username="admin").first()
    province = OrgUnit.objects.filter(code="440000").first()
    if admin is None or province is None:
        return
    services.settings_save(actor=admin, org_unit=province, valid_from=months[0], terms=default_terms(), cap="1.20")
    manager = Staff.objects.filter(user__username="manager").first()
    if manager is not None:
        own = default_terms() | {"won_value": {"weight": 15, "target": "120000"}}
        services.settings_save(actor=admin, staff=manager, valid_from=months[0], terms=own, cap="1.20")
    for period in months:
        compute.month_compute(period)
        loyalty.refresh(period)
    services.month_close(actor=admin, period=months[0])
    builder.progress(f"assessment: {len(months)} months scored, {months[0]:%Y-%m} closed, {logins:,} logins")
