"""Decision 0605: the coverage page reads each manager's kept figures, which equal the live definition; lists
count up to a cap; a manager's activities are found through the portfolio's ids with the same rows as the join."""

from datetime import date

import pytest
from django.db.models import Q
from django.utils import timezone

from jiketong import testing
from jiketong.analytics import queries as analytics_queries
from jiketong.customers.models import Customer
from jiketong.org.scope import customer_scope
from jiketong.work import jobs, queries, services
from jiketong.work.models import Activity, CoverageSummary, Task

from .conftest import at

pytestmark = pytest.mark.django_db
TODAY = date(2026, 5, 20)


@pytest.fixture
def visited(graded, monkeypatch):
    """The worked example of test_visit_tasks (May 2026): Bob owes 4 visits and made 2 that count, Alice owes 1
    and made none in her period."""
    monkeypatch.setattr(timezone, "now", lambda: at(2026, 5, 20, 12))
    monkeypatch.setattr(timezone, "localdate", lambda *args: TODAY)
    c = graded
    c.c1 = testing.make_customer(org_unit=c.org["440106"], owner=c.bob, grade="C")
    c.c2 = testing.make_customer(org_unit=c.org["440106"], owner=c.bob, grade="C")
    bob, alice = c.bob.user, c.alice.user
    services.activity_create(bob, customer=c.bob_customer, happened_at=at(2026, 4, 2))
    services.activity_create(bob, customer=c.bob_customer, happened_at=at(2026, 5, 2))
    services.activity_create(bob, customer=c.c1, happened_at=at(2026, 2, 14))
    services.activity_create(bob, customer=c.c2, happened_at=at(2025, 12, 30))
    services.activity_create(alice, customer=c.alice_customer, happened_at=at(2026, 4, 28))
    return c


def _kept() -> dict[int, tuple[int, int]]:
    return {row.owner_id: (row.owed, row.done) for row in CoverageSummary.objects.all()}


def _live(user) -> dict[int, tuple[int, int]]:
    return {row.owner_id: (row.owed, row.done) for row in queries.coverage(queries.overseen_staff(user), TODAY)}


def test_the_nightly_coverage_equals_the_live_count_on_the_worked_example(visited):
    report = jobs.daily(TODAY)
    assert "coverage of" in report
    assert _kept()[visited.bob.pk] == (4, 2) and _kept()[visited.alice.pk] == (1, 0)
    assert _kept() == _live(visited.frank.user)


def test_a_visit_recorded_after_the_rebuild_updates_its_managers_row(visited, django_capture_on_commit_callbacks):
    services.coverage_refresh(TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        services.activity_create(visited.alice.user, customer=visited.alice_customer, happened_at=at(2026, 5, 19))
    assert _kept()[visited.alice.pk] == (1, 1)
    assert _kept() == _live(visited.frank.user)


def test_a_handover_moves_the_figures_with_the_customers(visited, django_capture_on_commit_callbacks):
    services.coverage_refresh(TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        services.handover(visited.frank.user, old_owner=visited.bob, new_owner=visited.alice)
    assert visited.bob.pk not in _kept()
    assert _kept()[visited.alice.pk] == (5, 2)
    assert _kept() == _live(visited.frank.user)


def test_the_coverage_page_reads_the_kept_rows_in_a_fixed_number_of_queries(
    visited, client_as, django_assert_max_num_queries
):
    for n in range(30):  # more managers with served customers: still one page query
        manager = testing.make_staff(f"m{n}", visited.org["440106"], ["customer_manager"])
        testing.make_customer(org_unit=visited.org["440106"], owner=manager, grade="C")
    services.coverage_refresh(TODAY)
    client = client_as(visited.carol)
    client.get("/work/compliance/coverage/")
    with django_assert_max_num_queries(12):
        page = client.get("/work/compliance/coverage/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="coverage-as-of"' in body
    assert "50.0%" in body  # Bob: 2 of 4


def test_before_the_first_rebuild_the_coverage_page_counts_live(visited, client_as):
    assert not CoverageSummary.objects.exists()
    page = client_as(visited.carol).get("/work/compliance/coverage/")
    assert "50.0%" in page.content.decode()
    assert 'data-testid="coverage-as-of"' not in page.content.decode()


def test_lists_count_up_to_the_cap_and_say_there_are_more(visited, client_as, monkeypatch):
    monkeypatch.setattr(analytics_queries.CappedPaginator.__init__, "__defaults__", (3,))
    page = client_as(visited.carol).get("/work/activities/")
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 3 and page.context["page"].paginator.capped
    assert "3" in page.content.decode()
    monkeypatch.setattr(analytics_queries.CappedPaginator.__init__, "__defaults__", (100,))
    page = client_as(visited.carol).get("/work/activities/")
    assert page.context["page"].paginator.count == 5 and not page.context["page"].paginator.capped


def test_the_activity_list_costs_the_same_queries_for_many_rows(visited, client_as, django_assert_max_num_queries):
    for n in range(40):
        services.activity_create(visited.bob.user, customer=visited.c1, happened_at=at(2026, 5, 1 + n % 19))
    client = client_as(visited.carol)
    client.get("/work/activities/")
    with django_assert_max_num_queries(10):
        assert client.get("/work/activities/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/work/activities/?page=2").status_code == 200


def test_a_managers_activities_and_tasks_are_the_rows_the_join_finds(visited):
    """The manager's scope lists the portfolio's ids instead of joining the customers: the same rows as the
    rule written as a join (customer owned or backed up, or the activity's own owner)."""
    c = visited
    Customer.objects.filter(pk=c.c1.pk).update(owner=c.alice, backup_owner=c.bob)  # Bob only backs c1 up now
    services.task_create(c.bob.user, owner=c.bob, title="个人待办", due_on=TODAY)
    for person in (c.alice, c.bob):
        user = person.user
        joined = Q(customer__isnull=False) & customer_scope(user, "customer__") | Q(owner=person.pk)
        assert set(Activity.objects.visible_to(user)) == set(Activity.objects.filter(joined))
        assert set(Task.objects.visible_to(user)) == set(Task.objects.filter(joined))
    assert Activity.objects.visible_to(c.bob.user).filter(customer=c.c1).exists()


def test_a_customer_leaving_service_takes_its_visits_off_its_managers_row(visited, django_capture_on_commit_callbacks):
    """Bob's B1 customer churns (离网): it owes no visit any more, so Bob owes 3 and has 1 done (the C visit)."""
    from jiketong.customers.services import customer_set_status

    services.coverage_refresh(TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        customer_set_status(actor=visited.frank.user, customer=visited.bob_customer, status="churned", reason="离网")
    assert _kept()[visited.bob.pk] == (3, 1)
    assert _kept() == _live(visited.frank.user)
