"""Work pages and API: quick entry from the 360 page, lists with bounded queries, tasks, the inbox."""

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jiketong import testing
from jiketong.core.models import Notification
from jiketong.core.notify import notify
from jiketong.work import services
from jiketong.work.models import Activity, Task, TaskStatus
from jiketong.work.panels import customer_panel

pytestmark = pytest.mark.django_db


def _activities(cast, n):
    for i in range(n):
        customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice)
        services.activity_create(cast.alice.user, customer=customer, kind="call", subject=f"电话{i}")
        services.task_create(
            cast.alice.user, owner=cast.alice, title=f"任务{i}", due_on=date(2026, 7, 1), customer=customer
        )


def test_the_360_panel_costs_at_most_three_queries(cast, django_assert_max_num_queries):
    _activities(cast, 3)
    for _i in range(12):
        services.activity_create(cast.alice.user, customer=cast.alice_customer, kind="call")
    request = RequestFactory().get("/")
    request.user = cast.alice.user
    from jiketong.org.models import staff_of

    staff_of(request.user)  # the 360 page has loaded the staff record already
    with django_assert_max_num_queries(2):
        panel = customer_panel(request, cast.alice_customer)
    assert len(panel["activities"]) == 10


def test_a_manager_records_a_visit_from_the_360_page_and_the_visit_task_closes(cast, client_as):
    from jiketong.customers.models import Customer

    Customer.objects.filter(pk=cast.alice_customer.pk).update(grade="A1")
    services.generate_visit_tasks(timezone.localdate())
    task = Task.objects.get(customer=cast.alice_customer)
    client = client_as(cast.alice)
    page = client.get(f"/customers/{cast.alice_customer.pk}/").content.decode()
    assert 'data-testid="work-panel"' in page and task.title in page
    url = f"/work/customers/{cast.alice_customer.pk}/visit/"
    form = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="happened_at"' in form
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"kind": "visit", "happened_at": now, "notes": "拜访张总"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "拜访" in response.content.decode() and 'data-testid="no-open-tasks"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_a_bad_entry_shows_the_error_on_its_field(cast, client_as):
    url = f"/work/customers/{cast.alice_customer.pk}/visit/"
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_as(cast.alice).post(url, {"kind": "visit", "happened_at": future})
    assert response.status_code == 200
    assert 'data-field-error="happened_at"' in response.content.decode()
    assert not Activity.objects.exists()


def test_the_mobile_quick_entry_page_is_a_single_column_form(cast, client_as):
    page = client_as(cast.alice).get(f"/work/customers/{cast.alice_customer.pk}/visit/").content.decode()
    assert 'data-testid="activity-form"' in page and 'name="viewport"' in page


def test_an_analyst_cannot_record_activities(cast, client_as):
    assert client_as(cast.erin).get(f"/work/customers/{cast.alice_customer.pk}/visit/").status_code == 403


@pytest.mark.parametrize("url", ["/work/activities/", "/work/tasks/", "/work/tasks/?all=1"])
def test_lists_cost_the_same_queries_at_3_and_30_rows(cast, client_as, django_assert_max_num_queries, url):
    _activities(cast, 3)
    client = client_as(cast.alice)
    client.get(url)
    with django_assert_max_num_queries(9):
        small = client.get(url)
    _activities(cast, 27)
    with django_assert_max_num_queries(9):
        large = client.get(url)
    assert small.status_code == large.status_code == 200
    assert "电话2" in large.content.decode() or "任务2" in large.content.decode()


def test_a_manager_sees_only_their_own_and_their_customers_work(cast, client_as):
    services.activity_create(cast.bob.user, customer=cast.bob_customer, subject="鲍勃的拜访")
    services.task_create(cast.bob.user, owner=cast.bob, title="鲍勃的私人任务", due_on=date(2026, 7, 1))
    alice = client_as(cast.alice)
    assert "鲍勃的拜访" not in alice.get("/work/activities/").content.decode()
    assert "鲍勃的私人任务" not in alice.get("/work/tasks/?all=1").content.decode()
    task = Task.objects.get(title="鲍勃的私人任务")
    assert alice.get(f"/work/tasks/{task.pk}/").status_code == 404
    # Carol supervises 广州: she sees Bob's personal task through his org unit.
    assert "鲍勃的私人任务" in client_as(cast.carol).get("/work/tasks/?all=1").content.decode()


def test_complete_and_cancel_a_task(cast, client_as):
    client = client_as(cast.alice)
    task = services.task_create(cast.alice.user, owner=cast.alice, title="回访", due_on=date(2026, 7, 1))
    response = client.post(f"/work/tasks/{task.pk}/cancel/", {"reason": ""})
    assert response.status_code == 400 and 'data-field-error="reason"' in response.content.decode()
    client.post(f"/work/tasks/{task.pk}/complete/")
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    other = services.task_create(cast.alice.user, owner=cast.alice, title="旧事", due_on=date(2026, 7, 1))
    client.post(f"/work/tasks/{other.pk}/cancel/", {"reason": "客户取消"})
    other.refresh_from_db()
    assert other.status == TaskStatus.CANCELLED


