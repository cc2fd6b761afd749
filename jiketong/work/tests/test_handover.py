"""客户交接: after a handover nothing stays with the old owner, every move is audited."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jiketong import testing
from jiketong.core.models import AuditEvent
from jiketong.customers.models import Customer
from jiketong.org.models import Role
from jiketong.sales.models import Lead, Opportunity, Stage
from jiketong.service.models import Ticket
from jiketong.work import queries, services
from jiketong.work.models import Handover, Task, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaving(cast):
    """Bob leaves 天河. He owns bob_customer and backed_up (which Alice backs up), backs up a third customer
    of Alice's, and has an open lead, an open opportunity, open and done tasks and an open ticket."""
    cast.admin = testing.make_staff("henry", cast.org["440100"], [Role.SUPERVISOR, Role.ADMIN], name="黄总")
    cast.third = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, backup_owner=cast.bob)
    cast.lead = Lead.objects.create(source="visit", name="天河新公司", org_unit=cast.org["440106"], owner=cast.bob)
    cast.opportunity = Opportunity.objects.create(
        customer=cast.bob_customer,
        name="专线扩容",
        owner=cast.bob,
        stage=Stage.objects.filter(is_won=False, is_lost=False).first(),
        expected_close=date(2026, 12, 31),
    )
    cast.open_task = services.task_create(
        cast.bob.user, owner=cast.bob, title="回访", due_on=date(2026, 6, 1), customer=cast.bob_customer
    )
    cast.personal_task = services.task_create(cast.bob.user, owner=cast.bob, title="整理周报", due_on=date(2026, 6, 1))
    cast.done_task = services.task_create(cast.bob.user, owner=cast.bob, title="旧任务", due_on=date(2026, 1, 1))
    services.task_complete(cast.bob.user, task=cast.done_task)
    now = timezone.now()
    cast.ticket = Ticket.objects.create(
        number="T0001",
        type="complaint",
        customer=cast.bob_customer,
        title="网络中断",
        owner=cast.bob,
        received_by=cast.bob,
        opened_at=now,
        response_due=now + timedelta(hours=1),
        resolve_due=now + timedelta(hours=4),
    )
    return cast


def test_handover_moves_everything_and_leaves_nothing_with_the_old_owner(leaving):
    c = leaving
    result = services.handover(c.carol.user, old_owner=c.bob, new_owner=c.alice, note="王强离职", disable_account=False)
    bob_customer, backed_up, third = (Customer.objects.get(pk=x.pk) for x in (c.bob_customer, c.backed_up, c.third))
    assert (bob_customer.owner_id, bob_customer.backup_owner_id) == (c.alice.pk, None)
    # Alice backed up backed_up; she now owns it, so the backup seat empties (owner ≠ backup).
    assert (backed_up.owner_id, backed_up.backup_owner_id) == (c.alice.pk, None)
    # Alice owned `third` with Bob as backup: the backup seat empties rather than naming her twice.
    assert (third.owner_id, third.backup_owner_id) == (c.alice.pk, None)
    assert Lead.objects.get(pk=c.lead.pk).owner_id == c.alice.pk
    assert Opportunity.objects.get(pk=c.opportunity.pk).owner_id == c.alice.pk
    assert Ticket.objects.get(pk=c.ticket.pk).owner_id == c.alice.pk
    assert set(Task.objects.filter(status=TaskStatus.OPEN).values_list("owner", flat=True)) == {c.alice.pk}
    assert Task.objects.get(pk=c.done_task.pk).owner_id == c.bob.pk, "closed work stays where it was done"
    assert result.counts == {
        "customers": 2,
        "backups": 1,
        "tasks": 2,
        "leads": 1,
        "opportunities": 1,
        "tickets": 1,
        "transfers_returned": 0,
    }
    c.bob.user.is_active = False
    c.bob.user.save()
    # Nothing is left for the orphan check.
    assert {name: qs.count() for name, qs in queries.orphans(c.carol.user).items()} == {
        "customers": 0,
        "tasks": 0,
        "leads": 0,
        "opportunities": 0,
        "tickets": 0,
    }
    events = AuditEvent.objects.filter(action="owner", target_type="customers.customer")
    assert {e.target_id for e in events} == {c.bob_customer.pk, c.backed_up.pk, c.third.pk}
    assert AuditEvent.objects.get(action="handover", target_type="work.handover").after["customers"] == 2


def test_an_admin_disables_the_leaving_account_in_the_same_step(leaving):
    c = leaving
    handover = services.handover(c.admin.user, old_owner=c.bob, new_owner=c.alice)
    c.bob.user.refresh_from_db()
    assert not c.bob.user.is_active and handover.account_disabled
    assert not Customer.objects.filter(owner=c.bob).exists()
    assert AuditEvent.objects.filter(action="deactivate", target_id=c.bob.pk).exists()


def test_the_orphan_check_finds_what_a_leaver_still_owns(leaving):
    c = leaving
    c.bob.user.is_active = False
    c.bob.user.save()
    counts = {name: qs.count() for name, qs in queries.orphans(c.carol.user).items()}
    assert counts == {"customers": 3, "tasks": 2, "leads": 1, "opportunities": 1, "tickets": 1}


def test_a_partial_handover_moves_only_the_chosen_customers(leaving):
    c = leaving
    services.handover(
        c.carol.user, old_owner=c.bob, new_owner=c.alice, customer_ids=[c.bob_customer.pk], disable_account=False
    )
    assert Customer.objects.get(pk=c.bob_customer.pk).owner_id == c.alice.pk
    assert Customer.objects.get(pk=c.backed_up.pk).owner_id == c.bob.pk
    assert Task.objects.get(pk=c.personal_task.pk).owner_id == c.bob.pk
    assert Task.objects.get(pk=c.open_task.pk).owner_id == c.alice.pk
    assert Handover.objects.get().all_customers is False


def test_only_supervisors_hand_over_and_only_admins_disable_accounts(leaving):
    c = leaving
    with pytest.raises(PermissionDenied):
        services.handover(c.alice.user, old_owner=c.bob, new_owner=c.alice, disable_account=False)
    with pytest.raises(ValidationError) as exc:
        services.handover(c.carol.user, old_owner=c.bob, new_owner=c.alice)
    assert "disable_account" in exc.value.message_dict
    assert Customer.objects.get(pk=c.bob_customer.pk).owner_id == c.bob.pk, "nothing half-written"


def test_a_supervisor_cannot_hand_over_someone_outside_their_subtree(leaving):
    from django.http import Http404

    c = leaving
    with pytest.raises(Http404):
        services.handover(c.dave.user, old_owner=c.bob, new_owner=c.alice, disable_account=False)


def test_the_new_owner_must_be_an_active_colleague(leaving):
    c = leaving
    with pytest.raises(ValidationError) as exc:
        services.handover(c.carol.user, old_owner=c.bob, new_owner=c.bob, disable_account=False)
    assert "new_owner" in exc.value.message_dict


def test_handover_pages(leaving, client_as):
    c = leaving
    client = client_as(c.admin)
    response = client.post(
        "/work/handovers/new/",
        {"old_owner": c.bob.pk, "new_owner": c.alice.pk, "disable_account": "on", "note": "离职"},
    )
    assert response.status_code == 302
    assert Customer.objects.filter(owner=c.bob).count() == 0
    assert "离职" in client.get("/work/handovers/").content.decode()
    assert client.get("/work/handovers/orphans/").status_code == 200
    assert client_as(c.alice).get("/work/handovers/new/").status_code == 403
