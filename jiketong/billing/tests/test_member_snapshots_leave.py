"""A member snapshot import that no longer lists a number: the member left (archive, subscriptions, BOSS order)."""

from datetime import date
from decimal import Decimal

import pytest

from jiketong.billing import services
from jiketong.catalog.models import Subscription
from jiketong.catalog.services import subscription_create
from jiketong.core.models import Event
from jiketong.customers.models import Member
from jiketong.customers.services import members_bulk_add
from jiketong.deals.models import LineAction, Order

HEADER = ("账期", "客户编号", "手机号码", "是否本网")
JAN = [("202601", "C001", phone, "是") for phone in ("13800000001", "13800000002", "13800000003")]
FEB = [("202602", "C001", "13800000001", "是"), ("202602", "C001", "13800000004", "是")]


@pytest.fixture
def load(billing, django_capture_on_commit_callbacks):
    """Import a members file; the reactions' own events (member.left) are handled after their commit, as
    in production."""

    def run_file(path):
        run = services.import_file(actor=billing.erin.user, path=path, kind="members", mode="all")
        with django_capture_on_commit_callbacks(execute=True):
            return services.run_import(run.pk)

    return run_file


def archive(cast):
    customer = cast.alice_customer
    rows = [{"phone": phone, "joined_on": date(2025, 1, 1)} for phone in ("13800000001", "13800000002",
                                                                           "13800000003", "13900000009")]  # fmt: skip
    members_bulk_add(actor=cast.alice.user, customer=customer, rows=rows, all_or_nothing=True)
    vnet = subscription_create(actor=cast.alice.user, customer=customer, product=cast.vnet, start_on=date(2025, 1, 1),
                               quantity=4, members=list(Member.objects.filter(customer=customer)))  # fmt: skip
    return customer, vnet


def current(customer) -> list[str]:
    return sorted(Member.objects.current().filter(customer=customer).values_list("phone", flat=True))


def test_numbers_gone_from_the_newest_snapshot_leave_the_group_and_its_v_net(billing, write_csv, load):
    customer, vnet = archive(billing)
    load(write_csv(JAN, header=HEADER, name="jan.csv"))
    assert not Event.objects.filter(name="member.left").exists()  # no month before to compare with
    run = load(write_csv(FEB, header=HEADER, name="feb.csv"))
    assert run.status == "succeeded", run.message
    # 13900000009 was never in a snapshot: BOSS says nothing about it.
    assert current(customer) == ["13800000001", "13900000009"]
    gone = Member.objects.filter(customer=customer, phone__in=["13800000002", "13800000003"])
    assert {m.left_on for m in gone} == {date(2026, 2, 1)}
    [event] = Event.objects.filter(name="member.left")
    assert sorted(event.payload["members"]) == sorted(m.pk for m in gone) and event.payload["left_on"] == "2026-02-01"
    assert sorted(Subscription.objects.get(pk=vnet.pk).members.values_list("phone", flat=True)) == [
        "13800000001", "13900000009",
    ]  # fmt: skip
    [order] = Order.objects.filter(customer=customer)
    assert [line.action for line in order.lines.all()] == [LineAction.REMOVE_MEMBERS]
    assert order.lines.get().quantity == 2 and Subscription.objects.get(pk=vnet.pk).quantity == 2


def test_a_back_filled_older_snapshot_moves_nobody(billing, write_csv, load):
    customer, _vnet = archive(billing)
    load(write_csv(JAN + FEB, header=HEADER, name="both.csv"))  # newest is February: two leave
    assert current(customer) == ["13800000001", "13900000009"]
    dec = [("202512", "C001", phone, "是") for phone in ("13800000001", "13900000009")]
    load(write_csv(dec, header=HEADER, name="dec.csv"))
    assert Event.objects.filter(name="member.left").count() == 1


def test_the_same_snapshot_loaded_again_changes_nothing_more(billing, write_csv, load):
    customer, _vnet = archive(billing)
    load(write_csv(JAN + FEB, header=HEADER, name="both.csv"))
    load(write_csv(FEB, header=HEADER, name="feb.csv"))
    assert Event.objects.filter(name="member.left").count() == 1
    assert Order.objects.filter(customer=customer).count() == 1
    assert Decimal(Subscription.objects.get(customer=customer).quantity) == 2
