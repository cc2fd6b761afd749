"""Every read of leads and opportunities, scoped to the user. Views, the API and other apps call these."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db.models import Count, DecimalField, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Substr, TruncMonth
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiketong.catalog.models import Product
from jiketong.core.imports import runs_visible_to
from jiketong.core.models import AuditEvent
from jiketong.core.money import sum_yuan, yuan
from jiketong.core.names import normalise_org_name
from jiketong.customers.models import Customer
from jiketong.org.models import OrgUnit, Staff, staff_of

from . import pipeline
from .filters import LeadFilter, OpportunityFilter, ReferenceCaseFilter
from .models import (
    OPEN_LEAD_STATUSES,
    Lead,
    LeadImportRun,
    Opportunity,
    OpportunityProduct,
    ReferenceCase,
    Stage,
    StageChange,
)

LEAD_RELATED = ["org_unit", "owner", "industry", "customer"]
OPPORTUNITY_RELATED = ["customer", "owner", "stage"]
BOARD_CARDS = 10  # cards per stage column; counts and totals always cover every opportunity
# What a card shows: loading whole customers (search text and all) cost more than the queries themselves.
CARD_FIELDS = [
    "name", "stage", "expected_close", "amount_monthly", "amount_once", "closed_on",
    "customer__name", "owner__name",
]  # fmt: skip
CLOSED_ON_BOARD_DAYS = 30  # won and lost columns show what closed in the last month

AMOUNT = DecimalField(max_digits=20, decimal_places=4)


# --- leads ---------------------------------------------------------------------------------------
def lead_list(user, params=None) -> tuple[LeadFilter, QuerySet[Lead]]:
    queryset = Lead.objects.visible_to(user).select_related(*LEAD_RELATED).order_by("-created_at", "-id")
    lead_filter = LeadFilter(params or None, queryset=queryset, user=user)
    return lead_filter, lead_filter.qs


def lead_get(user, pk: int) -> Lead:
    """One lead the user may see, or 404 (the same answer as a lead that does not exist)."""
    queryset = Lead.objects.visible_to(user).select_related(*LEAD_RELATED, "opportunity", "created_by")
    return get_object_or_404(queryset, pk=pk)


def lead_history(user, lead: Lead) -> QuerySet[AuditEvent]:
    """Audit events of a lead already fetched through lead_get (so already in scope), newest first."""
    return AuditEvent.objects.filter(target_type=Lead._meta.label_lower, target_id=lead.pk).select_related("actor")


@dataclass
class DuplicateMatch:
    """An existing customer or open lead that looks like the organisation being entered."""

    kind: str  # "customer" or "lead"
    pk: int | None
    name: str
    field: str  # "uscc" or "name": what matched
    org_unit: str
    owner: str
    visible: bool  # may the user see it? Otherwise only its region is told (pk, name and owner are blanked).

    def message(self) -> str:
        params = {"name": self.name, "unit": self.org_unit, "owner": self.owner or _("no owner")}
        if not self.visible:
            # Only the region: the user learns that someone already works this organisation, not who.
            return {
                ("customer", "uscc"): _("A customer in %(unit)s outside your scope has the same credit code."),
                ("customer", "name"): _("A customer in %(unit)s outside your scope has the same name."),
                ("lead", "uscc"): _("An open lead in %(unit)s outside your scope has the same credit code."),
                ("lead", "name"): _("An open lead in %(unit)s outside your scope has the same name."),
            }[(self.kind, self.field)] % params
        return {
            ("customer", "uscc"): _("Customer %(name)s (%(unit)s, %(owner)s) has the same credit code."),
            ("customer", "name"): _("Customer %(name)s (%(unit)s, %(owner)s) has the same name."),
            ("lead", "uscc"): _("Open lead %(name)s (%(unit)s, %(owner)s) has the same credit code."),
            ("lead", "name"): _("Open lead %(name)s (%(unit)s, %(owner)s) has the same name."),
        }[(self.kind, self.field)] % params


def _name_range(key: str) -> Q:
    """Customers whose name starts with the key (what remains once the suffix is stripped). A range on
    the name index rather than LIKE, which SQLite never serves from an index; exact under the C collation
    the database runs with. Both cases are tried because the key is lower case."""
    q = Q()
    for prefix in {key, key.upper()}:
        q |= Q(name__gte=prefix, name__lt=prefix + "\U0010ffff")
    return q


def lead_duplicates(user, *, name: str = "", uscc: str = "", exclude_lead: int | None = None) -> list[DuplicateMatch]:
    """Customers and open leads with the same USCC or the same normalised name (normalise_org_name), looked
    up everywhere: a duplicate is a duplicate even when someone else owns it. Matches the user may not see
    tell only their region. At most four queries."""
    return lead_duplicates_many(user, [(name, uscc)], exclude_lead=exclude_lead)[0]


DUPLICATE_BATCH = 200  # names per query: each adds a range to the OR
KEY_TABLE_FROM = DUPLICATE_BATCH  # more pairs than this (an import): one join against a table of the keys


def lead_duplicates_many(
    user, items: list[tuple[str, str]], *, exclude_lead: int | None = None, name_keys: list[str] | None = None
) -> list[list[DuplicateMatch]]:
    """lead_duplicates for many (name, uscc) pairs at once. A few pairs (a form) are looked up with ranges on
    the name index; an import's pairs are put in a temporary table and joined, a handful of queries for the
    whole file (decision 0018). Both find the same records, matched below by the same rule. `name_keys`, when the
    caller has them, are the names already normalised (normalise_org_name)."""
    if name_keys is None:
        name_keys = [normalise_org_name(name) if name else "" for name, _uscc in items]
    wanted = [(key, (uscc or "").strip().upper()) for key, (_name, uscc) in zip(name_keys, items, strict=True)]
    keys = sorted({key for key, _u in wanted if key})
    codes = sorted({code for _k, code in wanted if code})
    if len(items) > KEY_TABLE_FROM:
        customers, leads = _candidates_joined(keys, codes, exclude_lead)
    else:
        customers, leads = _candidates_by_ranges(keys, codes, exclude_lead)
    by_code: dict[str, list] = {}
    by_key: dict[str, list] = {}
    for kind, records in (("customer", customers), ("lead", leads)):
        for record in dict.fromkeys(records):
            key = normalise_org_name(record.name) if kind == "customer" else record.name_key
            item = (kind, record)
            if record.uscc:
                by_code.setdefault(record.uscc, []).append(item)
            by_key.setdefault(key, []).append(item)
    results: list[list[DuplicateMatch]] = []
    for key, code in wanted:
        found: dict[tuple[str, int], DuplicateMatch] = {}
        for matched_on, candidates in (
            ("uscc", by_code.get(code, []) if code else []),
            ("name", by_key.get(key, []) if key else []),
        ):
            for kind, record in candidates:
                found.setdefault(
                    (kind, record.pk),
                    DuplicateMatch(
                        kind, record.pk, record.name, matched_on, str(record.org_unit), str(record.owner or ""), False
                    ),
                )
        results.append(list(found.values()))
    _mark_visible(user, [match for matches in results for match in matches])
    return results


CUSTOMER_MATCH_FIELDS = ("name", "uscc", "org_unit__name", "owner__name", "path", "depth", "numchild")


def _candidates_by_ranges(keys: list[str], codes: list[str], exclude_lead: int | None) -> tuple[list, list]:
    customers: list[Customer] = []
    leads: list[Lead] = []
    for i in range(0, max(len(keys), len(codes)), DUPLICATE_BATCH):
        key_part, code_part = keys[i : i + DUPLICATE_BATCH], codes[i : i + DUPLICATE_BATCH]
        customer_q = Q(uscc__in=code_part)
        for key in key_part:
            customer_q |= _name_range(key)
        customers += (
            Customer.objects.filter(customer_q).select_related("org_unit", "owner").only(*CUSTOMER_MATCH_FIELDS)
        )
        leads += (
            Lead.objects.open()
            .filter(Q(name_key__in=key_part) | Q(uscc__in=code_part))
            .exclude(pk=exclude_lead)
            .select_related("org_unit", "owner")
        )
    return customers, leads


def _candidates_joined(keys: list[str], codes: list[str], exclude_lead: int | None) -> tuple[list, list]:
    """Customers whose name starts with a key (either case) or whose USCC is a code, and open leads with a key
    or a code: four joins against two temporary tables, then the records themselves by id."""
    from django.db import connection

    from jiketong.core.imports import chunks, key_table, name_prefix_range

    customer_table = connection.ops.quote_name(Customer._meta.db_table)
    lead_table = connection.ops.quote_name(Lead._meta.db_table)
    ranges = [(key, low, high) for key in keys for low, high in name_prefix_range(key)]
    open_marks = ", ".join(["%s"] * len(OPEN_LEAD_STATUSES))
    with (
        key_table(
            "import_name_keys", {"k": "varchar(200)", "lo": "varchar(200)", "hi": "varchar(200)"}, ranges
        ) as names,
        key_table("import_codes", {"code": "varchar(18)"}, [(code,) for code in codes]) as code_table,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"SELECT c.id FROM {names} k JOIN {customer_table} c ON c.name >= k.lo AND c.name < k.hi "
            f"UNION SELECT c.id FROM {code_table} x JOIN {customer_table} c ON c.uscc = x.code"
        )
        customer_ids = [pk for (pk,) in cursor.fetchall()]
        cursor.execute(
            f"SELECT l.id FROM {names} k JOIN {lead_table} l ON l.name_key = k.k WHERE l.status IN ({open_marks}) "
            f"UNION SELECT l.id FROM {code_table} x JOIN {lead_table} l ON l.uscc = x.code "
            f"WHERE l.status IN ({open_marks})",
            [*OPEN_LEAD_STATUSES, *OPEN_LEAD_STATUSES],
        )
        lead_ids = [pk for (pk,) in cursor.fetchall() if pk != exclude_lead]
    customers = [
        customer
        for part in chunks(sorted(customer_ids))
        for customer in Customer.objects.filter(pk__in=part)
        .select_related("org_unit", "owner")
        .only(*CUSTOMER_MATCH_FIELDS)
    ]
    leads = [
        lead
        for part in chunks(sorted(lead_ids))
        for lead in Lead.objects.filter(pk__in=part).select_related("org_unit", "owner")
    ]
    return customers, leads


def _mark_visible(user, matches: list[DuplicateMatch]) -> None:
    """Say which matches the user may see, and blank out who and what the others are."""
    from jiketong.core.imports import chunks

    if not matches:
        return
    seen: dict[str, set] = {"customer": set(), "lead": set()}
    for kind, model in (("customer", Customer), ("lead", Lead)):
        wanted = sorted({m.pk for m in matches if m.kind == kind})
        for part in chunks(wanted):
            seen[kind].update(model.objects.visible_to(user).filter(pk__in=part).values_list("pk", flat=True))
    for match in matches:
        match.visible = match.pk in seen[match.kind]
        if not match.visible:
            match.pk, match.name, match.owner = None, "", ""


# --- lead imports ---------------------------------------------------------------------------------
def lead_import_runs(user) -> QuerySet[LeadImportRun]:
    """The user's own large lead imports, newest first (an administrator sees everyone's)."""
    return runs_visible_to(LeadImportRun.objects.select_related("created_by"), user).order_by("-created_at", "-id")


def lead_import_run_get(user, pk: int) -> LeadImportRun:
    return get_object_or_404(lead_import_runs(user), pk=pk)


def lead_import_error_report(user, pk: int) -> tuple[LeadImportRun, Path]:
    run = lead_import_run_get(user, pk)
    path = Path(run.error_path) if run.error_path else None
    if path is None or not path.is_file():
        raise Http404(_("This import has no error report."))
    return run, path


# --- opportunities ---------------------------------------------------------------------------------
def opportunity_list(user, params=None) -> tuple[OpportunityFilter, QuerySet[Opportunity]]:
    queryset = (
        Opportunity.objects.visible_to(user).select_related(*OPPORTUNITY_RELATED).order_by("expected_close", "id")
    )
    opportunity_filter = OpportunityFilter(params or None, queryset=queryset, user=user)
    return opportunity_filter, opportunity_filter.qs


def opportunity_get(user, pk: int) -> Opportunity:
    queryset = Opportunity.objects.visible_to(user).select_related(
        *OPPORTUNITY_RELATED, "lead", "customer__org_unit", "customer__industry"
    )
    return get_object_or_404(queryset, pk=pk)


def opportunity_lines(opportunity: Opportunity) -> QuerySet[OpportunityProduct]:
    """Lines of an opportunity already fetched through opportunity_get (so already in scope)."""
    return opportunity.lines.select_related("product")


def stage_history(opportunity: Opportunity) -> QuerySet[StageChange]:
    """Stage changes of an opportunity already fetched through opportunity_get (so already in scope)."""
    return opportunity.stage_changes.select_related("from_stage", "to_stage", "changed_by")


def stages(*, active_only: bool = True) -> list[Stage]:
    queryset = Stage.objects.all()
    return list(queryset.filter(active=True) if active_only else queryset)


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    amount_monthly: Decimal = Decimal(0)
    amount_once: Decimal = Decimal(0)
    cards: list[Opportunity] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return self.count - len(self.cards)


def board(user, params=None, *, cards: int | None = None) -> tuple[OpportunityFilter, list[BoardColumn]]:
    """The pipeline by stage: per column the count and totals of every matching opportunity and the first
    `cards` of them, closing soonest first (one indexed query per stage). Won and lost columns show the last
    month's closes. Unfiltered (or by region), a subtree's open totals come from the kept figures
    (pipeline.split, decision 0606), otherwise one GROUP BY. Query count is bounded by the number of stages."""
    board_filter, queryset = opportunity_list(user, params)
    return board_filter, _board(queryset, cards or BOARD_CARDS, kept=_kept_for(user, board_filter))


def _kept_for(user, board_filter: OpportunityFilter) -> pipeline.Split | None:
    """The kept figures answer the unfiltered board and forecast, and a region's; any other filter reads live."""
    data = {}
    if board_filter.is_bound:
        if not board_filter.form.is_valid():
            return None
        data = board_filter.form.cleaned_data
    if any(value for name, value in data.items() if name != "region"):
        return None
    return pipeline.split(user, region=data.get("region"))


