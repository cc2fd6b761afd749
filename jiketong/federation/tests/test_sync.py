"""Province → HQ: the outbox, the batches, the cursor, retries, and what HQ accepts."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from jiketong.billing.models import CustomerMonth
from jiketong.customers.services import customer_update

from .. import client, collect
from ..models import GroupUnit, IndicatorCell, NationalGroup, OutboxRow, Province, ProvinceMonth, SyncState, UnitMonth
from .conftest import MOBILE, PERIOD, PHONE, as_province, hq_call

pytestmark = pytest.mark.django_db


def sync(provinces, code="440000"):
    with as_province(code, token=provinces[code]):
        collect.collect()
        return client.send_due(force=True)


def test_a_province_sends_its_shared_group_with_its_own_units_months_and_cells(national, provinces, hq_link):
    result = sync(provinces)
    assert not result.failed and result.sent > 0
    group = NationalGroup.objects.get(key=national.alice_customer.uscc)
    assert group.name == "广州地铁集团有限公司"
    units = {unit.name: unit for unit in GroupUnit.objects.filter(group=group)}
    # Only Guangdong's units: 杭州 is Zhejiang's to send.
    assert set(units) == {"广州地铁集团有限公司", "广州地铁深圳分公司"}
    assert units["广州地铁集团有限公司"].is_head and units["广州地铁集团有限公司"].owner_name == "李晓红"
    assert units["广州地铁深圳分公司"].province == "440000"
    assert UnitMonth.objects.filter(group=group, period=PERIOD).count() == 2
    assert IndicatorCell.objects.filter(province="440000", period=PERIOD).exists()
    assert not IndicatorCell.objects.filter(org_unit_code="330106").exists()
    month = ProvinceMonth.objects.get(province="440000", period=PERIOD)
    assert month.revenue == Decimal("1100000.00")
    province = Province.objects.get(code="440000")
    assert province.last_seq == OutboxRow.objects.order_by("-pk").first().pk and province.last_batch_at


def test_sending_and_collecting_again_changes_nothing(national, provinces, hq_link):
    sync(provinces)
    counts = [model.objects.count() for model in (NationalGroup, GroupUnit, UnitMonth, IndicatorCell)]
    outbox = OutboxRow.objects.count()
    again = sync(provinces)
    assert again.sent == 0  # nothing changed: nothing to send
    assert OutboxRow.objects.count() == outbox
    with as_province(token=provinces["440000"]):
        assert collect.resync(date(2026, 1, 1)) == outbox
        assert client.send_due(force=True).sent == outbox  # sent again, landing on the same rows
    assert [model.objects.count() for model in (NationalGroup, GroupUnit, UnitMonth, IndicatorCell)] == counts


def test_a_changed_unit_is_sent_again_and_one_that_left_the_group_is_removed(national, provinces, hq_link):
    from jiketong.testing import system_user

    sync(provinces)
    customer_update(actor=system_user(), customer=national.shenzhen_unit, grade="A1", grade_reason="national")
    CustomerMonth.objects.filter(customer=national.alice_customer).update(revenue=Decimal("900000"))
    result = sync(provinces)
    assert result.sent == 2  # the unit and the head's month, nothing else
    assert GroupUnit.objects.get(name="广州地铁深圳分公司").grade == "A1"
    assert UnitMonth.objects.get(key=national.alice_customer.uscc).revenue == Decimal("900000")
    national.shenzhen_unit.org_unit = national.org["330106"]  # booked in Zhejiang now: no longer Guangdong's
    national.shenzhen_unit.save(update_fields=["org_unit"])
    sync(provinces)
    assert not GroupUnit.objects.filter(name="广州地铁深圳分公司", province="440000").exists()
    assert not UnitMonth.objects.filter(key=national.shenzhen_unit.uscc, province="440000").exists()


def test_a_province_cannot_write_another_provinces_rows(national, provinces):
    row = {
        "seq": 1,
        "province": "330000",
        "kind": "group",
        "key": "X",
        "period": "",
        "payload": {"uscc": "", "group_code": "G1", "name": "冒名集团", "industry": "it"},
    }
    response = hq_call(provinces["440000"], "POST", "batches", {"province": "440000", "rows": [row]})
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"} and "330000" in response.json()["detail"]
    response = hq_call(provinces["440000"], "POST", "batches", {"province": "330000", "rows": [row]})
    assert response.status_code == 403
    assert not NationalGroup.objects.exists()
    assert Province.objects.get(code="440000").refused == 2


def test_a_payload_key_hq_does_not_receive_is_refused(provinces):
    row = {
        "seq": 1,
        "province": "440000",
        "kind": "unit",
        "key": "U1",
        "period": "",
        "payload": {"group": "G", "name": "某单位", "org_unit_code": "440106", "mobile": PHONE},
    }
    response = hq_call(provinces["440000"], "POST", "batches", {"province": "440000", "rows": [row]})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["rows.0.payload.mobile"]
    assert not GroupUnit.objects.exists()


def test_a_wrong_token_is_401(provinces):
    response = hq_call("fed_not-a-token", "POST", "batches", {"province": "440000", "rows": []})
    assert response.status_code == 401 and set(response.json()) == {"detail", "errors"}


def test_hq_holds_no_member_phone_numbers_or_key_person_mobiles(national, provinces, hq_link):
    sync(provinces)
    sent = json.dumps(list(OutboxRow.objects.values_list("payload", flat=True)), ensure_ascii=False)
    assert national.alice_customer.name in sent
    assert PHONE not in sent and MOBILE not in sent and "张总" not in sent
    config = apps.get_app_config("federation")
    hq_models = [
        "Province",
        "NationalGroup",
        "GroupUnit",
        "UnitMonth",
        "IndicatorCell",
        "ProvinceMonth",
        "NationalAccount",
        "NationalTarget",
        "Directive",
    ]
    with connection.cursor() as cursor:
        for name in hq_models:
            table = config.get_model(name)._meta.db_table
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            text = json.dumps(cursor.fetchall(), default=str, ensure_ascii=False)
            assert PHONE not in text and MOBILE not in text, table


def test_a_failed_send_keeps_the_cursor_waits_and_catches_up_later(national, provinces, hq_link):
    hq_link.down = True
    with as_province(token=provinces["440000"]):
        collect.collect()
        failed = client.send_due()
        assert failed.failed and SyncState.objects.get().sent_through == 0
        state = SyncState.objects.get()
        assert state.failures == 1 and state.next_attempt_at > timezone.now()
        assert client.send_due().skipped  # waits out the pause
        client.send_due(force=True)
        assert SyncState.objects.get().next_attempt_at - timezone.now() > timedelta(seconds=50)  # doubled
        hq_link.down = False
        caught_up = client.send_due(now=timezone.now() + timedelta(hours=2))
    assert caught_up.sent == OutboxRow.objects.count()
    state = SyncState.objects.get()
    assert state.failures == 0 and state.sent_through == OutboxRow.objects.order_by("-pk").first().pk
    assert GroupUnit.objects.count() == 2


def test_batches_follow_the_cursor_in_order(national, provinces, hq_link, settings):
    settings.FEDERATION_BATCH_ROWS = 2
    with as_province(token=provinces["440000"]):
        collect.collect()
        total = OutboxRow.objects.count()
        first = client.send_due(force=True, max_batches=1)
        assert first.sent == 2 and SyncState.objects.get().sent_through == OutboxRow.objects.order_by("pk")[1].pk
        assert Province.objects.get(code="440000").pending == total - 2  # what the first batch left behind
        rest = client.send_due(force=True)
    assert first.sent + rest.sent == total
    assert Province.objects.get(code="440000").pending == 0


def test_an_old_replay_does_not_overwrite_a_newer_row(provinces):
    def unit(seq, grade):
        payload = {"group": "G1", "name": "单位", "org_unit_code": "440106", "grade": grade}
        return {"seq": seq, "province": "440000", "kind": "unit", "key": "U1", "period": "", "payload": payload}

    token = provinces["440000"]
    assert hq_call(token, "POST", "batches", {"province": "440000", "rows": [unit(5, "A1")]}).status_code == 200
    assert hq_call(token, "POST", "batches", {"province": "440000", "rows": [unit(3, "C")]}).status_code == 200
    assert GroupUnit.objects.get().grade == "A1"


def test_resync_command_replays_from_a_month(national, provinces, hq_link, capsys):
    with as_province(token=provinces["440000"]):
        call_command("federation", "collect")
        call_command("federation", "sync")
        call_command("federation", "resync", "--since", "2026-05")
    out = capsys.readouterr().out
    assert "已重新排队 7 行" in out  # commands speak Chinese
    assert GroupUnit.objects.count() == 2


def test_a_lifecycle_change_of_a_unit_queues_its_group(
    national, provinces, hq_link, django_capture_on_commit_callbacks
):
    from jiketong.testing import system_user

    with as_province(token=provinces["440000"]), django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=system_user(), customer=national.shenzhen_unit, status="at_risk")
    unit = OutboxRow.objects.get(kind="unit", key=national.shenzhen_unit.uscc)
    assert unit.payload["status"] == "at_risk" and unit.payload["at_risk"] is True


def test_a_lifecycle_change_of_a_group_hq_does_not_see_queues_nothing(
    national, provinces, hq_link, django_capture_on_commit_callbacks
):
    from jiketong.testing import system_user

    with as_province(token=provinces["440000"]), django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=system_user(), customer=national.bob_customer, status="at_risk")
    assert not OutboxRow.objects.filter(scope=national.bob_customer.uscc or f"code:{national.bob_customer.number}")
    assert not OutboxRow.objects.filter(key__in=[national.bob_customer.uscc, f"code:{national.bob_customer.number}"])


def test_a_single_instance_does_not_subscribe_to_events(national):
    from jiketong.core.events import subscriptions

    reactions = {path for _label, reaction in subscriptions()["customer.lifecycle_changed"] for path in [reaction.path]}
    assert "jiketong.federation.reactions.group_changed" not in reactions
    with as_province():
        reactions = {reaction.path for _label, reaction in subscriptions()["customer.lifecycle_changed"]}
    assert "jiketong.federation.reactions.group_changed" in reactions


def test_a_supervisor_shares_a_group_with_hq_and_a_manager_cannot(national):
    from django.core.exceptions import PermissionDenied

    from ..models import SharedGroup
    from ..services import group_share

    SharedGroup.objects.all().delete()
    with pytest.raises(PermissionDenied):
        group_share(actor=national.alice.user, customer=national.shenzhen_unit)
    with pytest.raises(PermissionDenied):  # 深圳 is outside Carol's 广州
        group_share(actor=national.carol.user, customer=national.shenzhen_unit)
    shared = group_share(actor=national.carol.user, customer=national.alice_customer)
    assert shared.customer == national.alice_customer and shared.reason == "province"


def test_each_refused_batch_is_counted_though_two_requests_read_the_province_at_once(provinces):
    from ..services import batch_refused

    first, second = Province.objects.get(code="440000"), Province.objects.get(code="440000")
    batch_refused(first)
    batch_refused(second)
    assert Province.objects.get(code="440000").refused == 2
