"""Generated tests (jiketong/testing_views.py) for billing: import runs and the club's benefits are not customer
data (unscoped), a redemption is its customer's. The per-customer pages (points, benefits, credit) are the
customer's and probed by the scope matrix under the customer's id."""

from jiketong.billing.models import ClubBenefit, ImportRun, Redemption
from jiketong.testing_views import Case, Write

CASES = [
    Case(
        ImportRun,
        kinds=("import",),
        unscoped=lambda: ImportRun.objects.first().pk,
        list="billing:import_list",
        detail="billing:import_detail",
        api_detail="/api/v1/billing/imports/{id}",
        reader="frank",
    ),
    Case(
        Redemption,
        find=lambda customer: Redemption.objects.filter(customer=customer).first().pk,
        list="billing:redemption_list",
        api_list="/api/v1/billing/redemptions",
        label=lambda redemption: redemption.customer.name,
    ),
    Case(
        ClubBenefit,
        kinds=("benefit",),
        unscoped=lambda: ClubBenefit.objects.first().pk,
        list="billing:benefit_list",
        detail="billing:benefit_edit",
        api_list="/api/v1/billing/benefits",
        reader="frank",
        create=Write("billing:benefit_create", data={"name": "机房巡检", "kind": "repair"}, invalid={"name": ""}),
        edit=Write(
            "billing:benefit_edit",
            data={"description": "每季度一次"},
            invalid={"name": ""},
            changed=lambda benefit: benefit.description == "每季度一次",
        ),
        writer="frank",
        not_writer="alice",
    ),
]
OTHER_ROUTES = {
    "billing:import_new",
    "billing:redemption_export",
    "billing:benefit_create",
    "/api/v1/billing/imports",
}
