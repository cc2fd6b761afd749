"""Demo tickets over the last twelve months and satisfaction surveys for a share of the customers.

Streams the owned customers in id order and writes in chunks through `builder.writer` (COPY on PostgreSQL),
with ids assigned here so history lines and answers point at their ticket or survey without a query.
Deadlines come from the real business calendar; about one ticket in six was resolved late, and the open
tickets of the last days include some already past a deadline, so the frequent job has breaches to escalate.
"""

from datetime import datetime, time, timedelta

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from jiketong.customers.models import Customer, LifecycleStatus
from jiketong.demo.indexes import built_after_load

from . import queries
from .calendar import add_working_time
from .models import (
    Channel,
    Dimension,
    EventKind,
    Priority,
    SatisfactionFact,
    SlaPolicy,
    Survey,
    SurveyAnswer,
    Ticket,
    TicketEvent,
    TicketStatus,
    TicketType,
)
from .satisfaction import refresh as satisfaction_refresh

TICKET_SHARE = 0.3  # of owned active/at-risk customers have tickets this year
SURVEY_SHARE = 0.12
CHUNK = 5000
TYPES = [TicketType.INQUIRY, TicketType.COMPLAINT, TicketType.FAULT, TicketType.REQUEST]
TYPE_WEIGHTS = [4, 2, 3, 2]
CHANNELS = [Channel.HOTLINE, Channel.MANAGER, Channel.ONLINE, Channel.ONSITE, Channel.EMAIL]
CHANNEL_WEIGHTS = [4, 4, 2, 1, 1]
TITLES = {
    TicketType.INQUIRY: ["咨询集团V网资费", "咨询专线带宽升级", "咨询发票开具", "咨询云服务价格"],
    TicketType.COMPLAINT: ["投诉网络信号差", "投诉账单金额有误", "投诉装机延误", "投诉客户经理响应慢"],
    TicketType.FAULT: ["互联网专线中断", "企业宽带时断时续", "集团彩铃无法播放", "400号码无法呼入"],
    TicketType.REQUEST: ["新增成员办理V网", "变更专线带宽", "开通企业邮箱", "变更账户信息"],
}
# (mean importance, mean satisfaction) per dimension: price matters and disappoints, so it lands in "fix first".
SURVEY_BIAS = {
    Dimension.NETWORK: (4.6, 4.2),
    Dimension.SERVICE: (4.1, 3.4),
    Dimension.PRICE: (4.4, 3.0),
    Dimension.PRODUCT: (3.2, 3.9),
    Dimension.MANAGER: (3.4, 3.3),
}
TICKET_FIELDS = ["id", "number", "type", "channel", "priority", "customer", "title", "description", "status",
                 "owner", "received_by", "transfer_reason", "opened_at", "response_due", "resolve_due", "next_due",
                 "watch_at", "first_response_at", "resolved_at", "closed_at", "resolution", "breached_response",
                 "breached_resolution", "escalated_at", "reopen_count", "rating", "rating_comment", "rated_at",
                 "created_at", "updated_at"]  # fmt: skip
EVENT_FIELDS = ["ticket", "at", "actor", "kind", "from_status", "to_status", "note"]
SURVEY_FIELDS = ["id", "customer", "period", "surveyed_by", "surveyed_on", "note", "created_at", "updated_at"]
ANSWER_FIELDS = ["survey", "dimension", "importance", "satisfaction"]
RESET_MODELS = [SatisfactionFact, TicketEvent, Ticket, SurveyAnswer, Survey]


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def _score(rng, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.8))))


