"""`python -m jiketong demo` ends on a real morning: the daily jobs ran, so warnings, inboxes, dashboards and
the agenda have content for the demo logins."""

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from jiketong.analytics.indicators import Calculation
from jiketong.churn import queries as churn_queries
from jiketong.churn.models import RiskLevel
from jiketong.core.models import EventHandling, HandlingStatus, Notification
from jiketong.customers.models import LifecycleStatus
from jiketong.work.queries import agenda

# The roles the churn warning list is offered to (ChurnConfig.nav): everyone but the auditor reads it there.
WARNING_READERS = ["admin", "manager", "inside", "supervisor", "analyst", "sysadmin"]


def user(username):
    return get_user_model().objects.get(username=username)


def test_the_demo_ends_on_a_morning_with_warnings_inboxes_dashboards_and_an_agenda(
    db, django_capture_on_commit_callbacks
):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # each job's reactions, as after its commit
        call_command("demo", groups=300, stdout=out)
    assert "customers scored" in out.getvalue() and "jiketong.analytics.jobs.daily" in out.getvalue()
    for username in WARNING_READERS:
        assert churn_queries.warnings(user(username))[1].exists(), username

    manager = user("manager")
    warned = churn_queries.warnings(manager)[1].filter(risk=RiskLevel.HIGH)
    assert warned.exists()
    assert warned.first().customer.status == LifecycleStatus.AT_RISK
    assert Notification.objects.filter(recipient=manager, kind="churn_warning").exists()
    assert not EventHandling.objects.exclude(status=HandlingStatus.DONE).exists()
    assert agenda(manager, timezone.localdate())

    summary = Calculation(user("supervisor"))
    live = Calculation(user("supervisor"))
    live.__dict__["summarised"] = False
    assert summary.summarised and summary.total("in_service")
    for code in ("in_service", "revenue", "churned_customers", "new_customers"):
        assert summary.total(code) == live.total(code), code
