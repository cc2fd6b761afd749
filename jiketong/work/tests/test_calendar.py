"""Lunar holidays and the care agenda."""

from datetime import date

import pytest
from django.utils import timezone

from jiketong import testing
from jiketong.customers.models import Contact, ContactDate, Customer
from jiketong.work import queries, services
from jiketong.work.holidays import holidays, holidays_between

from .conftest import at


@pytest.mark.parametrize(
    ("year", "spring", "mid_autumn"),
    [
        (2024, date(2024, 2, 10), date(2024, 9, 17)),
        (2025, date(2025, 1, 29), date(2025, 10, 6)),
        (2026, date(2026, 2, 17), date(2026, 9, 25)),
        (2027, date(2027, 2, 6), date(2027, 9, 15)),
    ],
)
def test_spring_and_mid_autumn_festivals_follow_the_lunar_calendar(year, spring, mid_autumn):
    days = {name: day for day, name in holidays(year)}
    assert days["Spring Festival"] == spring
    assert days["Mid-Autumn Festival"] == mid_autumn
    assert days["National Day"] == date(year, 10, 1)


def test_a_window_across_new_year_finds_both_years_holidays():
    names = [name for _day, name in holidays_between(date(2025, 12, 20), date(2026, 2, 20))]
    assert names == ["New Year's Day", "Spring Festival"]


@pytest.mark.django_db
def test_agenda_groups_care_dates_holidays_and_tasks_by_day(cast, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(timezone, "now", lambda: at(2026, 9, 10, 9))
    alice = cast.alice
    customer = cast.alice_customer
    Customer.objects.filter(pk=customer.pk).update(cooperation_since=date(2016, 9, 20))
    kp = Contact.objects.create(customer=customer, name="张总", title="总经理", birthday=date(1970, 9, 12))
    ContactDate.objects.create(contact=kp, label="入职纪念日", date=date(2010, 10, 2))
    Contact.objects.create(customer=customer, name="外人", birthday=date(1980, 11, 1))  # outside the window
    Contact.objects.create(customer=cast.bob_customer, name="王总", birthday=date(1975, 9, 12))  # Bob's customer
    services.task_create(alice.user, owner=alice, title="送中秋礼品", due_on=date(2026, 9, 24), customer=customer)
    services.task_create(alice.user, owner=alice, title="逾期回访", due_on=date(2026, 9, 1), customer=customer)
    with django_assert_max_num_queries(8):
        days = dict(queries.agenda(alice.user, date(2026, 9, 10)))
    titles = {day: [item.title for item in items] for day, items in days.items()}
    assert titles[date(2026, 9, 10)] == ["逾期回访"]
    assert titles[date(2026, 9, 12)] == ["Birthday of 张总 (总经理)"]
    assert titles[date(2026, 9, 20)] == ["10 years of cooperation"]
    assert titles[date(2026, 9, 24)] == ["送中秋礼品"]
    assert titles[date(2026, 9, 25)] == ["Mid-Autumn Festival"]
    assert titles[date(2026, 10, 1)] == ["National Day"]
    assert titles[date(2026, 10, 2)] == ["张总: 入职纪念日"]
    assert "王总" not in str(titles)


@pytest.mark.django_db
def test_agenda_queries_do_not_grow_with_the_portfolio(cast, django_assert_max_num_queries):
    for i in range(30):
        customer = testing.make_customer(
            org_unit=cast.org["440106"], owner=cast.alice, cooperation_since=date(2020, 3, 5)
        )
        Contact.objects.create(customer=customer, name=f"联系人{i}", birthday=date(1980, 3, 6))
    with django_assert_max_num_queries(8):
        days = queries.agenda(cast.alice.user, date(2026, 3, 1))
    assert len(dict(days)[date(2026, 3, 6)]) == 30


@pytest.mark.django_db
def test_the_agenda_page_renders_for_a_manager(cast, client_as):
    response = client_as(cast.alice).get("/work/agenda/?start=2026-09-20")
    assert response.status_code == 200
    assert "中秋节" in response.content.decode()
    assert response.content.decode().count('data-kind="holiday"') == 2  # 中秋, 国庆


@pytest.mark.django_db
def test_agenda_shows_the_portfolios_expiring_contracts(cast):
    from decimal import Decimal

    from jiketong.deals.models import Contract, ContractStatus

    for number, customer in (("HT-001", cast.alice_customer), ("HT-002", cast.bob_customer)):
        Contract.objects.create(
            number=number, customer=customer, value=Decimal("1200.00"), start_on=date(2025, 10, 1),
            end_on=date(2026, 9, 30), status=ContractStatus.ACTIVE,
        )  # fmt: skip
    days = dict(queries.agenda(cast.alice.user, date(2026, 9, 15)))
    assert [item.title for item in days[date(2026, 9, 30)]] == ["Contract HT-001 expires"]