def _board(queryset: QuerySet[Opportunity], cards: int, kept: pipeline.Split | None = None) -> list[BoardColumn]:
    since = timezone.localdate() - timedelta(days=CLOSED_ON_BOARD_DAYS)
    closed_recently = Q(closed_on__gte=since) & (Q(stage__is_won=True) | Q(stage__is_lost=True))
    cards_of = queryset
    queryset = queryset.filter(Q(stage__is_won=False, stage__is_lost=False) | closed_recently)
    columns = {stage.pk: BoardColumn(stage) for stage in stages()}
    by_stage = {"n": Count("pk"), "monthly": Sum("amount_monthly"), "once": Sum("amount_once")}
    if kept is None:
        parts = [queryset.order_by().values("stage").annotate(**by_stage)]
    else:
        parts = [
            kept.facts.order_by()
            .values("stage")
            .annotate(n=Sum("count"), monthly=Sum("amount_monthly"), once=Sum("amount_once")),
            kept.rest.order_by().values("stage").annotate(**by_stage),
            queryset.filter(closed_recently).order_by().values("stage").annotate(**by_stage),
        ]
    for part in parts:
        for row in part:
            column = columns.get(row["stage"])
            if column is not None:
                column.count += row["n"]
                column.amount_monthly += yuan(row["monthly"] or 0)
                column.amount_once += yuan(row["once"] or 0)
    for column in columns.values():
        if column.count:
            # One stage's cards, written so each comes off its index: (stage, expected_close) for an open
            # stage, the closes since `since` for won and lost.
            if column.stage.is_closed:
                order, of_stage = ("-closed_on", "-id"), cards_of.filter(stage=column.stage, closed_on__gte=since)
            else:
                order, of_stage = ("expected_close", "id"), cards_of.filter(stage=column.stage)
            column.cards = list(
                of_stage.select_related("customer", "owner").only(*CARD_FIELDS).order_by(*order)[:cards]
            )
    return list(columns.values())


