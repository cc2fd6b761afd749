"""The precomputed facts (customer-month flags, the summary, the materialised segments) give exactly the
figures of the reference, worked out from the bill lines at request time (tests/reference.py), for every
persona and grouping: one definition per indicator, however it is stored."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from jiketong.analytics import jobs, queries, segments
from jiketong.analytics.indicators import REGISTRY, Calculation
from jiketong.analytics.models import GradeScheme, SegmentPeriod
from jiketong.billing.models import CustomerMonth
from jiketong.billing.rollup import refresh_flags
from jiketong.customers.models import Customer

from . import reference
from .conftest import PREV, P

pytestmark = pytest.mark.django_db
PERSONAS = ["erin", "ann", "carol", "county", "dave", "alice", "bob", "frank"]
GROUPINGS = [{}, {"by": "org"}, {"by": "industry"}, {"by": "grade"}, {"by": "month", "start": P.replace(year=2025)}]


def figures(calc) -> dict:
    codes = [code for code, item in REGISTRY.items() if item.monthly or calc.by != "month"]
    values = {code: calc.value(code) for code in codes}
    if calc.by not in ("", "month"):
        values["totals"] = {code: calc.total(code) for code in codes}
    return values


def test_the_customer_month_flags_are_what_the_bill_lines_say(varied):
    rows = reference.month_facts().values_list(
        "pk", "is_new", "ref_new", "is_mobile_group", "ref_mobile", "is_integrated", "ref_integrated",
        "sticky_revenue", "ref_sticky",
    )  # fmt: skip
    mismatched = [row for row in rows if (row[1], row[3], row[5], row[7]) != (row[2], row[4], row[6], row[8])]
    assert rows and mismatched == []
    assert {row[5] for row in rows} == {True, False} and {row[1] for row in rows} == {True, False}


def test_recomputed_flags_agree_with_the_month_as_built(varied):
    built = sorted(
        CustomerMonth.objects.values_list("pk", "is_new", "is_mobile_group", "is_integrated", "sticky_revenue")
    )
    CustomerMonth.objects.update(is_new=False, is_mobile_group=False, is_integrated=False, sticky_revenue=0)
    refresh_flags(sorted(set(CustomerMonth.objects.values_list("period", flat=True))))
    again = sorted(
        CustomerMonth.objects.values_list("pk", "is_new", "is_mobile_group", "is_integrated", "sticky_revenue")
    )
    assert again == built


@pytest.mark.parametrize("options", GROUPINGS, ids=lambda o: o.get("by", "total"))
def test_every_indicator_equals_the_reference_live_and_summarised(varied, options):
    for summarised in (False, True):
        if summarised:
            jobs.daily(P)
        for persona in PERSONAS:
            user = getattr(varied, persona).user
            calc = Calculation(user, period=P, product="VNET", **options)
            expected = figures(reference.ReferenceCalculation(user, period=P, product="VNET", **options))
            assert figures(calc) == expected, (persona, calc.summarised)
            # A manager's portfolio is kept in total and by month; grouped otherwise, it is read live.
            kept = persona not in ("alice", "bob") or options.get("by", "") in ("", "month")
            assert calc.summarised == (summarised and kept), persona


def test_the_dashboard_penetration_equals_the_reference(varied):
    jobs.daily(P)
    for persona in PERSONAS:
        calc = Calculation(getattr(varied, persona).user, period=P)
        rows = {row["code"]: (row["customers"], row["rate"]) for row in queries.penetration_by_product(calc)}
        for code in ("VNET", "BB", "MAS", "SMS"):
            ref = reference.ReferenceCalculation(calc.user, period=P, product=code)
            customers = ref.products.get(("", P), {}).get("with_product", 0)
            rate = ref.value("penetration")[""]
            # A product nobody in scope uses is left out of the list (its rate would be 0).
            assert rows.get(code, (0, rate if not customers else None)) == (customers, rate), (persona, code)


def _segment_rows(user, view: str) -> dict:
    if view == "rfm":
        fields = ("last_billed", "frequency", "monetary", "r_score", "f_score", "m_score")
        return {row.customer_id: tuple(getattr(row, f) for f in fields) for row in queries.rfm_list(user, P)}
    fields = ("monetary", "profit", "net_value", "face", "tier", "value_class")
    return {row.customer_id: tuple(getattr(row, f) for f in fields) for row in queries.value_list(user, P)}


def cents(value):
    """Money as kept: yuan to the cent (the reference computes profit to the tenth of a fen)."""
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP) if isinstance(value, Decimal) else value


def same_rows(kept: dict, expected: dict) -> list:
    """Customers whose kept row differs from the reference's: money may differ by the last cent's rounding
    (SQLite keeps decimals as floats and rounds half to even), nothing else may differ."""

    def same(a, b) -> bool:
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            return abs(a - b) <= Decimal("0.01")
        return a == b

    assert set(kept) == set(expected)
    return [pk for pk in kept if not all(same(a, b) for a, b in zip(kept[pk], expected[pk], strict=True))]


def _reference_rows(user, view: str) -> dict:
    customers = Customer.objects.visible_to(user)
    if view == "rfm":
        fields = ("last_billed", "frequency", "monetary", "r_score", "f_score", "m_score")
        return {c.pk: tuple(getattr(c, f) for f in fields) for c in reference.rfm(customers, P)}
    fields = ("revenue_year", "profit", "net_value", "face", "tier", "value_class")
    rows = reference.value_segments(customers, P, GradeScheme.current())
    return {c.pk: tuple(cents(getattr(c, f)) for f in fields) for c in rows}


@pytest.mark.parametrize("view", ["rfm", "value"])
def test_materialised_segments_equal_the_reference_for_every_scope(varied, view):
    segments.refresh(P)
    for persona in PERSONAS:
        user = getattr(varied, persona).user
        expected = _reference_rows(user, view)
        assert expected, persona
        assert same_rows(_segment_rows(user, view), expected) == [], (persona, segments.level_of(user))


def test_the_grade_score_figures_equal_the_reference(varied):
    segments.refresh(P)
    annotated = {c.pk: c for c in reference.scoring_queryset(Customer.objects.all(), P)}
    kept = {row.customer_id: row for row in segments_rows()}
    for pk, customer in annotated.items():
        row = kept.get(pk)
        if row is None:  # neither billed in the 12 months nor signed
            assert customer.revenue_year == 0 and customer.members_now is None
            continue
        assert (row.members_now, row.monetary, row.revenue_last3, row.revenue_prior3) == (
            customer.members_now,
            customer.revenue_year,
            customer.revenue_recent,
            customer.revenue_before,
        ), pk


def segments_rows():
    from jiketong.analytics.models import CustomerSegment

    return CustomerSegment.objects.filter(period=P)


def test_segments_follow_a_rerun_and_hold_one_row_per_customer(varied):
    first = segments.refresh(P)
    assert segments.refresh(P) == first == segments_rows().count()
    assert SegmentPeriod.objects.get(period=P).rows == first
    assert segments.refresh(PREV) and SegmentPeriod.objects.count() == 2


def test_the_reference_itself_is_not_trivial(varied):
    jobs.daily(P)
    calc = reference.ReferenceCalculation(varied.erin.user, period=P)
    assert calc.value("integrated")[""] > 0 and calc.value("mobile_group")[""] > 0
    assert calc.value("category_total")[""] > 0 and calc.value("sticky_share")[""] > Decimal(0)
    months = reference.ReferenceCalculation(varied.erin.user, period=P, start=P.replace(year=2025), by="month")
    assert sum(months.value("new_customers").values()) > 0 and sum(months.value("churned_customers").values()) > 0


def test_a_drill_down_is_paged_by_its_figure_which_counts_exactly_its_customers(varied):
    jobs.daily(P)
    for persona in PERSONAS:
        for options in ({}, {"by": "org"}, {"by": "grade"}):
            calc = Calculation(getattr(varied, persona).user, period=P, **options)
            for code in queries.COUNTED_DRILLS:
                keys = [None, *calc.value(code)] if options else [None]
                for key in keys:
                    customers = calc.drill(code, key)
                    pages = queries.drill_pages(calc, REGISTRY[code], key, customers, 50)
                    assert pages.count == customers.count(), (persona, options, code, key)
