"""Demo data of the defence app, so the board shows a real day: for a share of the customers with a competitor
on record, the competitor's actions in the attack log (some of high threat), open defence plans with
countermeasures, and plans closed over the last months with their outcomes (kept, partly lost, lost). The board's
rows, the win-back list and the group risk view (groups and affiliated sets rolled up, decision 0802) are the
nightly job's (run by the demo command after loading)."""

from datetime import timedelta
from decimal import Decimal

from jiketong.customers.models import CompetitorPresence, Customer, LifecycleStatus

from .models import (
    Attack,
    Countermeasure,
    CountermeasureKind,
    GroupRisk,
    GroupRiskUnit,
    Plan,
    PlanKind,
    PlanStatus,
    Threat,
    WinBack,
)

RESET_MODELS = [Countermeasure, Plan, Attack, Threat, WinBack, GroupRiskUnit, GroupRisk]
ATTACK_SHARE = 0.4  # of customers with a competitor of medium or high threat
PLAN_SHARE = 0.25
CHUNK = 2000
ACTIONS = [
    ("offer", "报价：专线八折，送云主机一年"),
    ("visit", "对方政企客户经理上门拜访"),
    ("price", "V网资费降至每户5元"),
    ("poaching", "以赠送流量劝说成员携号转网"),
]
STEPS = [
    (CountermeasureKind.PRICE, "续约报价九折，报市公司审批"),
    (CountermeasureKind.BUNDLE, "专线+V网+集团彩铃融合套餐"),
    (CountermeasureKind.SERVICE, "网络质量专项保障，驻点服务"),
    (CountermeasureKind.RELATIONSHIP, "关键人回访，邀请参加客户联谊会"),
    (CountermeasureKind.EXECUTIVE_VISIT, "分公司总经理高层拜访"),
]


def generate(builder) -> None:
    rng, today = builder.rng, builder.today
    threatened = (
        CompetitorPresence.objects.filter(threat__in=["high", "medium"], customer__owner__isnull=False)
        .exclude(customer__status__in=[LifecycleStatus.PROSPECT, LifecycleStatus.CHURNED])
        .order_by("customer_id")
        .values_list("customer_id", "competitor", "threat")
        .distinct()
    )
    owners = {}
    attacks, plans, steps = [], [], []
    seen = set()
    for customer_id, competitor, threat in threatened.iterator(chunk_size=CHUNK):
        if customer_id in seen:
            continue
        seen.add(customer_id)
        if rng.random() < ATTACK_SHARE:
            kind, text = rng.choice(ACTIONS)
            attacks.append(
                Attack(
                    customer_id=customer_id,
                    competitor=competitor,
                    kind=kind,
                    description=text,
                    threat=threat if rng.random() < 0.7 else "high",
                    observed_on=today - timedelta(rng.randint(0, 60)),
                    members_targeted=rng.randint(5, 60) if kind == "poaching" else None,
                )  # fmt: skip
            )
        if rng.random() < PLAN_SHARE:
            owners.setdefault(customer_id, None)
            plans.append((customer_id, competitor))
    owner_of = dict(Customer.objects.filter(pk__in=list(owners)).values_list("pk", "owner_id")) if owners else {}
    rows = []
    for i, (customer_id, competitor) in enumerate(plans):
        stake = Decimal(rng.randint(20, 400) * 100)
        closed = i % 3 != 0  # two in three are decided already
        plan = Plan(
            customer_id=customer_id, kind=PlanKind.DEFENCE, competitor=competitor, owner_id=owner_of[customer_id],
            due_on=today + timedelta(rng.randint(-30, 45)), goal="保住现有业务并续约", revenue_at_stake=stake,
        )  # fmt: skip
        if closed:
            outcome = rng.choices(["kept", "partly", "lost"], weights=[6, 2, 2])[0]
            plan.status, plan.outcome = PlanStatus.CLOSED, outcome
            plan.closed_on = today - timedelta(rng.randint(1, 300))
            if outcome == "kept":
                plan.revenue_kept = stake
            elif outcome == "partly":
                plan.revenue_kept, plan.revenue_lost, plan.lost_to = (
                    stake * Decimal("0.6"),
                    stake * Decimal("0.4"),
                    competitor,
                )
            else:
                plan.revenue_lost, plan.lost_to = stake, competitor
        rows.append(plan)
    Attack.objects.bulk_create(attacks, batch_size=CHUNK)
    Plan.objects.bulk_create(rows, batch_size=CHUNK)
    for plan in rows:
        for kind, text in rng.sample(STEPS, 2):
            done = plan.status == PlanStatus.CLOSED or rng.random() < 0.4
            steps.append(
                Countermeasure(
                    plan=plan,
                    kind=kind,
                    description=text,
                    owner_id=plan.owner_id,
                    due_on=plan.due_on - timedelta(7),
                    status="done" if done else "planned",
                    done_on=(plan.closed_on or today) - timedelta(3) if done else None,
                )  # fmt: skip
            )
    Countermeasure.objects.bulk_create(steps, batch_size=CHUNK)
    builder.progress(f"defence: {len(attacks):,} competitor actions, {len(rows):,} defence plans")
