"""Scope-matrix hooks (jiketong/tests_scope): a board row, a defence plan with a countermeasure, an attack and a
win-back row for each customer of the world; the world's group (Alice's customer with its Zhejiang unit) and
affiliated set (all six, each affiliated with the next) rolled up, and a one-unit set for each customer outside
that group, so the group id of a customer is visible exactly where the customer is."""

from datetime import date

from jiketong.defence import grouprisk
from jiketong.defence.models import Attack, Countermeasure, GroupRisk, GroupRiskUnit, Plan, RiskSetKind, Threat, WinBack


def populate(world, customers) -> None:
    for customer in customers.values():
        owner = customer.owner or world.dave
        Threat.objects.create(customer=customer, level="high", competitor="china_telecom", offer=f"专线{customer.name}")
        plan = Plan.objects.create(
            customer=customer, competitor="china_telecom", owner=owner, due_on=date(2026, 12, 1),
            goal=f"保住{customer.name}",
        )  # fmt: skip
        Countermeasure.objects.create(
            plan=plan, kind="price", description=f"九折{customer.name}", owner=owner, due_on=date(2026, 12, 1)
        )
        Attack.objects.create(
            customer=customer, competitor="china_unicom", kind="offer", description=f"联通报价{customer.name}",
            observed_on=date(2026, 10, 1),
        )  # fmt: skip
        WinBack.objects.create(customer=customer, churned_on=date(2026, 9, 1), last_products=f"V网{customer.name}")
    grouprisk.refresh()
    for customer in customers.values():
        if not GroupRiskUnit.objects.filter(customer=customer, risk__kind=RiskSetKind.GROUP).exists():
            risk = GroupRisk.objects.create(kind=RiskSetKind.GROUP, head=customer, units=1)
            GroupRiskUnit.objects.create(risk=risk, customer=customer)
