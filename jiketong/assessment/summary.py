"""The loyalty and satisfaction indicators' counts kept per org unit and month (LoyaltySummary, decision 1002).

`refresh` is the definition: it counts, per customer's org unit × month and per unit × industry or grade, what
`indicators` would count live for those customers: the month's LoyaltyFacts (in service, loyal, their revenue,
value customers and those retained) and its satisfaction answers (ticket ratings by the month they were given,
Asia/Shanghai, and survey answers by the day surveyed; a 4 or a 5 is satisfied). It runs
- for the whole table each night (`jobs.daily`) and after a demo load,
- for one month after `loyalty.refresh` wrote that month's facts,
- for one unit and month after a ticket is rated or a survey recorded (`ticket.rated`, `survey.recorded`),
- for two units' months after a customer moved between them (`customer.moved`);
the last two by the task worker (background reactions, AssessmentConfig.ready).
Before the first whole build nothing is kept and the indicators count live; after it, a refresh keeps it exact.
A regrade or a change of industry moves a customer between the industry and grade rows at the next night.
"""

from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, DateField, DecimalField, F, Q, Sum
from django.db.models.functions import TruncMonth

from jiketong.analytics.periods import add_months
from jiketong.service.models import SurveyAnswer, Ticket

from .compute import SATISFIED
from .models import LoyaltyDimension, LoyaltyFact, LoyaltySummary

LOCAL = ZoneInfo("Asia/Shanghai")
BATCH = 5000
BIG = DecimalField(max_digits=30, decimal_places=2)
FIELDS = ("in_service", "loyal", "revenue", "loyal_revenue", "value_base", "value_retained", "rated", "satisfied")


def built() -> bool:
    """Whether the whole table was built once (then every refresh keeps it exact and the indicators read it)."""
    return LoyaltySummary.objects.exists()


def _midnight(day: date):
    from jiketong.work.models import local_midnight

    return local_midnight(day)


def _cells(periods, unit_ids) -> dict[tuple, dict]:
    """{(month, unit, industry, grade): counts} over the customers of `unit_ids` (all when None)."""
    facts = LoyaltyFact.objects.all()
    tickets = Ticket.objects.filter(rating__isnull=False, rated_at__isnull=False)
    answers = SurveyAnswer.objects.all()
    if periods is not None:
        facts = facts.filter(period__in=periods)
        rated, surveyed = Q(pk__in=[]), Q(pk__in=[])
        for period in periods:
            end = add_months(period, 1)
            rated |= Q(rated_at__gte=_midnight(period), rated_at__lt=_midnight(end))
            surveyed |= Q(survey__surveyed_on__gte=period, survey__surveyed_on__lt=end)
        tickets, answers = tickets.filter(rated), answers.filter(surveyed)
    cells: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    if unit_ids is not None:
        # The units' customers first, then their rows by customer (the (period, customer) and customer indexes):
        # a unit's month costs its own rows, not a pass over the month's facts of the province.
        from jiketong.customers.models import Customer

        ids = list(Customer.objects.filter(org_unit__in=unit_ids).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            _count(
                cells,
                facts.filter(customer_id__in=chunk),
                tickets.filter(customer_id__in=chunk),
                answers.filter(survey__customer_id__in=chunk),
            )
        return cells
    _count(cells, facts, tickets, answers)
    return cells


def _count(cells: dict[tuple, dict], facts, tickets, answers) -> None:
    """Add the loyalty facts', ratings' and survey answers' counts to `cells`, by month, unit, industry and grade."""

    def add(rows, prefix: str) -> None:
        for row in rows.iterator(chunk_size=BATCH):
            cell = cells[(row.pop("_period"), row.pop("_unit"), row.pop("_industry"), row.pop("_grade"))]
            for name, value in row.items():
                cell[name.removeprefix("k_")] += value or 0

    def keyed(queryset, prefix: str, month):
        return queryset.order_by().values(
            _period=month,
            _unit=F(f"{prefix}org_unit"),
            _industry=F(f"{prefix}industry_id"),
            _grade=F(f"{prefix}grade"),
        )

    add(
        keyed(facts, "customer__", F("period")).annotate(
            k_in_service=Count("pk", filter=Q(in_service=True)),
            k_loyal=Count("pk", filter=Q(loyal=True)),
            k_revenue=Sum("revenue", output_field=BIG),
            k_loyal_revenue=Sum("revenue", filter=Q(loyal=True), output_field=BIG),
            k_value_base=Count("pk", filter=Q(value_base=True)),
            k_value_retained=Count("pk", filter=Q(value_retained=True)),
        ),
        "customer__",
    )
    add(
        keyed(tickets, "customer__", TruncMonth("rated_at", output_field=DateField(), tzinfo=LOCAL)).annotate(
            k_rated=Count("pk"), k_satisfied=Count("pk", filter=Q(rating__gte=SATISFIED))
        ),
        "customer__",
    )
    add(
        keyed(answers, "survey__customer__", TruncMonth("survey__surveyed_on", output_field=DateField())).annotate(
            k_rated=Count("pk"), k_satisfied=Count("pk", filter=Q(satisfaction__gte=SATISFIED))
        ),
        "survey__customer__",
    )


def _rows(cells: dict[tuple, dict]) -> list[LoyaltySummary]:
    """Each cell counted three times: in its unit's row, its unit × industry row and its unit × grade row."""
    rows: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for (period, unit, industry, grade), counts in cells.items():
        for dimension, key in (
            (LoyaltyDimension.NONE, ""),
            (LoyaltyDimension.INDUSTRY, industry),
            (LoyaltyDimension.GRADE, grade),
        ):
            row = rows[(period, unit, dimension, key or "")]
            for name, value in counts.items():
                row[name] += value
    return [
        LoyaltySummary(period=period, org_unit_id=unit, dimension=dimension, key=key, **counts)
        for (period, unit, dimension, key), counts in rows.items()
        if any(counts.values())
    ]


def refresh(periods: list[date] | None = None, unit_ids=None) -> int:
    """Recount the kept rows of these months and org units (each None: all). Returns the rows written."""
    if unit_ids is not None:
        unit_ids = sorted({i for i in unit_ids if i})
        if not unit_ids:
            return 0
    if periods is not None:
        periods = sorted(set(periods))
    rows = _rows(_cells(periods, unit_ids))
    stale = LoyaltySummary.objects.all()
    if periods is not None:
        stale = stale.filter(period__in=periods)
    if unit_ids is not None:
        stale = stale.filter(org_unit__in=unit_ids)
    with transaction.atomic():
        stale.delete()
        LoyaltySummary.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def refresh_later(*, periods=None, unit_ids=None) -> None:
    """After the current transaction commits, when the table was built: recount these months and units."""

    def run() -> None:
        if built():
            refresh(periods, unit_ids)

    transaction.on_commit(run, robust=True)  # a failed recount must not fail the change; the night repairs it


# --- reactions (AssessmentConfig.reactions) ------------------------------------------------------------------
def _month(value) -> date:
    return date.fromisoformat(str(value)[:10]).replace(day=1)


def satisfaction_answered(event) -> None:
    """A ticket was rated or a survey recorded: recount its customer's unit for that month. Idempotent."""
    from jiketong.customers.models import Customer

    unit = Customer.objects.filter(pk=event.customer_id).values_list("org_unit_id", flat=True).first()
    if unit is not None and built():
        refresh([_month(event.payload["month"])], [unit])


def customer_moved(event) -> None:
    """A customer's facts now count in its new unit: recount the old and the new unit, every month. Idempotent."""
    if built():
        refresh(None, [event.payload.get("from_unit"), event.payload.get("to_unit")])