# --- forecast --------------------------------------------------------------------------------------
FORECAST_DEFINITION = gettext_lazy(
    "Expected revenue = (one-time amount + monthly amount) × the stage's win probability, counted in the "
    "month the opportunity is expected to close; open opportunities only."
)


@dataclass
class ForecastRow:
    key: int | str
    label: str
    values: list[Decimal]

    @property
    def total(self) -> Decimal:
        return sum_yuan(self.values)


@dataclass
class Forecast:
    months: list[date]
    rows: list[ForecastRow]

    @property
    def totals(self) -> list[Decimal]:
        return [sum_yuan(row.values[i] for row in self.rows) for i in range(len(self.months))]

    @property
    def total(self) -> Decimal:
        return sum_yuan(self.totals)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def next_month(today: date) -> date:
    """The first day of the month after `today`: where a forecast starts by default."""
    return _add_months(today, 1)


def forecast_months(*, start: date | None = None, months: int = 3, today: date | None = None) -> list[date]:
    """The months a forecast covers: `months` months from `start`'s month, by default from the month after
    today (Asia/Shanghai). The one definition 我的商机, the forecast page, the API and the analytics
    dashboard's next-month forecast share, so they start in the same month."""
    first = (start or next_month(today or timezone.localdate())).replace(day=1)
    return [_add_months(first, i) for i in range(months)]


