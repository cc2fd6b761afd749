"""Demo billing history: 24 months of facts for every billed customer, from its subscriptions, then
CustomerMonth and points in SQL (the same code an import runs).

Revenue = contracted price × quantity (members for per-member products) × season (春节 dip in
February, year-end peak) × the customer's own growth × noise. About 8 % of customers churn inside the
window; after leaving they have no facts, their subscriptions end and their status is churned.
Churn is deliberately not obvious, so an early-warning model has something real to learn and no free
lunch (docs/billing-import.md): only about half of the churners decline for 2–4 months before
leaving, the others leave abruptly; about one customer in eight that stays also declines for a while
(and recovers, or stays smaller); arrears are only somewhat likelier among churners; noise everywhere.
A few customers still in service are fading right now (60 % of those the archive marks 预警, 3 % of the
others): their last 3–4 months fall, so the first night's churn scoring has warnings to raise.

Days to pay (回款天数): each customer has a habit (most pay within 10–40 days, a few are slow), a month in arrears
takes 45–120 days; drawn from their own random stream, so the facts' other numbers stay as they were. The
credit grades are computed from them as the nightly job does. The club's benefit catalogue, a few redemptions
(of the `manager` login's customers first) and benefit uses make the points statement and the 360 page show
something.

MemberSnapshot is not generated (at 1M customers it would be hundreds of millions of rows); member
numbers come from the billed members of per-member products (docs/billing-import.md).
Streams customers in id ranges and writes through `builder.writer` (COPY on PostgreSQL). Deterministic:
its own random generator seeded from the demo seed.
"""

import math
import random
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

from jiketong.catalog.models import BillingUnit, Subscription, SubscriptionStatus
from jiketong.customers.models import Customer, LifecycleStatus
from jiketong.demo.indexes import built_after_load

from . import partitions
from .credit import refresh_credit_grades
from .models import (
    BenefitKind,
    BenefitUse,
    BillingFact,
    ClubBenefit,
    ClubTier,
    CreditGrade,
    CustomerMonth,
    ImportRun,
    MemberSnapshot,
    PointsLedger,
    Redemption,
    RedemptionRule,
)
from .points import refresh_points
from .rollup import month_after, month_before, refresh_months

MONTHS = 24
CHUNK = 5000  # customers per transaction
# 春节 falls in January or February: February bills dip; December closes the year high.
SEASON = {1: 0.97, 2: 0.86, 3: 0.98, 4: 1.0, 5: 1.0, 6: 1.02, 7: 0.99, 8: 0.98, 9: 1.01, 10: 0.97, 11: 1.03, 12: 1.1}
# Chance that a customer of this status leaves inside the window (on top of those the archive already
# marks churned, whose subscriptions ended in it).
CHURN_CHANCE = {LifecycleStatus.ACTIVE: 0.04, LifecycleStatus.AT_RISK: 0.15, LifecycleStatus.DORMANT: 0.08}
# Chance that a customer still in service is fading right now (its last 3–4 months falling, arrears more
# likely): what tonight's churn warning should catch. The archive's 预警 customers are the likeliest.
FADING_NOW = {LifecycleStatus.ACTIVE: 0.03, LifecycleStatus.AT_RISK: 0.6}
FACT_FIELDS = ["period", "customer", "product", "revenue", "billed_members", "paid_on_time", "days_to_pay"]
RESET_MODELS = [BenefitUse, ClubBenefit, Redemption, CreditGrade, PointsLedger, CustomerMonth, MemberSnapshot,
                BillingFact, ImportRun]  # fmt: skip
# The club's catalogue: (name, kind, from tier, uses a year or None, description).
BENEFITS = [
    ("节日问候与贺卡", BenefitKind.GREETING, ClubTier.REGULAR, None, "春节、中秋由客户经理上门或寄送问候。"),
    ("上门维修（4 小时到场）", BenefitKind.REPAIR, ClubTier.SILVER, 4, "专线、V网故障优先派单，4 小时内到场。"),
    ("新业务八折体验", BenefitKind.DISCOUNT, ClubTier.GOLD, 1, "新办一项集团业务首三个月八折。"),
    ("集团客户沙龙", BenefitKind.EVENT, ClubTier.GOLD, 2, "每季度一次行业信息化沙龙。"),
    ("高层年度答谢会", BenefitKind.EVENT, ClubTier.DIAMOND, 1, "年度答谢会，邀请客户高层出席。"),
]
DEMO_REDEMPTIONS = 40  # customers who redeemed some points last month


