"""Generated tests (jiketong/testing_views.py) for quotes, contracts and orders; the world is tests/scope.py's."""

from jiketong.deals.models import Contract, ContractAttachment, Order, Quote, QuoteLine
from jiketong.testing_views import Case, Write

CASES = [
    Case(
        Quote,
        kinds=("quote",),
        find=lambda customer: Quote.objects.filter(customer=customer).first().pk,
        list="deals:quote_list",
        detail="deals:quote_detail",
        api_list="/api/v1/quotes",
        api_detail="/api/v1/quotes/{id}",
        create=Write("deals:quote_create", data={"title": "专线报价"}, invalid={"valid_until": "下周"}),
        not_writer="grace",
    ),
    Case(
        QuoteLine,
        kinds=("quote_line", "line"),
        find=lambda customer: QuoteLine.objects.filter(quote__customer=customer).first().pk,
    ),
    Case(
        Contract,
        kinds=("contract",),
        find=lambda customer: Contract.objects.filter(customer=customer).first().pk,
        list="deals:contract_list",
        detail="deals:contract_detail",
        api_list="/api/v1/contracts",
        api_detail="/api/v1/contracts/{id}",
    ),
    Case(
        ContractAttachment,
        kinds=("attachment",),
        find=lambda customer: ContractAttachment.objects.filter(contract__customer=customer).first().pk,
        detail="deals:attachment_download",
    ),
    Case(
        Order,
        kinds=("order",),
        find=lambda customer: Order.objects.filter(customer=customer).first().pk,
        list="deals:order_list",
        detail="deals:order_detail",
        api_list="/api/v1/orders",
        api_detail="/api/v1/orders/{id}",
    ),
]
# Writes only (PUT, DELETE): the scope matrix probes them.
OTHER_ROUTES = {
    "/api/v1/quote-lines/{id}",
    "/api/v1/quotes/{id}/packages/{package}",
    "deals:approval_queue",
    "deals:order_export",
    "/api/v1/approvals",
    "/api/v1/orders/export.csv",
}