def forecast(
    user,
    *,
    start: date | None = None,
    months: int = 3,
    by: str = "owner",
    today: date | None = None,
    owner: Staff | None = None,
) -> Forecast:
    """Weighted pipeline per month of forecast_months(start, months), by owner or by org unit
    (the children of the user's own unit; what sits on the unit itself is its own row), or only `owner`'s. See
    FORECAST_DEFINITION. Aggregated in the database in one GROUP BY; labels need one more query."""
    month_list = forecast_months(start=start, months=months, today=today)
    first = month_list[0]
    end = _add_months(first, months)
    queryset = Opportunity.objects.visible_to(user).open().filter(expected_close__gte=first, expected_close__lt=end)
    kept = None
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    else:
        kept = pipeline.split(user)
    amount = F("amount_once") + F("amount_monthly")
    if by == "org_unit":
        staff = staff_of(user)
        depth = (staff.org_unit.depth if staff and not user.is_superuser else 0) + 1
        group, kept_group = (
            Substr(f"{prefix}org_unit__path", 1, OrgUnit.steplen * depth) for prefix in ("customer__", "")
        )
    else:
        group = kept_group = F("owner_id")
    parts = [queryset]
    if kept is not None:
        parts = [kept.rest.filter(expected_close__gte=first, expected_close__lt=end)]
    rows = [
        row
        for part in parts
        for row in part.order_by()
        .annotate(bucket=group, month=TruncMonth("expected_close"))
        .values("bucket", "month")
        .annotate(value=Sum(amount * F("stage__probability"), output_field=AMOUNT, default=Value(0)))
    ]
    if kept is not None:
        rows += list(
            kept.facts.filter(month__gte=first, month__lt=end)
            .order_by()
            .annotate(bucket=kept_group)
            .values("bucket", "month")
            .annotate(value=Sum(amount * F("stage__probability"), output_field=AMOUNT, default=Value(0)))
        )
    table: dict = {}
    for row in rows:
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        values = table.setdefault(row["bucket"], [yuan(0)] * months)
        values[month_list.index(month.replace(day=1))] += yuan(Decimal(str(row["value"])) / 100)
    if by == "org_unit":
        names = dict(OrgUnit.objects.filter(path__in=list(table)).values_list("path", "name"))
    else:
        names = dict(Staff.objects.filter(pk__in=list(table)).values_list("pk", "name"))
    result = [ForecastRow(key, names.get(key, str(key)), values) for key, values in table.items()]
    result.sort(key=lambda r: (-r.total, r.label))
    return Forecast(month_list, result)


