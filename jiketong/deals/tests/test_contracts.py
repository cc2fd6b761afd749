"""Contracts: creation from quotes, status transitions, renewal chains, expiry reminders, attachments."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jiketong.core.models import AuditAction, AuditEvent, Notification
from jiketong.deals import queries, services
from jiketong.deals.models import Contract, ContractStatus
from jiketong.deals.tests.conftest import make_quote

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 1)


def contract_for(deals, *, end_on, start_on=date(2025, 1, 1), auto_renew=False, status=ContractStatus.ACTIVE):
    contract = services.contract_create(
        actor=deals.alice.user,
        customer=deals.alice_customer,
        start_on=start_on,
        end_on=end_on,
        value=Decimal("12000"),
        auto_renew=auto_renew,
    )
    if status == ContractStatus.ACTIVE:
        # Signed on its first day, or today for one that starts later (a signature is not in the future).
        signed_on = min(start_on, timezone.localdate())
        contract = services.contract_activate(actor=deals.alice.user, contract=contract, signed_on=signed_on)
    return contract


def reminders(contract):
    return sorted(
        Notification.objects.filter(
            kind="contract_expiry", key__startswith=f"contract-expiry:{contract.pk}:"
        ).values_list("key", "recipient_id")
    )


def test_contract_from_an_approved_quote_takes_its_total_over_the_period(deals, quote_at):
    quote = quote_at("0")  # 10 × 100 yuan a month
    contract = services.contract_create(
        actor=deals.alice.user,
        customer=deals.alice_customer,
        quote=quote,
        start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31),
    )
    assert contract.value == Decimal("12000.00")
    assert contract.owner == deals.alice and contract.status == ContractStatus.DRAFT
    assert contract.number.startswith("HT")
    assert AuditEvent.objects.filter(
        target_type="deals.contract", target_id=contract.pk, action=AuditAction.CREATE
    ).exists()


def test_a_draft_quote_cannot_become_a_contract(deals):
    quote = make_quote(deals.alice, deals.alice_customer, (deals.vnet, 1, "0"))
    with pytest.raises(ValidationError) as exc:
        services.contract_create(
            actor=deals.alice.user,
            customer=deals.alice_customer,
            quote=quote,
            start_on=date(2026, 1, 1),
            end_on=date(2026, 12, 31),
        )
    assert "quote" in exc.value.message_dict


def test_a_contract_without_quote_needs_a_value_and_sane_dates(deals):
    with pytest.raises(ValidationError) as exc:
        services.contract_create(
            actor=deals.alice.user, customer=deals.alice_customer, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31)
        )
    assert "value" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.contract_create(
            actor=deals.alice.user,
            customer=deals.alice_customer,
            value=1,
            start_on=date(2026, 1, 1),
            end_on=date(2025, 12, 31),
        )


def test_duplicate_number_is_a_field_error(deals):
    services.contract_create(
        actor=deals.alice.user,
        customer=deals.alice_customer,
        value=1,
        number="GZ-001",
        start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31),
    )
    with pytest.raises(ValidationError) as exc:
        services.contract_create(
            actor=deals.alice.user,
            customer=deals.alice_customer,
            value=1,
            number="GZ-001",
            start_on=date(2026, 1, 1),
            end_on=date(2026, 12, 31),
        )
    assert "number" in exc.value.message_dict


def test_terminate_needs_a_reason(deals):
    contract = contract_for(deals, end_on=date(2026, 12, 31))
    with pytest.raises(ValidationError) as exc:
        services.contract_terminate(actor=deals.alice.user, contract=contract, reason="")
    assert "reason" in exc.value.message_dict
    contract = services.contract_terminate(actor=deals.alice.user, contract=contract, reason="客户搬迁")
    assert contract.status == ContractStatus.TERMINATED and contract.termination_reason == "客户搬迁"
    with pytest.raises(ValidationError):
        services.contract_renew(actor=deals.alice.user, contract=contract)


def test_renewal_makes_a_chain_and_marks_the_old_contract_renewed(deals):
    first = contract_for(deals, start_on=date(2025, 1, 1), end_on=date(2025, 12, 31))
    second = services.contract_renew(actor=deals.alice.user, contract=first)
    first.refresh_from_db()
    assert first.status == ContractStatus.RENEWED
    assert (second.previous, second.status) == (first, ContractStatus.ACTIVE)
    assert (second.start_on, second.end_on, second.value) == (date(2026, 1, 1), date(2026, 12, 31), first.value)
    third = services.contract_renew(actor=deals.alice.user, contract=second, value=Decimal("15000"))
    assert third.number == f"{first.number}-R3" and second.number == f"{first.number}-R2"
    assert third.value == Decimal("15000")
    with pytest.raises(ValidationError):
        services.contract_renew(actor=deals.alice.user, contract=first)


@pytest.mark.parametrize(
    ("start_on", "end_on", "renewed"),
    [
        # A year that holds 29 February is still 12 months: the next one starts and ends on the same days.
        (date(2027, 12, 1), date(2028, 11, 30), (date(2028, 12, 1), date(2029, 11, 30))),
        (date(2028, 3, 1), date(2029, 2, 28), (date(2029, 3, 1), date(2030, 2, 28))),
        (date(2027, 3, 1), date(2028, 2, 29), (date(2028, 3, 1), date(2029, 2, 28))),
        (date(2026, 1, 1), date(2026, 6, 30), (date(2026, 7, 1), date(2026, 12, 31))),
        (date(2026, 4, 1), date(2026, 4, 30), (date(2026, 5, 1), date(2026, 5, 31))),
    ],
)
def test_renewal_runs_for_the_same_number_of_calendar_months(deals, start_on, end_on, renewed):
    contract = contract_for(deals, start_on=start_on, end_on=end_on)
    renewal = services.contract_renew(actor=deals.alice.user, contract=contract)
    assert (renewal.start_on, renewal.end_on) == renewed


def test_renewal_from_a_chosen_start_keeps_the_length_in_months(deals):
    contract = contract_for(deals, start_on=date(2027, 12, 1), end_on=date(2028, 11, 30))
    renewal = services.contract_renew(actor=deals.alice.user, contract=contract, start_on=date(2029, 2, 1))
    assert (renewal.start_on, renewal.end_on) == (date(2029, 2, 1), date(2030, 1, 31))


def test_reminders_fall_on_exactly_90_60_and_30_days_and_only_once(deals):
    end = TODAY + timedelta(days=91)
    contract = contract_for(deals, end_on=end)
    expected = []
    for days_left in range(91, -1, -1):
        services.contracts_daily(end - timedelta(days=days_left))
        if days_left in (90, 60, 30):
            expected += [(f"contract-expiry:{contract.pk}:{days_left}", pk) for pk in (deals.alice.pk, deals.carol.pk)]
        assert reminders(contract) == sorted(expected), f"{days_left} days before the end"
    services.contracts_daily(end - timedelta(days=30))  # a second run on the same day
    assert len(reminders(contract)) == 6


def test_status_moves_to_expiring_at_the_first_window_and_expired_after_the_end(deals):
    end = TODAY + timedelta(days=91)
    contract = contract_for(deals, end_on=end)
    services.contracts_daily(end - timedelta(days=91))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    services.contracts_daily(end - timedelta(days=90))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXPIRING
    services.contracts_daily(end)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXPIRING
    services.contracts_daily(end + timedelta(days=1))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXPIRED
    assert (
        AuditEvent.objects.filter(
            target_id=contract.pk, target_type="deals.contract", action=AuditAction.STATUS
        ).count()
        == 3
    )


def test_a_missed_day_is_caught_up_without_repeating(deals):
    end = TODAY + timedelta(days=100)
    contract = contract_for(deals, end_on=end)
    services.contracts_daily(end - timedelta(days=95))
    services.contracts_daily(end - timedelta(days=85))  # the job did not run on days 94…86
    assert [key for key, _pk in reminders(contract)] == [f"contract-expiry:{contract.pk}:90"] * 2
    services.contracts_daily(end - timedelta(days=84))
    assert len(reminders(contract)) == 2


def test_auto_renewing_contract_renews_instead_of_expiring(deals):
    contract = contract_for(deals, start_on=date(2025, 3, 1), end_on=date(2026, 2, 28), auto_renew=True)
    result = services.contracts_daily(TODAY)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.RENEWED and result.renewed == 1
    renewal = contract.renewal
    assert (renewal.start_on, renewal.end_on, renewal.status) == (
        date(2026, 3, 1),
        date(2027, 2, 28),
        ContractStatus.ACTIVE,
    )
    services.contracts_daily(TODAY)
    assert Contract.objects.count() == 2


def test_draft_and_ended_contracts_are_left_alone(deals):
    draft = contract_for(deals, end_on=TODAY + timedelta(days=10), status=ContractStatus.DRAFT)
    services.contracts_daily(TODAY)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT and not reminders(draft)


def test_contracts_expiring_is_scoped_and_ordered(deals):
    late = contract_for(deals, end_on=TODAY + timedelta(days=50))
    soon = contract_for(deals, end_on=TODAY + timedelta(days=20))
    contract_for(deals, end_on=TODAY + timedelta(days=200))
    window = (TODAY, TODAY + timedelta(days=90))
    assert list(queries.contracts_expiring(deals.alice.user, *window)) == [soon, late]
    assert list(queries.contracts_expiring(deals.bob.user, *window)) == []


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachment_is_stored_when_name_and_content_agree(deals, media):
    contract = contract_for(deals, end_on=date(2026, 12, 31))
    upload = SimpleUploadedFile("合同扫描件.pdf", b"%PDF-1.7\n...", content_type="application/pdf")
    attachment = services.attachment_add(actor=deals.alice.user, contract=contract, upload=upload)
    assert attachment.name == "合同扫描件.pdf" and attachment.size == 12
    assert attachment.file.read() == b"%PDF-1.7\n..."


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tool.exe", b"MZ\x90\x00"),
        ("renamed.pdf", b"MZ\x90\x00"),
        ("photo.png", b"\xff\xd8\xff\xe0"),
        ("a.docx", b"%PDF-"),
    ],
)
def test_attachment_of_the_wrong_type_is_a_field_error(deals, media, name, content):
    contract = contract_for(deals, end_on=date(2026, 12, 31))
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(actor=deals.alice.user, contract=contract, upload=SimpleUploadedFile(name, content))
    assert "file" in exc.value.message_dict
    assert not contract.attachments.exists()


def test_attachment_over_the_size_limit_is_a_field_error(deals, media, monkeypatch):
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 1024)
    contract = contract_for(deals, end_on=date(2026, 12, 31))
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(
            actor=deals.alice.user, contract=contract, upload=SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 1024)
        )
    assert "file" in exc.value.message_dict
