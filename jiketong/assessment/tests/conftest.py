"""The worked example of docs/assessment.md: Alice's November 2026, every component with a figure of its own.

Alice (customer manager, 天河区) owns four served customers (A1, B1, C, D): each owes one visit in its grade's
period containing 30 November (A monthly, B Q4, C H2, D the year). Bob, in the same county, has a plain month.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from axes.models import AccessLog
from django.utils import timezone

from jiketong import testing
from jiketong.billing.models import CustomerMonth
from jiketong.customers.models import Contact, Member
from jiketong.sales.models import Lead, Opportunity, Stage
from jiketong.service.models import Survey, SurveyAnswer, Ticket
from jiketong.work.models import Activity

MONTH = date(2026, 11, 1)
OCTOBER = date(2026, 10, 1)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def visit(customer, owner, day: date, kind: str = "visit", **links) -> Activity:
    return Activity.objects.create(
        kind=kind, subject="拜访", happened_at=at(day), customer=customer, owner=owner, **links
    )


def bill(customer, period: date, revenue: str, *, is_new: bool = False, products: int = 1) -> CustomerMonth:
    return CustomerMonth.objects.create(
        customer=customer, period=period, revenue=Decimal(revenue), is_new=is_new, products=products
    )


def backdate(obj, when: datetime) -> None:
    type(obj).objects.filter(pk=obj.pk).update(created_at=when)


def logins(staff, days: list[date]) -> None:
    for day in days:
        log = AccessLog.objects.create(
            username=staff.user.username,
            ip_address="10.0.0.1",
            user_agent="t",
            http_accept="*/*",
            path_info="/accounts/login/",
        )
        AccessLog.objects.filter(pk=log.pk).update(attempt_time=at(day, 9))
        AccessLog.objects.filter(pk=log.pk).update(attempt_time=at(day, 9))


def ticket(customer, owner, rating: int, rated: date, n: int) -> Ticket:
    opened = at(rated - timedelta(days=2))
    return Ticket.objects.create(
        number=f"T{n:06d}",
        type="inquiry",
        customer=customer,
        owner=owner,
        received_by=owner,
        title="咨询",
        opened_at=opened,
        response_due=opened,
        resolve_due=opened,
        status="closed",
        rating=rating,
        rated_at=at(rated),
    )


@pytest.fixture
def november(cast):
    """Alice's month (see the module docstring); returns the cast with her four customers as c1..c4."""
    a, c1 = cast.alice, cast.alice_customer
    type(c1).objects.filter(pk=c1.pk).update(grade="A1")
    c1.refresh_from_db()
    c2 = testing.make_customer(org_unit=cast.org["440106"], owner=a, grade="B1", name="天河第二中学")
    c3 = testing.make_customer(org_unit=cast.org["440106"], owner=a, grade="C", name="天河物流公司")
    c4 = testing.make_customer(org_unit=cast.org["440106"], owner=a, grade="D", name="天河酒店")
    cast.c1, cast.c2, cast.c3, cast.c4 = c1, c2, c3, c4
    # Visits: 2 for c1 in November (it owes 1), c2's in October counts for Q4, c4's in December is too late.
    visit(c1, a, date(2026, 11, 3))
    visit(c1, a, date(2026, 11, 20))
    visit(c2, a, date(2026, 10, 15))
    visit(c4, a, date(2026, 12, 1))
    visit(c3, a, date(2026, 11, 5), kind="call")  # a call is not a visit
    # Follow-ups: an open lead followed up in November, an open opportunity not.
    lead = Lead.objects.create(source="visit", name="天河新客户", org_unit=cast.org["440106"], owner=a)
    backdate(lead, at(date(2026, 10, 1)))
    visit(None, a, date(2026, 11, 12), kind="call", lead=lead)
    first = Stage.objects.filter(is_won=False, is_lost=False).order_by("order").first()
    open_opportunity = Opportunity.objects.create(
        customer=c1, name="专线扩容", owner=a, stage=first, expected_close=date(2026, 12, 31)
    )
    backdate(open_opportunity, at(date(2026, 9, 1)))
    # Won: one opportunity closed in November, ¥10,000 once + ¥2,000 a month = ¥34,000 in its first year.
    won = Opportunity.objects.create(
        customer=c2,
        name="校讯通",
        owner=a,
        stage=Stage.objects.get(is_won=True),
        expected_close=date(2026, 11, 10),
        closed_on=date(2026, 11, 10),
        amount_once=Decimal("10000"),
        amount_monthly=Decimal("2000"),
    )
    backdate(won, at(date(2026, 8, 1)))
    # Logins on 18 distinct days (twice on the 2nd); November 2026 has 21 working days.
    days = [date(2026, 11, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23, 24, 25)]
    logins(a, days + [date(2026, 11, 2)])
    logins(a, [date(2026, 10, 30)])
    # Billing: October c1 10,000 + c2 5,000 + c3 5,000; November c1 11,000 + c2 5,200 + c4 (new) 4,000; c3 churned.
    bill(c1, OCTOBER, "10000")
    bill(c2, OCTOBER, "5000")
    bill(c3, OCTOBER, "5000")
    bill(c1, MONTH, "11000")
    bill(c2, MONTH, "5200")
    bill(c4, MONTH, "4000", is_new=True)
    # Satisfaction: tickets rated 5 and 3, a survey of five dimensions scored 5, 4, 4, 3, 2 → 4 of 7 satisfied.
    ticket(c1, a, 5, date(2026, 11, 8), 1)
    ticket(c2, a, 3, date(2026, 11, 9), 2)
    ticket(c2, a, 1, date(2026, 10, 9), 3)  # October's rating is not November's
    survey = Survey.objects.create(customer=c1, period="2026-Q4", surveyed_by=a, surveyed_on=date(2026, 11, 15))
    for dimension, score in zip(["network", "service", "price", "product", "manager"], [5, 4, 4, 3, 2], strict=True):
        SurveyAnswer.objects.create(survey=survey, dimension=dimension, importance=3, satisfaction=score)
    # Archive: every customer has a USCC; c1 and c2 a key person; only c1 members.
    Contact.objects.create(customer=c1, name="张总", is_key_person=True)
    Contact.objects.create(customer=c2, name="李校长", is_key_person=True)
    Contact.objects.create(customer=c3, name="前任经理", is_key_person=True, left_on=date(2026, 6, 1))
    Member.objects.create(customer=c1, phone="13800000001", joined_on=date(2024, 1, 1))
    return cast
