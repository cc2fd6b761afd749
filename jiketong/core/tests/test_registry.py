"""The seams other apps plug into: inbox notifications, menu entries, 360 panels and the jobs command."""

import io
import types
from datetime import date

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from jiketong.core.models import Notification
from jiketong.core.notify import notify
from jiketong.core.registry import NavItem, app_modules, customer_panels, nav_items
from jiketong.org.models import Role


def test_notify_delivers_once_per_key(cast):
    users = [cast.alice.pk, cast.carol.pk]
    assert notify(users, kind="contract_expiry", title="合同将于30天后到期", key="contract:1:30") == 2
    assert notify(users + [cast.bob.pk], kind="contract_expiry", title="again", key="contract:1:30") == 1
    assert Notification.objects.filter(key="contract:1:30").count() == 3
    assert Notification.objects.get(recipient=cast.bob.user, key="contract:1:30").title == "again"


def test_notify_without_key_always_delivers(cast):
    notify([cast.alice.pk], kind="digest", title="今日待办")
    notify([cast.alice.pk], kind="digest", title="今日待办")
    assert Notification.objects.filter(recipient=cast.alice.user).unread().count() == 2


def test_nav_items_follow_roles(cast, monkeypatch):
    config = apps.get_app_config("sales")
    monkeypatch.setattr(
        config,
        "nav",
        [
            NavItem("Everyone", "home", order=2),
            NavItem("Supervisors", "home", roles=frozenset({Role.SUPERVISOR}), order=1),
        ],
    )
    assert [item.label for item in nav_items(cast.carol.user) if item.url_name == "home"] == ["Supervisors", "Everyone"]
    assert [item.label for item in nav_items(cast.alice.user) if item.url_name == "home"] == ["Everyone"]


def _side_panel(request, customer):
    return {"template": "x.html", "column": "side", "order": 5, "name": customer.name}


def _hidden_panel(request, customer):
    return None


def test_customer_panels_are_collected_in_order(cast, monkeypatch):
    config = apps.get_app_config("sales")
    monkeypatch.setattr(
        config, "customer_panels", [f"{__name__}._hidden_panel", f"{__name__}._side_panel", f"{__name__}._side_panel"]
    )
    # Only this app contributes here, so the other apps' real panels stay out of the test.
    monkeypatch.setattr("jiketong.core.registry.apps.get_app_configs", lambda: [config])
    panels = customer_panels(None, cast.alice_customer)
    assert panels["main"] == []
    assert [p["name"] for p in panels["side"]] == [cast.alice_customer.name] * 2


def test_app_modules_skips_apps_without_the_module_but_not_broken_imports():
    names = [module.__name__ for module in app_modules("apps")]
    assert "jiketong.customers.apps" in names and "jiketong.core.apps" in names
    assert app_modules("no_such_module") == []


def test_jobs_command_passes_the_date_or_time_to_each_apps_job(monkeypatch):
    seen = {}
    job = types.SimpleNamespace(
        __name__="jiketong.fake.jobs",
        daily=lambda today: seen.setdefault("daily", today) and "3 reminders",
        frequent=lambda now: seen.setdefault("frequent", now) and "0 breaches",
    )
    monkeypatch.setattr("jiketong.core.management.commands.jobs.app_modules", lambda name: [job])
    out = io.StringIO()
    call_command("jobs", "daily", "--at", "2026-11-23", stdout=out)
    call_command("jobs", "frequent", "--at", "2026-11-23T09:05", stdout=out)
    assert seen["daily"] == date(2026, 11, 23)
    assert timezone.localtime(seen["frequent"]).hour == 9
    assert "jiketong.fake.jobs.daily: 3 reminders" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("jobs", "daily", "--at", "23/11/2026")