@dataclass
class Story:
    """One customer's two years: when it leaves (month index or None), its trend, and any decline."""

    leave: int | None
    growth: float  # monthly growth factor
    decline_start: int | None = None
    decline_len: int = 3  # months, for a customer that stays
    decline_rate: float = 0.0
    recovers: bool = True
    arrears: float = 0.01

    def factor(self, t: int) -> float:
        if self.decline_start is None or t < self.decline_start:
            return 1.0
        steps = t - self.decline_start + 1
        if self.leave is None:
            steps = min(steps, self.decline_len)
            if self.recovers and t >= self.decline_start + self.decline_len:
                return 1.0
        return (1 - self.decline_rate) ** steps


def _periods(today: date) -> list[date]:
    last = month_before(today.replace(day=1))
    periods = [last]
    while len(periods) < MONTHS:
        periods.insert(0, month_before(periods[0]))
    return periods


def _story(rng: random.Random, status: str, leave: int | None) -> Story:
    story = Story(leave=leave, growth=1 + rng.gauss(0.003, 0.006))
    payer = rng.random()
    story.arrears = 0.01 if payer < 0.9 else 0.06 if payer < 0.98 else 0.25
    if leave is not None:
        if rng.random() < 0.5:  # churners pay a little worse
            story.arrears = min(0.3, story.arrears * 3)
        if rng.random() < 0.55 and leave >= 3:  # about half of them fade first
            story.decline_start = leave - rng.randint(2, 4)
            story.decline_rate = rng.uniform(0.12, 0.35)
    elif rng.random() < (0.3 if status == LifecycleStatus.AT_RISK else 0.12):
        story.decline_len = rng.randint(2, 4)
        story.decline_start = rng.randrange(0, MONTHS - 1)
        story.decline_rate = rng.uniform(0.08, 0.25)
        story.recovers = rng.random() < 0.5
    return story


def _fading_now(rng: random.Random, story: Story, *, plain: bool = False) -> None:
    """A customer that stays (so far) but whose last 3–4 months fall 12–30 % each and who pays worse;
    `plain`: unmistakably (30 % a month, in arrears every other month), whatever the season and noise."""
    story.decline_start = MONTHS - rng.randint(3, 4)
    story.decline_len = MONTHS
    story.decline_rate = 0.3 if plain else rng.uniform(0.12, 0.3)
    story.recovers = False
    story.arrears = 0.5 if plain else min(0.3, max(story.arrears * 3, 0.15))


def generate(builder) -> None:
    periods = _periods(builder.today)
    customers = Customer.objects.exclude(status=LifecycleStatus.PROSPECT).order_by("pk")
    # The `manager` login's first customer with member-billed products fades too, so its first morning
    # shows a warning of its own (the others come by chance).
    showcase_owner = getattr(builder, "usernames", {}).get("manager")
    bounds = customers.values_list("pk", flat=True)
    low, high = bounds.first(), bounds.last()
    if low is None:
        return
    partitions.ensure(periods)  # the months' partitions on PostgreSQL, so nothing lands in the default one
    started = time.monotonic()
    with _indexes_after_load():
        written, churned = _load_facts(builder, customers, low, high, periods, showcase_owner)
    builder.progress(f"billing: customer months and points ({time.monotonic() - started:,.1f} s)")
    # Their foreign keys checked once when added back, not one deferred check per row at the commit (2.6 min of
    # the 100k load's roll-up); their indexes stay: the ledger's rebuild reads the month before by index.
    with built_after_load(CustomerMonth, PointsLedger, CreditGrade, indexes=False, foreign_keys=True):
        with transaction.atomic():
            refresh_months(periods)
            _analyze(CustomerMonth)
            refresh_points(periods[0])
        builder.progress(f"billing: credit grades, club benefits and redemptions ({time.monotonic() - started:,.1f} s)")
        with transaction.atomic():
            refresh_credit_grades()
    with transaction.atomic():
        _club(builder, periods)
    builder.progress(f"billing: done ({time.monotonic() - started:,.1f} s)")


@contextmanager
def _indexes_after_load():
    """On PostgreSQL with no facts yet, the facts' key and customer index are built after the load, not kept up
    row by row (each of 40M lines at 1M groups updated both: half the time of the COPY); then ANALYZE, so the
    roll-up plans with the facts' statistics. The same names as the migrations', so the schema ends as it was."""
    if connection.vendor != "postgresql" or BillingFact.objects.exists():
        yield
        return
    meta = BillingFact._meta
    key = next(c for c in meta.constraints if c.name == "billing_fact_key")
    with connection.schema_editor() as editor:
        editor.remove_constraint(BillingFact, key)
        for index in meta.indexes:
            editor.remove_index(BillingFact, index)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            editor.add_constraint(BillingFact, key)
            for index in meta.indexes:
                editor.add_index(BillingFact, index)
        _analyze(BillingFact)


