"""One word, one meaning: where an English word means two things, each meaning has its own Chinese (a
context), so a contract is 生效中 while a customer is 在网, a visit standard runs 每月 while an opportunity's
amount is 月收入, a task has a 标题 and a person a 职务. The catalogue test (test_catalogues) keeps the class;
these pin the places the issue named."""

import pytest
from django.urls import reverse
from django.utils import translation

from jiketong.core.events import EVENTS
from jiketong.core.models import AuditAction, HandlingStatus
from jiketong.customers.models import Contact, CustomerSource, LifecycleStatus, ServiceLevel
from jiketong.deals.models import Contract, ContractStatus, OrderLine, OrderStateChange, Quote
from jiketong.service.models import Channel, Ticket, TicketEvent
from jiketong.webhooks.models import DeliveryStatus
from jiketong.work.models import INTERVAL_CHOICES, ActivityKind, Handover, Task


def zh(value) -> str:
    with translation.override("zh-hans"):
        return str(value)


def verbose(model, field: str) -> str:
    return zh(model._meta.get_field(field).verbose_name)


@pytest.mark.parametrize(
    ("value", "chinese"),
    [
        (lambda: LifecycleStatus.ACTIVE.label, "在网"),
        (lambda: ContractStatus.ACTIVE.label, "生效中"),
        (lambda: dict(INTERVAL_CHOICES)[1], "每月"),
        (lambda: verbose(Task, "title"), "标题"),
        (lambda: verbose(Quote, "title"), "标题"),
        (lambda: verbose(Contract, "title"), "标题"),
        (lambda: verbose(Ticket, "title"), "标题"),
        (lambda: verbose(Contact, "title"), "职务"),
        (lambda: ActivityKind.EVENT.label, "联谊活动"),
        (lambda: HandlingStatus.PENDING.label, "待处理"),
        (lambda: DeliveryStatus.PENDING.label, "待发送"),
        (lambda: AuditAction.CREATE.label, "新建"),
        (lambda: CustomerSource.IMPORT.label, "批量导入"),
        (lambda: ServiceLevel.GOLD.label, "金牌"),
        (lambda: verbose(OrderLine, "action"), "业务类型"),
        (lambda: verbose(OrderStateChange, "from_status"), "原状态"),
        (lambda: verbose(TicketEvent, "from_status"), "原状态"),
        (lambda: verbose(Handover, "old_owner"), "移交人"),
        (lambda: Channel.EMAIL.label, "邮件"),
    ],
)
def test_each_meaning_has_its_own_chinese(value, chinese):
    assert zh(value()) == chinese


def test_the_events_the_webhook_form_offers_are_described_in_chinese():
    with translation.override("zh-hans"):
        descriptions = {name: str(description) for name, (description, _fields) in EVENTS.items()}
    english = [name for name, text in descriptions.items() if text.isascii()]
    assert english == []
    assert descriptions["contract.status_changed"] == "合同生效、续约、终止或到期"


@pytest.mark.django_db
def test_the_events_page_speaks_chinese(cast, client_as):
    html = client_as(cast.frank).get(reverse("events:list")).content.decode()
    for word in ("事件", "处理程序", "尝试次数", "最近错误", "各模块之间互相通知的事件"):
        assert word in html
    assert "联谊活动" not in html and "Reaction" not in html and "Last error" not in html


@pytest.mark.django_db
def test_an_active_contract_reads_as_in_force_not_as_a_customer_in_network(cast, client_as):
    from datetime import date
    from decimal import Decimal

    from jiketong.deals import services

    contract = services.contract_create(actor=cast.alice.user, customer=cast.alice_customer, start_on=date(2026, 1, 1),
                                        end_on=date(2026, 12, 31), value=Decimal("1200"))  # fmt: skip
    services.contract_activate(actor=cast.alice.user, contract=contract, signed_on=date(2026, 1, 1))
    html = client_as(cast.alice).get(reverse("deals:contract_detail", args=[contract.pk])).content.decode()
    assert "生效中" in html and "在网" not in html.split("<main", 1)[-1].split("客户", 1)[0]
