"""History a person can read: the 360 change history and the audit log name people, records, stages and
choices instead of showing ids and codes, in the reader's language, with a bounded number of queries."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiketong import testing
from jiketong.core.models import AuditAction
from jiketong.customers import services
from jiketong.customers.models import Industry
from jiketong.sales import services as sales_services
from jiketong.sales.models import Stage

pytestmark = pytest.mark.django_db


def detail_url(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def history_html(client, customer) -> str:
    html = client.get(detail_url(customer)).content.decode()
    return html[html.index('id="history-section"') :]


def make_opportunity(cast, **fields):
    values = {"name": "专线升级", "expected_close": date(2026, 12, 15)} | fields
    return sales_services.opportunity_create(actor=cast.alice.user, customer=cast.alice_customer, **values)


def test_a_stage_change_shows_stage_names_and_the_action_in_chinese(cast, client_as):
    opportunity = make_opportunity(cast)
    sales_services.opportunity_move(cast.alice.user, opportunity, Stage.objects.get(code="solution"))
    html = history_html(client_as(cast.alice), cast.alice_customer)
    assert "需求发现" in html and "方案制定" in html
    assert "阶段变更" in html and "Stage changed" not in html
    assert f'href="{reverse("sales:opportunity_detail", args=[opportunity.pk])}"' in html


def test_the_audit_log_names_record_types_actions_and_people(cast, client_as):
    make_opportunity(cast)
    html = client_as(cast.grace).get(reverse("audit:list")).content.decode()
    table = html[html.index('data-testid="audit-table"') :]
    assert "sales.opportunity" not in table and "customers.customer" not in table
    assert "商机" in table and "集团客户" in table
    assert "新建" in table or "创建" in table
    # The actor by name with their unit, not the login.
    assert "李晓红" in table and "天河区分公司" in table
    assert ">alice<" not in table


def test_a_customer_the_reader_may_not_see_is_hidden_and_one_they_may_see_is_linked(cast, client_as):
    services.affiliation_create(
        actor=cast.frank.user,
        customer=cast.alice_customer,
        related=cast.zhejiang_customer,
        kind="equity",
        direction="controls",
    )
    services.affiliation_create(
        actor=cast.frank.user,
        customer=cast.alice_customer,
        related=cast.bob_customer,
        kind="equity",
        direction="mutual",
    )
    alice = history_html(client_as(cast.alice), cast.alice_customer)
    assert "杭州西湖教育集团" not in alice and "隐藏" in alice
    assert "股权控制" in alice or "Control by equity" not in alice  # the choice by its label
    frank = history_html(client_as(cast.frank), cast.alice_customer)
    assert f'href="{detail_url(cast.zhejiang_customer)}">杭州西湖教育集团</a>' in frank
    assert "吴刚" in frank  # who did it, by name


def test_owner_and_region_ids_are_shown_by_name(cast, client_as):
    services.customer_update(actor=cast.carol.user, customer=cast.alice_customer, backup_owner=cast.bob)
    html = history_html(client_as(cast.carol), cast.alice_customer)
    assert "王强" in html and "天河区分公司" in html
    assert f"→ <ins>{cast.bob.pk}</ins>" not in html


def test_a_lead_outside_the_auditors_province_is_hidden_in_the_audit_log(cast, client_as):
    sales_services.lead_create(
        actor=cast.dave.user,
        source="visit",
        name="西湖数码科技有限公司",
        org_unit=cast.org["330106"],
        industry=Industry.objects.get(code="it"),
        confirm_duplicates=True,
    )
    html = client_as(cast.grace).get(reverse("audit:list")).content.decode()
    assert "西湖数码科技有限公司" not in html
    html = client_as(cast.frank).get(reverse("audit:list")).content.decode()
    assert "西湖数码科技有限公司" in html


def _audit_activity(cast, n: int) -> None:
    """n customers, opportunities with stage changes, contacts and affiliations: many kinds of record."""
    for i in range(n):
        customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name=f"历史客户{i}")
        opportunity = sales_services.opportunity_create(
            actor=cast.alice.user, customer=customer, name=f"商机{i}", expected_close=date(2026, 12, 15)
        )
        sales_services.opportunity_move(cast.alice.user, opportunity, Stage.objects.get(code="solution"))
        services.contact_create(actor=cast.alice.user, customer=customer, name=f"联系人{i}", mobile=f"1380000{i:04d}")
        services.affiliation_create(
            actor=cast.frank.user, customer=customer, related=cast.alice_customer, kind="equity", direction="controls"
        )
        services.customer_update(actor=cast.carol.user, customer=customer, backup_owner=cast.bob)


def _count(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


AUDIT_LOG_MAX_QUERIES = 16


def test_audit_log_query_count_is_bounded_and_does_not_grow_with_rows(cast, client_as):
    client = client_as(cast.frank)
    _audit_activity(cast, 2)
    client.get(reverse("audit:list"))
    small = _count(client, reverse("audit:list"))
    _audit_activity(cast, 12)
    large = _count(client, reverse("audit:list"))
    assert large <= small <= AUDIT_LOG_MAX_QUERIES


def test_360_history_query_count_does_not_grow_with_rows(cast, client_as):
    client = client_as(cast.alice)
    url = detail_url(cast.alice_customer)
    opportunity = make_opportunity(cast)
    sales_services.opportunity_move(cast.alice.user, opportunity, Stage.objects.get(code="solution"))
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "history-section"}
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as small:
        client.get(url, **headers)
    for i in range(15):
        make_opportunity(cast, name=f"商机{i}")
        services.contact_create(actor=cast.alice.user, customer=cast.alice_customer, name=f"人{i}")
    with CaptureQueriesContext(connection) as large:
        client.get(url, **headers)
    assert len(large) <= len(small) + 1  # contacts appear on the page: one lookup more, not one per row


def test_every_audit_action_and_audited_record_type_reads_in_chinese():
    from django.utils import translation

    from jiketong.customers.history import record_type_label

    types = ["customers.customer", "customers.contact", "sales.lead", "sales.opportunity", "deals.quote",
             "service.ticket", "work.task", "core.auditevent", "work.follow_ups"]  # fmt: skip
    with translation.override("en"):
        english = [str(label) for _value, label in AuditAction.choices] + [record_type_label(t) for t in types]
    with translation.override("zh-hans"):
        chinese = [str(label) for _value, label in AuditAction.choices] + [record_type_label(t) for t in types]
    assert [en for en, zh in zip(english, chinese, strict=True) if en == zh] == []


# --- people by name where usernames were shown ---------------------------------------------------------
def test_stage_history_shows_who_by_name(cast, client_as):
    opportunity = make_opportunity(cast)
    sales_services.opportunity_move(cast.alice.user, opportunity, Stage.objects.get(code="solution"))
    html = client_as(cast.alice).get(reverse("sales:opportunity_detail", args=[opportunity.pk])).content.decode()
    history = html[html.index('data-testid="stage-history"') :]
    history = history[: history.index("</ul>")]
    assert "李晓红" in history and "alice" not in history


def test_grade_history_shows_who_by_name(cast, client_as):
    services.customer_update(actor=cast.carol.user, customer=cast.alice_customer, grade="B1", grade_reason="收入增长")
    html = client_as(cast.alice).get(detail_url(cast.alice_customer)).content.decode()
    grades = html[html.index('id="grades-section"') :]
    grades = grades[: grades.index("</section>")]
    assert "陈静" in grades and "carol" not in grades


def test_words_a_service_writes_read_in_the_readers_language_not_the_writers(cast, client_as, settings):
    # Written while English is active (this suite's default): as an English-UI user, an import or a job would.
    added = services.members_bulk_add(
        actor=cast.alice.user, customer=cast.alice_customer, all_or_nothing=True,
        rows=[{"phone": "13800138001", "joined_on": date(2024, 1, 1)}],
    )  # fmt: skip
    assert added.ok, added.errors
    new = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name="天河示例科技有限公司")
    services.customer_update(actor=cast.carol.user, customer=new, grade="B1", grade_reason="收入增长")

    chinese = client_as(cast.alice)
    html = chinese.get(detail_url(cast.alice_customer)).content.decode()
    assert "已添加 1 名成员" in html and "members added" not in html
    grades = chinese.get(detail_url(new)).content.decode()
    assert "初始定级" in grades and "Initial grade" not in grades
    assert "收入增长" in grades  # what a person typed stays as typed

    english = client_as(cast.alice)
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "1 members added" in english.get(detail_url(cast.alice_customer)).content.decode()