def _analyze(model) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _load_facts(builder, customers, low: int, high: int, periods: list[date], showcase_owner) -> tuple[int, int]:
    """Every billed customer's 24 months of bill lines, CHUNK customers a transaction; returns (lines, leavers)."""
    rng = random.Random(builder.seed ^ 0xB111)
    fade = random.Random(builder.seed ^ 0xFADE)  # its own stream: the other customers' stories stay as they were
    days = random.Random(builder.seed ^ 0xDA75)  # days to pay: their own stream too
    first_day, after_last = periods[0], month_after(periods[-1])
    showcased = False
    written = churned = 0
    for start in range(low, high + 1, CHUNK):
        chunk_customers = list(
            customers.filter(pk__gte=start, pk__lt=start + CHUNK).values_list("pk", "status", "owner_id")
        )
        subscriptions = defaultdict(list)
        for sub in (
            Subscription.objects.filter(customer_id__gte=start, customer_id__lt=start + CHUNK)
            .order_by("customer_id", "pk")
            .values_list(
                "customer_id",
                "product_id",
                "product__billing_unit",
                "contracted_price",
                "quantity",
                "start_on",
                "end_on",
                "status",
            )  # fmt: skip
        ):
            subscriptions[sub[0]].append(sub)
        facts, leavers = [], []
        for customer_id, status, owner_id in chunk_customers:
            subs = subscriptions.get(customer_id)
            if not subs:
                continue
            leave = _leave_month(rng, status, subs, periods, first_day, after_last)
            if leave == "gone":
                continue
            if leave is not None and status != LifecycleStatus.CHURNED:
                leavers.append((customer_id, periods[leave]))
            story = _story(rng, status, leave)
            showcase = (
                not showcased
                and leave is None
                and owner_id == showcase_owner
                and status == LifecycleStatus.ACTIVE
                and any(sub[2] == BillingUnit.PER_MEMBER and sub[7] == SubscriptionStatus.ACTIVE for sub in subs)
            )
            if fade.random() < FADING_NOW.get(status, 0) and leave is None or showcase:
                _fading_now(fade, story, plain=showcase)
                showcased = showcased or showcase
            facts.extend(_facts(rng, customer_id, subs, story, periods, days))
        with transaction.atomic():
            builder.writer.write(BillingFact, FACT_FIELDS, facts)
            _mark_churned(leavers)
        written += len(facts)
        churned += len(leavers)
        builder.progress(f"billing: {written:,} facts, {churned:,} customers left")
    return written, churned