def _quarter(day) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def generate(builder) -> None:
    rng, today = builder.rng, builder.today
    if not SlaPolicy.objects.exists():
        return
    calendar = queries.business_calendar()
    policies = {(p.ticket_type, p.grade): p for p in SlaPolicy.objects.all()}
    db = connection.ops.adapt_datetimefield_value
    now = builder.now
    last_quarter = today.replace(day=1) - timedelta(days=80)
    ids = {Ticket: _next_id(Ticket), Survey: _next_id(Survey)}
    tickets, events, surveys, answers = [], [], [], []
    customers = (
        Customer.objects.filter(status__in=(LifecycleStatus.ACTIVE, LifecycleStatus.AT_RISK), owner__isnull=False)
        .order_by("id")
        .values_list("id", "owner_id", "grade")
    )
    with built_after_load(Ticket, TicketEvent, Survey, SurveyAnswer, foreign_keys=True):
        for customer_id, owner_id, grade in customers.iterator(chunk_size=CHUNK):
            if rng.random() < TICKET_SHARE:
                for _ in range(rng.choice([1, 1, 1, 2, 3])):
                    ticket_type = rng.choices(TYPES, TYPE_WEIGHTS)[0]
                    policy = (
                        policies.get((ticket_type, grade))
                        or policies.get((ticket_type, grade[:1]))
                        or policies[(ticket_type, "")]
                    )
                    day = today - timedelta(days=int(rng.random() ** 1.5 * 365))
                    local = datetime.combine(day, time(8, 0), calendar.tz) + timedelta(minutes=rng.randrange(10 * 60))
                    if local > now - timedelta(minutes=5):
                        # Not yet happened today: the day before, so the same seed gives the same tickets all day
                        # (clipping to `now` made them differ between two loads just after midnight).
                        local -= timedelta(days=1)
                    opened = local
                    row, history = _ticket(
                        rng, ids[Ticket], customer_id, owner_id, ticket_type, policy, opened, now, calendar
                    )
                    ids[Ticket] += 1
                    tickets.append(tuple(db(v) if isinstance(v, datetime) else v for v in row))
                    events.extend(tuple(db(v) if isinstance(v, datetime) else v for v in e) for e in history)
            if rng.random() < SURVEY_SHARE:
                survey_id = ids[Survey]
                ids[Survey] += 1
                surveyed_on = last_quarter + timedelta(days=rng.randrange(60))
                surveys.append(
                    (survey_id, customer_id, _quarter(surveyed_on), owner_id, surveyed_on, "", db(now), db(now))
                )
                for dimension, (importance, satisfaction) in SURVEY_BIAS.items():
                    answers.append((survey_id, dimension, _score(rng, importance), _score(rng, satisfaction)))
            if len(tickets) >= CHUNK:
                _flush(builder, tickets, events, surveys, answers)
                tickets, events, surveys, answers = [], [], [], []
                builder.progress(f"service: {ids[Ticket] - 1:,} tickets")
        _flush(builder, tickets, events, surveys, answers)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Ticket, Survey]):
            cursor.execute(sql)
    builder.progress(f"service: {satisfaction_refresh():,} satisfaction figures kept")


def _ticket(rng, ticket_id, customer_id, owner_id, ticket_type, policy, opened, now, calendar):
    response_due = add_working_time(opened, policy.response_minutes, calendar)
    resolve_due = add_working_time(opened, policy.resolution_minutes, calendar)
    late = rng.random() < 1 / 6
    responded = add_working_time(opened, policy.response_minutes * (1.5 if late else rng.uniform(0.1, 0.9)), calendar)
    resolved = add_working_time(opened, policy.resolution_minutes * (1.4 if late else rng.uniform(0.2, 0.95)), calendar)
    status, first_response_at, resolved_at, closed_at = TicketStatus.CLOSED, responded, resolved, None
    if resolved > now:  # still being worked on
        status, resolved_at = TicketStatus.IN_PROGRESS, None
        if responded > now:
            status, first_response_at = TicketStatus.NEW, None
    elif resolved + timedelta(days=1) < now:
        closed_at = resolved + timedelta(hours=rng.randint(2, 30))
    else:
        status = TicketStatus.RESOLVED
    is_open = status in (TicketStatus.NEW, TicketStatus.IN_PROGRESS)
    breached_response = (first_response_at or now) > response_due
    breached_resolution = (resolved_at or now) > resolve_due
    rating = None
    if closed_at and rng.random() < 0.6:
        rating = rng.choices([1, 2, 3, 4, 5], [1, 1, 3, 8, 10] if not late else [3, 4, 5, 3, 1])[0]
    ticket = Ticket(
        status=status,
        first_response_at=first_response_at,
        response_due=response_due,
        resolve_due=resolve_due,
        # Open tickets are left for the frequent job to find breached; finished ones carry their history.
        breached_response=breached_response and not is_open,
        breached_resolution=breached_resolution and not is_open,
    )
    ticket.refresh_deadlines()
    title = rng.choice(TITLES[ticket_type])
    row = (
        ticket_id, f"GD{timezone.localtime(opened):%Y%m%d}{ticket_id:06d}", ticket_type,
        rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0], rng.choices(Priority.values, [1, 6, 2, 1])[0], customer_id, title,
        "", status, owner_id, owner_id, "", opened, response_due, resolve_due, ticket.next_due, ticket.watch_at,
        first_response_at, resolved_at, closed_at, "已处理，客户确认" if resolved_at else "",
        ticket.breached_response, ticket.breached_resolution, None, 0, rating, "", closed_at if rating else None,
        opened, closed_at or resolved_at or opened,
    )  # fmt: skip
    history = [(ticket_id, opened, owner_id, EventKind.CREATED, "", TicketStatus.NEW, "")]
    if first_response_at:
        history.append((ticket_id, first_response_at, owner_id, EventKind.STATUS, "new", "in_progress", ""))
    if resolved_at:
        history.append((ticket_id, resolved_at, owner_id, EventKind.STATUS, "in_progress", "resolved", ""))
    if closed_at:
        history.append((ticket_id, closed_at, owner_id, EventKind.STATUS, "resolved", "closed", ""))
    return row, history


def _flush(builder, tickets, events, surveys, answers) -> None:
    w = builder.writer
    w.write(Ticket, TICKET_FIELDS, tickets)
    w.write(TicketEvent, EVENT_FIELDS, events)
    w.write(Survey, SURVEY_FIELDS, surveys)
    w.write(SurveyAnswer, ANSWER_FIELDS, answers)
