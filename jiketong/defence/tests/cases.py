"""Generated tests (jiketong/testing_views.py) for the defence board, plans and group risks."""

from jiketong.defence.models import Attack, Countermeasure, GroupRisk, GroupRiskUnit, Plan, RiskSetKind, Threat, WinBack
from jiketong.testing_views import Case, Write

ATTACK = {"competitor": "china_unicom", "kind": "offer", "description": "联通五折专线", "observed_on": "2026-11-01"}


def _group_of(customer) -> int:
    return GroupRiskUnit.objects.filter(customer=customer, risk__kind=RiskSetKind.GROUP).first().risk_id


CASES = [
    Case(
        Threat,
        find=lambda customer: Threat.objects.filter(customer=customer).first().pk,
        list="defence:board",
        api_list="/api/v1/defence/threats",
        api_key="customer",
        api_value=lambda threat: threat.customer_id,
        label=lambda threat: threat.customer.name,
    ),
    Case(
        Plan,
        kinds=("plan",),
        find=lambda customer: Plan.objects.filter(customer=customer).first().pk,
        list="defence:plans",
        detail="defence:plan",
        api_list="/api/v1/defence/plans",
        api_detail="/api/v1/defence/plans/{id}",
        # No create here: the world's customers each have their one open defence plan already.
    ),
    Case(
        Countermeasure,
        kinds=("countermeasure",),
        find=lambda customer: Countermeasure.objects.filter(plan__customer=customer).first().pk,
    ),
    Case(
        Attack,
        find=lambda customer: Attack.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/defence/customers/{customer}/attacks",
        create=Write("defence:attack_create", data=ATTACK, invalid={"observed_on": "上周"}),
        api_create=Write(
            "/api/v1/defence/customers/{customer}/attacks", data=ATTACK, invalid=ATTACK | {"observed_on": "上周"}
        ),
        not_writer="grace",
    ),
    Case(
        WinBack,
        find=lambda customer: WinBack.objects.filter(customer=customer).first().pk,
        list="defence:winback",
        api_list="/api/v1/defence/win-back",
        api_key="customer",
        api_value=lambda winback: winback.customer_id,
        label=lambda winback: winback.customer.name,
    ),
    Case(
        GroupRisk,
        kinds=("group",),
        paths=("defence/", "api/v1/defence/"),
        find=_group_of,
        list="defence:groups",
        detail="defence:group",
        api_list="/api/v1/defence/groups",
        api_detail="/api/v1/defence/groups/{id}",
    ),
]
# A customer's defence page is read under the customer's id (the scope matrix probes it).
OTHER_ROUTES = {"defence:customer", "defence:export", "defence:report", "defence:group_export"}