def _club(builder, periods: list[date]) -> None:
    """The benefit catalogue, redemptions of last month's points (the manager's customers first) applied to
    this month's bill, and a few uses of benefits by customers of the tiers that open them."""
    rng = random.Random(builder.seed ^ 0xC1B)
    benefits = ClubBenefit.objects.bulk_create(
        ClubBenefit(name=name, kind=kind, min_tier=tier, yearly_limit=limit, description=text)
        for name, kind, tier, limit, text in BENEFITS
    )
    rule = RedemptionRule.current()
    last = periods[-1]
    applied = month_after(last)
    owner = getattr(builder, "usernames", {}).get("manager")
    paid = PointsLedger.objects.filter(period=last, arrears=False, balance__gte=rule.points_per_block)
    months = dict(CustomerMonth.objects.filter(period=last).values_list("customer_id", "revenue"))
    mine = list(paid.filter(customer__owner_id=owner).order_by("customer_id")[:3]) if owner else []
    others = list(paid.exclude(pk__in=[e.pk for e in mine]).order_by("customer_id")[: DEMO_REDEMPTIONS * 4])
    chosen = mine + rng.sample(others, min(len(others), DEMO_REDEMPTIONS - len(mine)))
    from .services import redemption_value

    redemptions = []
    for entry in chosen:
        blocks = max(1, min(entry.balance // rule.points_per_block, rng.randint(1, 5)))
        points = blocks * rule.points_per_block
        benefit = min(redemption_value(rule, points, months.get(entry.customer_id, 0)), rule.cap_per_month)
        if benefit <= 0:
            continue
        redemptions.append(Redemption(customer_id=entry.customer_id, points=points, benefit=benefit, kind=rule.kind,
                                      from_period=last, applied_period=applied, created_by_id=owner))  # fmt: skip
        entry.redeemed, entry.balance = points, entry.balance - points
    Redemption.objects.bulk_create(redemptions)
    PointsLedger.objects.bulk_update(chosen, ["redeemed", "balance"])
    tiers = dict(
        PointsLedger.objects.filter(period=last).exclude(tier=ClubTier.REGULAR).values_list("customer_id", "tier")
    )
    uses = []
    for customer_id in sorted(tiers)[:200]:
        for benefit in benefits:
            if benefit.open_to(tiers[customer_id]) and benefit.kind != BenefitKind.GREETING and rng.random() < 0.3:
                uses.append(BenefitUse(customer_id=customer_id, benefit=benefit, note="",
                                       used_on=last.replace(day=rng.randint(1, 28)), recorded_by_id=owner))  # fmt: skip
    BenefitUse.objects.bulk_create(uses)


def _leave_month(rng, status, subs, periods, first_day, after_last):
    """Month index the customer leaves in (its first month without facts), None if it stays, or "gone"
    if it left before the window."""
    if status == LifecycleStatus.CHURNED:
        last_end = max((s[6] for s in subs if s[6]), default=None)
        if last_end is None or last_end < first_day:
            return "gone"
        leave = next((i for i, p in enumerate(periods) if p > last_end), None)
        return leave if leave is None or leave > 0 else "gone"
    if rng.random() < CHURN_CHANCE.get(status, 0):
        return rng.randint(4, MONTHS - 1)
    return None


def _facts(rng: random.Random, customer_id: int, subs: list, story: Story, periods: list[date],
           days: random.Random) -> list[tuple]:  # fmt: skip
    """The customer's bill lines. Hot at 40M lines: the months' ends and seasons are looked up once a month, the
    prices converted once a customer; the draws and the arithmetic are the same, in the same order."""
    rows = []
    append = rows.append
    noise, exp = rng.gauss, math.exp
    leave, arrears, growth, factor = story.leave, story.arrears, story.growth, story.factor
    lines = [(product_id, unit == PER_MEMBER, float(price), quantity, start_on, end_on, sub_status == SUSPENDED)
             for _c, product_id, unit, price, quantity, start_on, end_on, sub_status in subs if price]  # fmt: skip
    habit = days.choice((10, 15, 20, 25, 30, 35, 40, 55, 75))  # what this customer usually takes to pay
    for t, (period, month_end, season) in enumerate(_calendar(periods)):
        if leave is not None and t >= leave:
            break
        paid = rng.random() >= arrears + (0.08 if leave is not None and leave - t <= 3 else 0)
        trend = growth**t * factor(t) * season
        late = max(0, round(days.gauss(habit, 4))) if paid else days.randint(45, 120)
        for product_id, per_member, price, quantity, start_on, end_on, suspended in lines:
            if start_on >= month_end or (end_on and end_on < period):
                continue
            members = 0
            amount = price * trend * exp(noise(0, 0.06))
            if suspended and t >= MONTHS - 3:
                # 停机保号: a suspended line pays a tenth to keep its numbers, so it is dormant, not gone.
                append((period, customer_id, product_id, f"{price * 0.1:.2f}", 0, paid, late))
                continue
            if per_member:
                members = max(1, round(quantity * factor(t) * exp(noise(0, 0.03))))
                amount = price * members * season * exp(noise(0, 0.04))
            append((period, customer_id, product_id, f"{amount:.2f}", members, paid, late))
    return rows


PER_MEMBER, SUSPENDED = BillingUnit.PER_MEMBER.value, SubscriptionStatus.SUSPENDED.value
_calendars: dict[tuple, list] = {}


def _calendar(periods: list[date]) -> list[tuple[date, date, float]]:
    """(period, first day after it, season) of each month, computed once per run."""
    key = tuple(periods)
    if key not in _calendars:
        _calendars.clear()
        _calendars[key] = [(period, month_after(period), SEASON[period.month]) for period in periods]
    return _calendars[key]


def _mark_churned(leavers: list[tuple[int, date]]) -> None:
    """Customers who left in the window: churned, their subscriptions ended the day before they left."""
    if not leavers:
        return
    customers = connection.ops.quote_name(Customer._meta.db_table)
    subs = connection.ops.quote_name(Subscription._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {customers} SET status = %s WHERE id = %s",
            [(LifecycleStatus.CHURNED.value, customer_id) for customer_id, _ in leavers],
        )
        cursor.executemany(
            f"UPDATE {subs} SET status = %s, end_on = CASE WHEN start_on > %s THEN start_on ELSE %s END "
            "WHERE customer_id = %s AND (end_on IS NULL OR end_on >= %s)",
            [
                (SubscriptionStatus.TERMINATED.value, end, end, customer_id, left)
                for customer_id, left in leavers
                for end in [month_before(left).replace(day=28)]
            ],
        )
