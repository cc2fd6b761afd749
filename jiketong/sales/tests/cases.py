"""Generated tests (jiketong/testing_views.py) for the sales app; the world is tests/scope.py's."""

from jiketong.sales.models import Lead, LeadImportRun, Opportunity, ReferenceCase, Stage
from jiketong.testing_views import Case, Write

CASES = [
    Case(
        Lead,
        kinds=("lead",),
        find=lambda customer: Lead.objects.filter(customer=customer).first().pk,
        list="sales:lead_list",
        detail="sales:lead_detail",
        api_list="/api/v1/leads",
        api_detail="/api/v1/leads/{id}",
        create=Write("sales:lead_create", data={"source": "visit", "name": "番禺物流园区"}, invalid={"name": ""}),
        edit=Write(
            "sales:lead_edit",
            data={"need": "专线扩容"},
            invalid={"name": ""},
            changed=lambda lead: lead.need == "专线扩容",
        ),
        api_create=Write("/api/v1/leads", data={"source": "visit", "name": "番禺物流园区"}, invalid={"source": "?"}),
        api_edit=Write(
            "/api/v1/leads/{id}",
            data={"need": "专线扩容"},
            invalid={"name": ""},
            changed=lambda lead: lead.need == "专线扩容",
        ),
        not_writer="grace",
    ),
    Case(
        Opportunity,
        kinds=("opportunity",),
        find=lambda customer: Opportunity.objects.filter(customer=customer).order_by("pk").first().pk,
        list="sales:opportunity_list",
        detail="sales:opportunity_detail",
        api_list="/api/v1/opportunities",
        api_detail="/api/v1/opportunities/{id}",
        edit=Write(
            "sales:opportunity_edit",
            data={"note": "客户要求月底前报价"},
            invalid={"name": ""},
            changed=lambda opportunity: opportunity.note == "客户要求月底前报价",
        ),
        api_edit=Write(
            "/api/v1/opportunities/{id}",
            data={"note": "客户要求月底前报价"},
            invalid={"amount_monthly": "-5"},
            changed=lambda opportunity: opportunity.note == "客户要求月底前报价",
        ),
        not_writer="grace",
    ),
    # A case is readable across its province (sales.models.case_scope), so its id is not a customer's secret; what
    # it must hide, the customer's name, is checked on every list and page that shows cases.
    Case(
        ReferenceCase,
        kinds=("case",),
        unscoped=lambda: ReferenceCase.objects.order_by("pk").first().pk,  # Alice's customer's
        list="sales:case_list",
        detail="sales:case_detail",
        api_list="/api/v1/reference-cases",
        api_detail="/api/v1/reference-cases/{id}",
    ),
    # A large lead import's run: its uploader's, not customer data.
    Case(
        LeadImportRun,
        kinds=("lead_run",),
        unscoped=lambda: LeadImportRun.objects.first().pk,
        detail="sales:lead_import_run",
        api_detail="/api/v1/lead-imports/{id}",
        reader="frank",
    ),
    Case(Stage, unscoped=lambda: Stage.objects.first().pk, api_list="/api/v1/stages"),
]
OTHER_ROUTES = {
    "sales:lead_create", "sales:lead_duplicates", "sales:lead_import", "sales:opportunity_create", "sales:board",
    "sales:forecast", "sales:mine", "/api/v1/leads/duplicates", "/api/v1/leads/import", "/api/v1/forecast",
}  # fmt: skip
