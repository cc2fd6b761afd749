"""Demo activities over the last twelve months, open tasks and today's digests.

Visits roughly follow each grade's visit standard; about one manager in five is behind (visits only part of
what the standard asks), so coverage and the compliance pages have something to show. Streams the owned
customers in id order and appends through `builder.writer` (COPY on PostgreSQL); the open visit tasks and
digests come from the real daily job, so the demo also exercises it at scale.
"""

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils.timezone import make_aware

from jiketong.customers.models import Customer
from jiketong.demo.indexes import built_after_load

from .models import SERVED_STATUSES, Activity, ActivityKind, Handover, Task, TaskKind, TaskPriority, VisitStandard
from .services import generate_visit_tasks, send_digests

CHUNK = 5000
BEHIND_SHARE = 0.2  # of managers visit only part of what the standard asks
NOTES = ["介绍5G专网方案", "了解年度信息化预算", "回访专线使用情况", "商谈合同续签", "走访关键人，交流合作"]
OUTCOMES = ["客户有意向，待出报价", "需求待进一步确认", "客户满意，暂无新需求", "对资费提出异议", "约定下次拜访"]
NEXT_STEPS = ["发送解决方案", "准备报价", "安排技术交流", "跟进合同续签"]
ACTIVITY_FIELDS = ["kind", "subject", "happened_at", "customer", "owner", "notes", "outcome", "next_step",
                   "created_by", "created_at", "updated_at"]  # fmt: skip
TASK_FIELDS = ["owner", "title", "due_on", "priority", "status", "kind", "customer", "note", "created_by",
               "created_at", "updated_at"]  # fmt: skip
RESET_MODELS = [Handover, Task, Activity.staff.through, Activity.contacts.through, Activity]


def _periods(standard: VisitStandard, today: date) -> list[tuple[date, date]]:
    """The standard's periods that overlap the last twelve months, oldest first."""
    periods, day = [], today - timedelta(days=365)
    while day <= today:
        start, end = standard.period(day)
        periods.append((max(start, today - timedelta(days=365)), min(end, today)))
        day = end + timedelta(days=1)
    return periods


def generate(builder) -> None:
    rng, today, now = builder.rng, builder.today, builder.now
    adapt = connection.ops.adapt_datetimefield_value
    now_db = adapt(now)
    standards = {s.grade: (s.visits, _periods(s, today)) for s in VisitStandard.objects.all()}
    behind: dict[int, float] = {}
    activities, tasks = [], []
    written = 0
    customers = (
        Customer.objects.filter(status__in=SERVED_STATUSES, owner__isnull=False)
        .order_by("id")
        .values_list("id", "owner_id", "grade", "short_name", "name")
    )
    with built_after_load(Activity, Task, foreign_keys=True):
        for customer_id, owner_id, grade, short_name, name in customers.iterator(chunk_size=CHUNK):
            if owner_id not in behind:
                behind[owner_id] = rng.uniform(0.3, 0.6) if rng.random() < BEHIND_SHARE else rng.uniform(0.85, 1.0)
            visits, periods = standards.get(grade, (1, []))
            label = short_name or name
            for index, (start, end) in enumerate(periods):
                current = index == len(periods) - 1
                # The current period is still running: only part of it is visited so far.
                chance = behind[owner_id] * (0.5 if current else 1.0)
                for _ in range(visits):
                    if rng.random() >= chance:
                        continue
                    day = start + timedelta(days=rng.randrange((end - start).days + 1))
                    happened = make_aware(datetime.combine(day, time(9))) + timedelta(minutes=rng.randrange(8 * 60))
                    happened = min(happened, now - timedelta(minutes=5))
                    next_step = rng.choice(NEXT_STEPS) if rng.random() < 0.2 else ""
                    activities.append(
                        (ActivityKind.VISIT, f"上门拜访 · {label}"[:120], adapt(happened), customer_id, owner_id,
                         rng.choice(NOTES), rng.choice(OUTCOMES), next_step, owner_id, adapt(happened), adapt(happened))
                    )  # fmt: skip
                    if next_step and current:
                        due = today + timedelta(days=rng.randint(-5, 14))
                        tasks.append(
                            (owner_id, f"{next_step} · {label}"[:200], due, TaskPriority.NORMAL, "open",
                             TaskKind.FOLLOW_UP, customer_id, "", owner_id, now_db, now_db)
                        )  # fmt: skip
            if grade[:1] in "AB" and rng.random() < 0.5:
                day = today - timedelta(days=rng.randrange(90))
                happened = min(make_aware(datetime.combine(day, time(15))), now - timedelta(minutes=5))
                activities.append(
                    (ActivityKind.CALL, f"电话沟通 · {label}"[:120], adapt(happened), customer_id, owner_id, "",
                     rng.choice(OUTCOMES), "", owner_id, adapt(happened), adapt(happened))
                )  # fmt: skip
            if len(activities) >= CHUNK:
                written += len(activities)
                builder.writer.write(Activity, ACTIVITY_FIELDS, activities)
                builder.writer.write(Task, TASK_FIELDS, tasks)
                activities, tasks = [], []
                builder.progress(f"work: {written:,} activities")
        builder.writer.write(Activity, ACTIVITY_FIELDS, activities)
        builder.writer.write(Task, TASK_FIELDS, tasks)
    created = generate_visit_tasks(today)
    builder.progress(f"work: {created:,} visit tasks owed this period")
    sent = send_digests(today)
    builder.progress(f"work: {sent:,} digests")
