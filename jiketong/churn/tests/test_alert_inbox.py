"""The risk inbox (风险提醒): scoped lists, filters, acknowledge / resolve / retention task through the services
(audited), the API, bounded queries."""

from datetime import date

import pytest
from django.urls import reverse

from jiketong import testing
from jiketong.churn import services
from jiketong.churn.models import AlertKind, AlertStatus, RiskAlert
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.core.notes import stored
from jiketong.defence.models import Plan, PlanKind
from jiketong.work.models import Task, TaskKind

INBOX = reverse("churn:alerts")
TODAY = date(2026, 11, 20)


def alert(customer, kind=AlertKind.MEMBERS_DOWN, key="2026-10", raised_on=TODAY, **fields) -> RiskAlert:
    reason = stored("Members down %(pct)s%% on last month (%(before)s → %(after)s)", pct=35, before=120, after=78)
    return RiskAlert.objects.create(
        kind=kind, customer=customer, key=key, occurred_on=date(2026, 10, 1), raised_on=raised_on, reason=reason,
        owner=customer.owner, **fields,
    )  # fmt: skip


@pytest.fixture
def inbox(cast):
    cast.a_alice = alert(cast.alice_customer, raised_on=date(2026, 11, 19))
    cast.a_bob = alert(cast.bob_customer, AlertKind.ARREARS_BEGAN)
    cast.a_backed = alert(cast.backed_up, AlertKind.KEY_PERSON_LEFT, key="contact:1", status=AlertStatus.RESOLVED)
    cast.a_shenzhen = alert(cast.shenzhen_customer)
    cast.a_zhejiang = alert(cast.zhejiang_customer)
    return cast


def customers(response) -> list[str]:
    return [a.customer.name for a in response.context["page"].object_list]


def test_a_manager_sees_the_alerts_of_the_portfolio_newest_first(client_as, inbox):
    response = client_as(inbox.alice).get(INBOX)
    assert customers(response) == [inbox.backed_up.name, inbox.alice_customer.name]


def test_a_supervisor_sees_the_subtree(client_as, inbox):
    response = client_as(inbox.carol).get(INBOX)
    assert customers(response) == [inbox.backed_up.name, inbox.bob_customer.name, inbox.alice_customer.name]
    assert inbox.zhejiang_customer.name not in response.content.decode()


def test_the_reason_reads_in_chinese(client_as, inbox):
    body = client_as(inbox.alice).get(INBOX).content.decode()
    assert "成员数较上月下降 35%（120→78）" in body
    assert "风险提醒" in body


def test_filters_by_kind_status_region_and_customer(client_as, inbox):
    client = client_as(inbox.carol)
    assert customers(client.get(INBOX, {"kind": "arrears_began"})) == [inbox.bob_customer.name]
    assert customers(client.get(INBOX, {"status": "resolved"})) == [inbox.backed_up.name]
    assert customers(client.get(INBOX, {"region": "440104"})) == [inbox.backed_up.name]
    assert customers(client.get(INBOX, {"customer": inbox.alice_customer.pk})) == [inbox.alice_customer.name]
    assert client.get(INBOX, {"region": "330000"}).context["filter"].errors["region"]


def test_htmx_filter_answers_the_table_only(client_as, inbox):
    body = client_as(inbox.carol).get(INBOX, {"kind": "members_down"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="alert-table"' in body and "<html" not in body


def test_the_inbox_is_in_the_menu(client_as, inbox):
    assert f'href="{INBOX}"' in client_as(inbox.alice).get(reverse("churn:warnings")).content.decode()


def test_inbox_queries_do_not_grow_with_rows(client_as, cast, django_assert_max_num_queries):
    for _ in range(3):
        alert(testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice))
    client = client_as(cast.carol)
    client.get(INBOX)  # warm the session
    with django_assert_max_num_queries(12) as small:
        client.get(INBOX)
    for _ in range(30):
        alert(testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice), supervisor=cast.carol)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(INBOX)
    assert len(response.context["page"].object_list) == 20


# --- actions -------------------------------------------------------------------------------------------
def test_acknowledge_then_resolve_with_a_note_is_audited(client_as, inbox):
    client = client_as(inbox.alice)
    assert client.post(reverse("churn:alert_acknowledge", args=[inbox.a_alice.pk])).status_code == 302
    inbox.a_alice.refresh_from_db()
    assert inbox.a_alice.status == AlertStatus.ACKNOWLEDGED and inbox.a_alice.acknowledged_by == inbox.alice.user
    response = client.post(reverse("churn:alert_resolve", args=[inbox.a_alice.pk]), {"note": "已上门走访，成员回流"})
    assert response.status_code == 302
    inbox.a_alice.refresh_from_db()
    assert (inbox.a_alice.status, inbox.a_alice.resolution) == (AlertStatus.RESOLVED, "已上门走访，成员回流")
    assert inbox.a_alice.resolved_by == inbox.alice.user and inbox.a_alice.resolved_at is not None
    trail = AuditEvent.objects.filter(target_type="churn.riskalert", target_id=inbox.a_alice.pk).order_by("pk")
    assert [(e.action, e.after["status"]) for e in trail] == [
        (AuditAction.STATUS, "acknowledged"), (AuditAction.STATUS, "resolved"),
    ]  # fmt: skip


