"""Deals pages: the quote builder, actions, lists with bounded queries, print view, export, 360 panel."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.deals import services
from jiketong.deals.models import Contract, ContractStatus, Order, OrderStatus, Quote, QuoteStatus
from jiketong.deals.tests.conftest import make_quote

pytestmark = pytest.mark.django_db
LIST_MAX_QUERIES = 12
DETAIL_MAX_QUERIES = 17  # 12, and the chain strip's steps (deals.queries.record_chain: five at most)


def test_quote_builder_adds_a_line_with_htmx_and_shows_totals(deals, client_as):
    quote = make_quote(deals.alice, deals.alice_customer)
    response = client_as(deals.alice).post(
        reverse("deals:quote_line_add", args=[quote.pk]),
        {"product": deals.vnet.pk, "quantity": 3, "discount_pct": "10"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="quote-lines"' in html and "<html" not in html
    assert "¥270.00" in html  # 3 × 90


def test_quote_builder_shows_a_bad_line_next_to_its_field(deals, client_as):
    quote = make_quote(deals.alice, deals.alice_customer)
    response = client_as(deals.alice).post(
        reverse("deals:quote_line_add", args=[quote.pk]),
        {"product": deals.vnet.pk, "quantity": 1, "offered_price": "150"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert 'data-field-error="offered_price"' in response.content.decode()
    assert not quote.lines.exists()


def test_a_line_of_an_approved_quote_cannot_be_changed_from_the_page(deals, client_as, quote_at):
    quote = quote_at("0")
    line = quote.lines.get()
    client_as(deals.alice).post(
        reverse("deals:quote_line_edit", args=[line.pk]), {"product": deals.vnet.pk, "quantity": 99}
    )
    line.refresh_from_db()
    assert line.quantity == 10


def test_submit_approve_reject_from_the_page(deals, client_as, quote_at):
    quote = make_quote(deals.alice, deals.alice_customer, (deals.vnet, 1, "5"))
    client_as(deals.alice).post(reverse("deals:quote_submit", args=[quote.pk]))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING
    page = client_as(deals.carol).get(reverse("deals:quote_detail", args=[quote.pk])).content.decode()
    assert 'data-testid="approval-form"' in page
    assert (
        'data-testid="approval-form"'
        not in client_as(deals.alice).get(reverse("deals:quote_detail", args=[quote.pk])).content.decode()
    )
    response = client_as(deals.carol).post(reverse("deals:quote_reject", args=[quote.pk]), {"comment": ""}, follow=True)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING and response.status_code == 200
    client_as(deals.carol).post(reverse("deals:quote_approve", args=[quote.pk]), {"comment": "可以"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED


def test_city_supervisor_gets_403_approving_a_deep_discount(deals, client_as, quote_at):
    quote = quote_at("35")
    assert client_as(deals.carol).post(reverse("deals:quote_approve", args=[quote.pk])).status_code == 403


def test_new_version_from_the_page_opens_the_draft(deals, client_as, quote_at):
    quote = quote_at("0")
    response = client_as(deals.alice).post(reverse("deals:quote_new_version", args=[quote.pk]))
    new = Quote.objects.get(previous=quote)
    assert response.url == reverse("deals:quote_detail", args=[new.pk])


def test_print_view_shows_the_total_in_capitals(deals, client_as, quote_at):
    quote = quote_at("0")
    html = client_as(deals.alice).get(reverse("deals:quote_print", args=[quote.pk])).content.decode()
    assert "壹仟元整" in html and "@media print" in html


def test_approval_queue_page_lists_what_i_may_decide(deals, client_as, quote_at):
    city, hq = quote_at("5"), quote_at("35")
    html = client_as(deals.carol).get(reverse("deals:approval_queue")).content.decode()
    assert reverse("deals:quote_detail", args=[city.pk]) in html
    assert reverse("deals:quote_detail", args=[hq.pk]) not in html


def test_contract_from_quote_page_and_actions(deals, client_as, quote_at):
    quote = quote_at("0")
    client = client_as(deals.alice)
    response = client.post(
        reverse("deals:contract_from_quote", args=[quote.pk]), {"start_on": "2026-01-01", "end_on": "2026-12-31"}
    )
    contract = Contract.objects.get(quote=quote)
    assert response.url == reverse("deals:contract_detail", args=[contract.pk])
    assert contract.value == Decimal("12000.00")
    client.post(reverse("deals:contract_activate", args=[contract.pk]))
    client.post(reverse("deals:contract_terminate", args=[contract.pk]), {"reason": ""})
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    response = client.post(reverse("deals:contract_renew", args=[contract.pk]), {})
    renewal = Contract.objects.get(previous=contract)
    assert response.url == reverse("deals:contract_detail", args=[renewal.pk])


def test_contract_form_shows_errors_on_fields(deals, client_as):
    response = client_as(deals.alice).post(
        reverse("deals:contract_create", args=[deals.alice_customer.pk]),
        {"start_on": "2026-01-01", "end_on": "2026-12-31"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert 'data-field-error="value"' in response.content.decode()


def test_attachment_upload_and_scoped_download(deals, client_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contract = services.contract_create(
        actor=deals.alice.user,
        customer=deals.alice_customer,
        value=1,
        start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31),
    )
    bad = client_as(deals.alice).post(
        reverse("deals:attachment_upload", args=[contract.pk]),
        {"file": SimpleUploadedFile("x.pdf", b"MZ\x90")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 400 and 'data-field-error="file"' in bad.content.decode()
    client_as(deals.alice).post(
        reverse("deals:attachment_upload", args=[contract.pk]), {"file": SimpleUploadedFile("签约.pdf", b"%PDF-1.4 x")}
    )
    attachment = contract.attachments.get()
    url = reverse("deals:attachment_download", args=[attachment.pk])
    response = client_as(deals.alice).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 x"
    assert client_as(deals.bob).get(url).status_code == 404


def test_order_state_buttons_complete_the_order(deals, client_as):
    quote = services.quote_submit(
        actor=deals.carol.user, quote=make_quote(deals.carol, deals.alice_customer, (deals.vnet, 2, "5"))
    )
    client = client_as(deals.alice)
    response = client.post(reverse("deals:order_from_quote", args=[quote.pk]))
    order = Order.objects.get(quote=quote)
    assert response.url == reverse("deals:order_detail", args=[order.pk])
    client.post(reverse("deals:order_state", args=[order.pk]), {"state": "submitted"})
    client.post(reverse("deals:order_state", args=[order.pk]), {"state": "failed"})  # no reason: refused
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    client.post(reverse("deals:order_state", args=[order.pk]), {"state": "completed"})
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert deals.alice_customer.subscriptions.get().contracted_price == Decimal("95.00")


def test_order_export_is_csv_and_logged(deals, client_as):
    quote = services.quote_submit(
        actor=deals.carol.user, quote=make_quote(deals.carol, deals.alice_customer, (deals.vnet, 2, "5"))
    )
    order = services.order_create_from_quote(actor=deals.alice.user, quote=quote)
    response = client_as(deals.alice).get(reverse("deals:order_export"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("order_number,customer_number")
    assert order.number in text and "VNET" in text
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.after["count"] == 1 and event.actor == deals.alice.user
    bob_text = b"".join(client_as(deals.bob).get(reverse("deals:order_export")).streaming_content).decode("utf-8-sig")
    assert order.number not in bob_text


def _many(deals, n):
    for i in range(n):
        quote = services.quote_submit(
            actor=deals.carol.user, quote=make_quote(deals.carol, deals.alice_customer, (deals.vnet, 1, "5"))
        )
        contract = services.contract_create(
            actor=deals.alice.user,
            customer=deals.alice_customer,
            quote=quote,
            start_on=date(2026, 1, 1),
            end_on=timezone.localdate() + timedelta(days=10 + i),
        )
        services.contract_activate(actor=deals.alice.user, contract=contract)
        services.order_create_from_quote(actor=deals.alice.user, quote=quote)


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("url", ["deals:quote_list", "deals:contract_list", "deals:order_list", "deals:approval_queue"])
def test_lists_use_a_bounded_number_of_queries(deals, client_as, django_assert_max_num_queries, n, url):
    _many(deals, n)
    client = client_as(deals.carol)
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        assert client.get(reverse(url) + "?expiring_within=90").status_code == 200


@pytest.mark.parametrize("n", [1, 12])
def test_detail_pages_use_a_bounded_number_of_queries(deals, client_as, django_assert_max_num_queries, n):
    quote = make_quote(deals.carol, deals.alice_customer, *[(deals.vnet, 1, "5")] * n)
    quote = services.quote_submit(actor=deals.carol.user, quote=quote)
    contract = services.contract_create(
        actor=deals.alice.user,
        customer=deals.alice_customer,
        quote=quote,
        start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31),
    )
    contract = services.contract_activate(actor=deals.alice.user, contract=contract)
    order = services.order_create_from_contract(actor=deals.alice.user, contract=contract)
    client = client_as(deals.alice)
    for url in [
        reverse("deals:quote_detail", args=[quote.pk]),
        reverse("deals:quote_print", args=[quote.pk]),
        reverse("deals:contract_detail", args=[contract.pk]),
        reverse("deals:order_detail", args=[order.pk]),
    ]:
        with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
            assert client.get(url).status_code == 200


def test_customer_panel_lists_open_deals_in_three_queries(deals, rf, django_assert_num_queries):
    from jiketong.deals.panels import customer_panel
    from jiketong.org.models import staff_of

    _many(deals, 2)
    request = rf.get("/")
    request.user = deals.alice.user
    staff_of(request.user)  # loaded once per request by the page already
    with django_assert_num_queries(3):
        panel = customer_panel(request, deals.alice_customer)
    assert len(panel["quotes"]) == 2 and len(panel["contracts"]) == 2 and len(panel["orders"]) == 2


def test_customer_page_shows_the_panel(deals, client_as, quote_at):
    quote = quote_at("0")
    html = client_as(deals.alice).get(reverse("customers:detail", args=[deals.alice_customer.pk])).content.decode()
    panel = html[html.index('data-testid="deals-panel"') :]
    assert f'href="{reverse("deals:quote_detail", args=[quote.pk])}"' in panel


def test_pages_speak_chinese_by_default(deals, client_as, quote_at):
    quote = quote_at("5")
    html = client_as(deals.carol).get(reverse("deals:quote_detail", args=[quote.pk])).content.decode()
    assert "待审批" in html and "批准" in html and "驳回" in html
