"""Layout, login, workbench and the audit log."""

import pytest
from django.test import Client
from django.urls import reverse

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers import services

pytestmark = pytest.mark.django_db


def test_pages_need_login():
    response = Client().get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_and_logs_in(cast):
    client = Client()
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "alice", "password": testing.PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_lockout_page_after_repeated_failures(cast, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "alice", "password": testing.PASSWORD})
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]


def test_layout_shows_name_unit_role_and_menu_by_role(cast, client_as):
    html = client_as(cast.alice).get(reverse("home")).content.decode()
    assert "李晓红" in html and "天河区分公司" in html
    assert reverse("audit:list") not in html
    assert 'name="language"' in html and reverse("logout") in html
    html = client_as(cast.grace).get(reverse("home")).content.decode()
    assert reverse("audit:list") in html


def test_home_counts_only_visible_customers(cast, client_as):
    response = client_as(cast.alice).get(reverse("home"))
    assert response.context["total"] == 2
    rows = {row["grade"]: row["total"] for row in response.context["rows"]}
    assert rows["C"] == 2
    assert f"{reverse('customers:list')}?grade=C&amp;status=active" in response.content.decode()


def test_home_query_count_is_bounded(cast, client_as, django_assert_max_num_queries):
    client = client_as(cast.carol)
    client.get(reverse("home"))
    with django_assert_max_num_queries(9):  # 8, and Carol's pending approvals (deals.queries.workbench_approvals)
        client.get(reverse("home"))


def test_language_switch(cast, client_as):
    client = client_as(cast.alice)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    assert 'lang="en"' in client.get(reverse("home")).content.decode()


def test_audit_log_for_auditor_in_scope_only(cast, client_as):
    services.customer_update(actor=cast.frank.user, customer=cast.alice_customer, address="广州")
    services.customer_update(actor=cast.frank.user, customer=cast.zhejiang_customer, address="杭州")
    response = client_as(cast.grace).get(reverse("audit:list"), {"action": AuditAction.UPDATE})
    assert response.status_code == 200
    events = [line.event for line in response.context["lines"]]
    assert {e.customer_id for e in events} == {cast.alice_customer.pk}


def test_audit_log_refused_to_managers_and_analysts(cast, client_as):
    assert client_as(cast.alice).get(reverse("audit:list")).status_code == 403
    assert client_as(cast.erin).get(reverse("audit:list")).status_code == 403


def test_audit_log_filters_by_actor_and_masks_phones(cast, client_as):
    services.contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="张三", mobile="13812345678")
    response = client_as(cast.frank).get(reverse("audit:list"), {"actor": "alice"})
    html = response.content.decode()
    assert AuditEvent.objects.filter(actor=cast.alice.user).count() == response.context["page"].paginator.count
    assert "13812345678" not in html and "138****5678" in html


@pytest.mark.parametrize(
    ("persona", "heading"),
    [("alice", "我名下客户"), ("carol", "辖区客户"), ("grace", "辖区客户"), ("frank", "全部客户")],
)
def test_workbench_names_the_customers_by_the_users_scope(cast, client_as, persona, heading):
    html = client_as(getattr(cast, persona)).get(reverse("home")).content.decode()
    portfolio = html[html.index('data-testid="portfolio-heading"') :][:200]
    assert heading in portfolio
    if persona != "alice":
        assert "我名下客户" not in html


def test_every_page_has_a_favicon(client):
    html = client.get(reverse("login")).content.decode()
    assert 'rel="icon"' in html and "favicon.svg" in html
