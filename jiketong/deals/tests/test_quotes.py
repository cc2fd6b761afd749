"""Quotes: lines and totals, approval routing by discount depth and org level, freezing and versions."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiketong.core.models import AuditAction, AuditEvent, Notification
from jiketong.deals import queries, services
from jiketong.deals.models import ApprovalLevel, DiscountPolicy, Quote, QuoteStatus
from jiketong.deals.tests.conftest import make_quote

pytestmark = pytest.mark.django_db


def actions(quote):
    return list(
        AuditEvent.objects.filter(target_type="deals.quote", target_id=quote.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_lines_derive_discount_and_totals(deals):
    quote = make_quote(deals.alice, deals.alice_customer, (deals.vnet, 10, "0"))
    services.quote_line_save(
        actor=deals.alice.user, quote=quote, product=deals.line, quantity=1, offered_price=Decimal("1800")
    )
    quote.refresh_from_db()
    line = quote.lines.get(product=deals.line)
    assert line.standard_price == Decimal("2000.00") and line.discount_pct == Decimal("10.00")
    assert quote.total_standard == Decimal("3000.00")
    assert quote.total == Decimal("2800.00")
    assert quote.max_discount_pct == Decimal("10.00")


def test_offered_price_above_standard_is_a_field_error(deals):
    quote = make_quote(deals.alice, deals.alice_customer)
    with pytest.raises(ValidationError) as exc:
        services.quote_line_save(actor=deals.alice.user, quote=quote, product=deals.vnet, offered_price=Decimal("120"))
    assert "offered_price" in exc.value.message_dict


def test_no_discount_is_approved_automatically_and_audited(quote_at):
    quote = quote_at("0")
    assert quote.status == QuoteStatus.APPROVED
    assert quote.required_level == ApprovalLevel.MANAGER
    approval = quote.approvals.get()
    assert approval.automatic and approval.approver is None
    assert actions(quote)[-2:] == [AuditAction.SUBMIT, AuditAction.APPROVE]


def test_a_discount_waits_for_the_city_supervisor_who_is_notified(deals, quote_at, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quote = quote_at("5")
    assert quote.status == QuoteStatus.PENDING
    assert quote.required_level == ApprovalLevel.CITY
    assert list(Notification.objects.filter(kind="quote_approval").values_list("recipient_id", flat=True)) == [
        deals.carol.pk
    ]


def test_deeper_discounts_notify_the_level_that_can_approve(deals, quote_at, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quote_at("25")
        quote_at("35")
    recipients = list(Notification.objects.order_by("id").values_list("recipient_id", flat=True))
    assert recipients == [deals.hank.pk, deals.henry.pk]


def test_manager_cannot_approve_own_quote(deals, quote_at):
    quote = quote_at("5")
    with pytest.raises(PermissionDenied):
        services.quote_approve(actor=deals.alice.user, quote=quote)


def test_supervisor_cannot_approve_a_quote_they_submitted(deals):
    quote = make_quote(deals.hank, deals.alice_customer, (deals.vnet, 1, "35"))
    quote = services.quote_submit(actor=deals.hank.user, quote=quote)
    assert quote.status == QuoteStatus.PENDING and quote.required_level == ApprovalLevel.HQ
    with pytest.raises(PermissionDenied):
        services.quote_approve(actor=deals.hank.user, quote=quote)


def test_within_the_submitters_own_authority_is_approved_at_once(deals):
    quote = make_quote(deals.carol, deals.alice_customer, (deals.vnet, 1, "8"))
    assert services.quote_submit(actor=deals.carol.user, quote=quote).status == QuoteStatus.APPROVED


def test_city_supervisor_approves_ten_percent(deals, quote_at):
    quote = services.quote_approve(actor=deals.carol.user, quote=quote_at("10"), comment="同意")
    assert quote.status == QuoteStatus.APPROVED
    assert actions(quote)[-1] == AuditAction.APPROVE
    assert quote.approvals.get().approver == deals.carol.user


def test_city_supervisor_cannot_approve_35_percent(deals, quote_at):
    quote = quote_at("35")
    with pytest.raises(PermissionDenied):
        services.quote_approve(actor=deals.carol.user, quote=quote)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING


def test_province_supervisor_approves_25_but_not_35_percent(deals, quote_at):
    assert services.quote_approve(actor=deals.hank.user, quote=quote_at("25")).status == QuoteStatus.APPROVED
    with pytest.raises(PermissionDenied):
        services.quote_approve(actor=deals.hank.user, quote=quote_at("35"))


def test_hq_approves_35_percent(deals, quote_at):
    assert services.quote_approve(actor=deals.henry.user, quote=quote_at("35")).status == QuoteStatus.APPROVED


def test_a_higher_level_may_approve_a_lower_level_quote(deals, quote_at):
    assert services.quote_approve(actor=deals.hank.user, quote=quote_at("5")).status == QuoteStatus.APPROVED


def test_supervisor_of_another_province_cannot_reach_the_quote(deals, quote_at):
    with pytest.raises(Http404):
        services.quote_approve(actor=deals.dave.user, quote=quote_at("5"))


def test_reject_needs_a_comment_and_is_audited(deals, quote_at):
    quote = quote_at("5")
    with pytest.raises(ValidationError) as exc:
        services.quote_reject(actor=deals.carol.user, quote=quote, comment="  ")
    assert "comment" in exc.value.message_dict
    quote = services.quote_reject(actor=deals.carol.user, quote=quote, comment="折扣过大")
    assert quote.status == QuoteStatus.REJECTED
    event = AuditEvent.objects.filter(target_id=quote.pk, action=AuditAction.REJECT).get()
    assert event.note == "折扣过大"


def test_policy_per_category_changes_the_level(deals):
    DiscountPolicy.objects.create(category="connectivity", manager_max=5, city_max=20, province_max=40)
    quote = make_quote(deals.alice, deals.alice_customer, (deals.line, 1, "15"), (deals.vnet, 1, "3"))
    # Connectivity 15% is a city decision under its own policy; voice 3% needs the city under the default.
    assert services.required_level(quote) == ApprovalLevel.CITY
    quote = make_quote(deals.alice, deals.alice_customer, (deals.line, 1, "4"))
    assert services.required_level(quote) == ApprovalLevel.MANAGER


def test_approved_quote_is_frozen(deals, quote_at):
    quote = quote_at("0")
    with pytest.raises(ValidationError) as exc:
        services.quote_line_save(actor=deals.alice.user, quote=quote, product=deals.line, quantity=1)
    assert "new version" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        services.quote_line_delete(actor=deals.alice.user, line=quote.lines.first())
    with pytest.raises(ValidationError):
        services.quote_update(actor=deals.alice.user, quote=quote, title="改")


def test_new_version_copies_the_quote_into_a_draft_linked_to_it(deals, quote_at):
    old = quote_at("5")
    services.quote_approve(actor=deals.carol.user, quote=old)
    new = services.quote_new_version(actor=deals.alice.user, quote=old)
    old.refresh_from_db()
    assert old.status == QuoteStatus.SUPERSEDED
    assert (new.number, new.version, new.previous, new.status) == (old.number, 2, old, QuoteStatus.DRAFT)
    assert [(line.product_id, line.quantity, line.discount_pct) for line in new.lines.all()] == [
        (line.product_id, line.quantity, line.discount_pct) for line in old.lines.all()
    ]
    services.quote_line_save(actor=deals.alice.user, quote=new, product=deals.line, quantity=1)
    with pytest.raises(ValidationError):
        services.quote_new_version(actor=deals.alice.user, quote=old)


def test_submitting_an_empty_quote_is_refused(deals):
    with pytest.raises(ValidationError):
        services.quote_submit(actor=deals.alice.user, quote=make_quote(deals.alice, deals.alice_customer))


def test_approval_queue_holds_what_each_supervisor_may_decide(deals, quote_at):
    city, province, hq = quote_at("5"), quote_at("25"), quote_at("35")
    assert set(queries.approval_queue(deals.carol.user)) == {city}
    assert set(queries.approval_queue(deals.hank.user)) == {city, province}
    assert set(queries.approval_queue(deals.henry.user)) == {city, province, hq}
    assert not queries.approval_queue(deals.alice.user).exists()
    assert not queries.approval_queue(deals.dave.user).exists()


def test_quote_is_scoped_like_its_customer(deals):
    quote = make_quote(deals.alice, deals.alice_customer)
    assert Quote.objects.visible_to(deals.bob.user).filter(pk=quote.pk).count() == 0
    assert Quote.objects.visible_to(deals.carol.user).filter(pk=quote.pk).count() == 1


@pytest.mark.parametrize(
    ("offered", "level"),
    [("1800.00", ApprovalLevel.CITY), ("1799.99", ApprovalLevel.PROVINCE), ("1400.00", ApprovalLevel.PROVINCE)],
)
def test_the_approval_level_compares_the_exact_discount_not_the_rounded_percentage(deals, offered, level):
    """1,799.99 of 2,000.00 is 10.0005% off: shown as 10.00%, it is still past the city's 10%."""
    quote = make_quote(deals.alice, deals.alice_customer)
    services.quote_line_save(
        actor=deals.alice.user, quote=quote, product=deals.line, quantity=1, offered_price=Decimal(offered)
    )
    assert services.required_level(quote) == level
    quote = services.quote_submit(actor=deals.alice.user, quote=quote)
    assert quote.required_level == level
    assert services.can_approve(deals.carol.user, quote) is (level == ApprovalLevel.CITY)