# --- customer 360 panel ------------------------------------------------------------------------------
def customer_pipeline(user, customer: Customer, limit: int = 10) -> tuple[list[Lead], list[Opportunity]]:
    """The customer's open leads and open opportunities the user may see (two queries)."""
    leads = list(Lead.objects.visible_to(user).open().filter(customer=customer).select_related("owner")[:limit])
    opportunities = list(
        Opportunity.objects.visible_to(user)
        .open()
        .filter(customer=customer)
        .select_related("stage", "owner")
        .order_by("expected_close", "id")[:limit]
    )
    return leads, opportunities


def my_pipeline(user, *, today: date | None = None) -> dict:
    """A manager's own open leads, own opportunities by stage, and own forecast for the next three months."""
    staff = staff_of(user)
    if staff is None:
        return {"leads": [], "columns": [], "forecast": None}
    leads = list(
        Lead.objects.visible_to(user).open().filter(owner=staff).select_related("org_unit").order_by("-created_at")[:20]
    )
    mine = Opportunity.objects.visible_to(user).filter(owner=staff).select_related(*OPPORTUNITY_RELATED)
    columns = _board(mine, cards=5)
    # Only the user's own opportunities are summed (a supervisor's own pipeline, not their whole subtree's).
    table = forecast(user, months=3, by="owner", today=today, owner=staff)
    return {"leads": leads, "columns": columns, "forecast": table}