def test_a_manager_cannot_give_tasks_to_colleagues(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.task_create(cast.alice.user, owner=cast.bob, title="代办", due_on=date(2026, 7, 1))
    assert "owner" in exc.value.message_dict
    task = services.task_create(
        cast.carol.user, owner=cast.bob, title="挽留", due_on=date(2026, 7, 1), kind="retention"
    )
    assert task.owner_id == cast.bob.pk


def test_the_inbox_lists_filters_and_marks_read(cast, client_as):
    notify([cast.alice.pk], kind="digest", title="今日待办", url="/work/agenda/")
    notify([cast.alice.pk], kind="contract", title="合同即将到期")
    notify([cast.bob.pk], kind="digest", title="鲍勃的提醒")
    client = client_as(cast.alice)
    page = client.get("/work/notifications/").content.decode()
    assert "今日待办" in page and "鲍勃的提醒" not in page
    first = Notification.objects.get(title="今日待办")
    response = client.post(f"/work/notifications/{first.pk}/read/", {"follow": "1"})
    assert response.status_code == 302 and response["Location"] == "/work/agenda/"
    unread = client.get("/work/notifications/?unread=1").content.decode()
    assert "今日待办" not in unread and "合同即将到期" in unread
    bobs = Notification.objects.get(title="鲍勃的提醒")
    assert client.post(f"/work/notifications/{bobs.pk}/read/").status_code == 404
    client.post("/work/notifications/read-all/")
    assert not Notification.objects.filter(recipient=cast.alice.user, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=bobs.pk).read_at is None


def test_api_records_an_activity_and_lists_tasks(cast, client_as):
    client = client_as(cast.alice)
    response = client.post(
        "/api/v1/activities",
        json.dumps(
            {"customer": cast.alice_customer.pk, "kind": "call", "next_step": "发方案", "next_step_on": "2099-01-05"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = client.get("/api/v1/tasks").json()
    assert [item["title"] for item in body["items"]] == ["发方案"]
    task_id = body["items"][0]["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/complete").json()["status"] == "done"


def test_api_answers_field_errors_and_hides_other_customers(cast, client_as):
    client = client_as(cast.alice)
    hidden = client.post(
        "/api/v1/activities", json.dumps({"customer": cast.bob_customer.pk}), content_type="application/json"
    )
    assert hidden.status_code == 400 and "customer" in hidden.json()["errors"]
    bad = client.post(
        "/api/v1/tasks", json.dumps({"title": "", "due_on": "2026-07-01"}), content_type="application/json"
    )
    assert bad.status_code == 400 and "title" in bad.json()["errors"]
    bobs = services.activity_create(cast.bob.user, customer=cast.bob_customer)
    assert client.get(f"/api/v1/activities/{bobs.pk}").status_code == 404


@pytest.mark.parametrize(
    "url", ["/work/agenda/", "/work/notifications/", "/work/handovers/", "/work/compliance/coverage/"]
)
def test_pages_cost_the_same_queries_at_3_and_30_rows(cast, client_as, url):
    from jiketong.customers.models import Contact

    def grow(n):
        for i in range(n):
            customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.bob)
            Contact.objects.create(customer=customer, name=f"关键人{i}", birthday=timezone.localdate())
            services.task_create(
                cast.bob.user, owner=cast.bob, title=f"任务{i}", due_on=timezone.localdate(), customer=customer
            )
            notify([cast.carol.pk], kind="digest", title=f"提醒{i}")
            services.handover(cast.carol.user, old_owner=cast.bob, new_owner=cast.alice, customer_ids=[customer.pk],
                              disable_account=False)  # fmt: skip
            services.activity_create(cast.alice.user, customer=customer)

    def count(client, page):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        return len(queries)

    grow(3)
    client = client_as(cast.carol)
    page = f"{url}?manager={cast.alice.pk}" if "agenda" in url else url
    client.get(page)
    small = count(client, page)
    grow(27)
    assert count(client, page) == small <= 14


def test_api_agenda_inbox_and_handover(cast, client_as):
    from jiketong.customers.models import Contact

    Contact.objects.create(customer=cast.alice_customer, name="张总", birthday=timezone.localdate())
    notify([cast.alice.pk], kind="digest", title="今日待办")
    alice = client_as(cast.alice)
    items = alice.get("/api/v1/agenda").json()
    assert any(item["kind"] == "birthday" and "张总" in item["title"] for item in items)
    inbox = alice.get("/api/v1/notifications?unread=true").json()
    assert inbox["count"] == 1
    assert alice.post(f"/api/v1/notifications/{inbox['items'][0]['id']}/read").json()["read_at"]
    assert alice.post("/api/v1/notifications/read-all").json() == {"marked": 0}
    body = {"old_owner": cast.bob.pk, "new_owner": cast.alice.pk, "disable_account": False, "note": "调岗"}
    assert alice.post("/api/v1/handovers", json.dumps(body), content_type="application/json").status_code == 403
    carol = client_as(cast.carol)
    created = carol.post("/api/v1/handovers", json.dumps(body), content_type="application/json")
    assert created.status_code == 201 and created.json()["counts"]["customers"] == 2
    assert carol.get("/api/v1/handovers").json()["count"] == 1
    assert client_as(cast.dave).get("/api/v1/handovers").json()["count"] == 0


def test_contacts_present_are_the_customers_own(cast, client_as):
    from django.core.exceptions import ValidationError

    from jiketong.customers.models import Contact

    mine = Contact.objects.create(customer=cast.alice_customer, name="张总")
    theirs = Contact.objects.create(customer=cast.bob_customer, name="王总")
    client = client_as(cast.alice)
    url = f"/work/customers/{cast.alice_customer.pk}/visit/"
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {"kind": "visit", "happened_at": now, "contacts": [mine.pk]}).status_code == 302
    assert list(Activity.objects.get().contacts.all()) == [mine]
    with pytest.raises(ValidationError) as exc:
        services.activity_create(cast.alice.user, customer=cast.alice_customer, contacts=[theirs])
    assert "contacts" in exc.value.message_dict