def test_resolving_needs_a_note(client_as, inbox):
    url = reverse("churn:alert_resolve", args=[inbox.a_alice.pk])
    response = client_as(inbox.alice).post(url, {"note": " "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "请说明对该提醒做了什么" in response.content.decode()
    inbox.a_alice.refresh_from_db()
    assert inbox.a_alice.status == AlertStatus.OPEN


def test_an_htmx_action_answers_the_row(client_as, inbox):
    url = reverse("churn:alert_acknowledge", args=[inbox.a_alice.pk])
    body = client_as(inbox.alice).post(url, HTTP_HX_REQUEST="true").content.decode()
    assert f'id="alert-{inbox.a_alice.pk}"' in body and "已确认" in body and "<html" not in body


def test_someone_elses_alert_answers_404(client_as, inbox):
    for name in ("alert_acknowledge", "alert_resolve", "alert_retention"):
        response = client_as(inbox.alice).post(reverse(f"churn:{name}", args=[inbox.a_bob.pk]), {"note": "x"})
        assert response.status_code == 404
    inbox.a_bob.refresh_from_db()
    assert inbox.a_bob.status == AlertStatus.OPEN


def test_an_analyst_may_read_but_not_act(client_as, inbox):
    client = client_as(inbox.erin)
    assert client.get(INBOX).status_code == 200
    assert client.post(reverse("churn:alert_acknowledge", args=[inbox.a_bob.pk])).status_code == 403


def test_one_click_retention_task_from_an_alert_opens_the_retention_case(
    client_as, inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(inbox.carol).post(reverse("churn:alert_retention", args=[inbox.a_alice.pk]))
    assert response.status_code == 302
    task = Task.objects.get(customer=inbox.alice_customer, kind=TaskKind.RETENTION)
    assert task.owner == inbox.alice
    assert task.note.startswith("成员数较上月下降 35%（120→78）")
    inbox.a_alice.refresh_from_db()
    assert inbox.a_alice.task == task and inbox.a_alice.status == AlertStatus.ACKNOWLEDGED
    assert Plan.objects.get(customer=inbox.alice_customer, kind=PlanKind.RETENTION).task == task
    # A second click keeps the one task.
    with django_capture_on_commit_callbacks(execute=True):
        client_as(inbox.carol).post(reverse("churn:alert_retention", args=[inbox.a_alice.pk]))
    assert Task.objects.filter(customer=inbox.alice_customer, kind=TaskKind.RETENTION).count() == 1


def test_a_resolved_alert_cannot_be_resolved_again(inbox):
    with pytest.raises(Exception, match="已经解决|already resolved"):
        services.alert_resolve(actor=inbox.bob.user, alert=inbox.a_backed, note="再次")


# --- API -------------------------------------------------------------------------------------------------
def test_api_lists_the_callers_alerts_with_filters(client_as, inbox):
    client = client_as(inbox.carol)
    body = client.get("/api/v1/churn/alerts").json()
    assert body["count"] == 3
    assert [a["customer"] for a in body["items"]] == [inbox.backed_up.pk, inbox.bob_customer.pk,
                                                      inbox.alice_customer.pk]  # fmt: skip
    first = client.get("/api/v1/churn/alerts", {"kind": "members_down"}).json()["items"][0]
    assert first["reason"] == "成员数较上月下降 35%（120→78）" and first["status"] == "open"
    assert client.get("/api/v1/churn/alerts", {"status": "nope"}).status_code == 400


def test_api_acknowledge_resolve_and_retention_task(client_as, inbox, django_capture_on_commit_callbacks):
    client = client_as(inbox.alice)
    base = f"/api/v1/churn/alerts/{inbox.a_alice.pk}"
    assert client.post(f"{base}/acknowledge").json()["status"] == "acknowledged"
    response = client.post(f"{base}/resolve", {"note": ""}, content_type="application/json")
    assert response.status_code == 400 and "note" in response.json()["errors"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{base}/retention-task")
    assert response.status_code == 201 and response.json()["created"] is True
    assert client.post(f"{base}/retention-task").status_code == 200
    resolved = client.post(f"{base}/resolve", {"note": "已挽留"}, content_type="application/json").json()
    assert resolved["status"] == "resolved" and resolved["resolution"] == "已挽留"
    assert client.post(f"/api/v1/churn/alerts/{inbox.a_bob.pk}/acknowledge").status_code == 404


def test_the_services_refuse_an_alert_outside_the_actors_scope(inbox):
    from django.http import Http404

    with pytest.raises(Http404):
        services.alert_acknowledge(actor=inbox.alice.user, alert=inbox.a_bob)
    with pytest.raises(Http404):
        services.alert_resolve(actor=inbox.alice.user, alert=inbox.a_bob, note="x")
    inbox.a_bob.refresh_from_db()
    assert inbox.a_bob.status == AlertStatus.OPEN


def test_a_note_past_500_characters_is_refused(inbox):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.alert_resolve(actor=inbox.alice.user, alert=inbox.a_alice, note="长" * 501)
    assert list(refused.value.message_dict) == ["note"]