# --- reference cases (标杆案例) ---------------------------------------------------------------------
CASE_RELATED = ["industry", "org_unit", "published_by"]  # not the customer: its name comes in scope (for_reader)
SIMILAR_CASES = 5  # an opportunity's page shows this many cases of its industry, by value


def _cases(user) -> QuerySet[ReferenceCase]:
    products = Prefetch("products", queryset=Product.objects.order_by("category", "code"))
    return (
        ReferenceCase.objects.visible_to(user).for_reader(user).select_related(*CASE_RELATED).prefetch_related(products)
    )


def case_list(user, params=None) -> tuple[ReferenceCaseFilter, QuerySet[ReferenceCase]]:
    """The cases of the reader's province, filtered, by value (largest first)."""
    case_filter = ReferenceCaseFilter(params or None, queryset=_cases(user).order_by("-value", "-id"), user=user)
    return case_filter, case_filter.qs


def case_get(user, pk: int) -> ReferenceCase:
    """One case the reader may read (their province's), or 404."""
    return get_object_or_404(_cases(user), pk=pk)


def cases_like(user, opportunity: Opportunity, limit: int = SIMILAR_CASES) -> list[ReferenceCase]:
    """The largest cases in the opportunity's industry, to replicate (its own case left out): one indexed,
    capped query (sales_case_industry_value) and one for their products, whatever the number of cases."""
    queryset = _cases(user).filter(industry_id=opportunity.customer.industry_id).exclude(opportunity=opportunity)
    return list(queryset.order_by("-value", "-id")[:limit])


def case_of(opportunity: Opportunity) -> ReferenceCase | None:
    """The case an opportunity (already fetched in scope) was published as, if any."""
    return ReferenceCase.objects.filter(opportunity=opportunity).only("pk", "title").first()
