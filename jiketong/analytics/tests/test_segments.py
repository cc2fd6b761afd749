"""Grade scores, re-grade proposals and their decisions, RFM, faces and the value pyramid, by hand."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiketong import testing
from jiketong.analytics import queries, segments, services
from jiketong.analytics.models import (
    AnalyticsRun,
    CustomerSegment,
    GradeProposal,
    GradeScheme,
    ProposalStatus,
    RunStatus,
)
from jiketong.analytics.periods import add_months
from jiketong.catalog.models import ProductCategory
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import CustomerType, Grade, GradeChange
from jiketong.org.models import Rank

from .conftest import PREV, P, fact, make_product, month

pytestmark = pytest.mark.django_db


def scored(customer, scheme=None):
    segments.refresh(P)
    row = CustomerSegment.objects.filter(period=P, customer=customer).first()
    return segments.grade_score(customer, row, scheme or GradeScheme.current())


def test_grade_score_weighs_size_revenue_influence_and_prospects(cast, products):
    customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, type=CustomerType.GOVERNMENT)
    # 12 months of ¥50,000 = ¥600,000 a year; 250 members now; flat revenue.
    for i in range(12):
        month(customer, months_back(i), 50000, members=250)
    score = scored(customer)
    # size 250/500 → 50; revenue 600k/1M → 60; influence (government) 100; prospects flat → 50.
    assert (score.size, score.revenue, score.influence, score.prospects) == (50, 60, 100, 50)
    expected = Decimal(50 * 30 + 60 * 40 + 100 * 15 + 50 * 15) / 100
    assert score.score == expected.quantize(Decimal("0.1"))
    assert score.grade == Grade.B1  # 61.5 ≥ 50 (B1), < 65 (A2)
    assert "61.5" in score.reasons and "B1" in score.reasons


def months_back(i):
    return add_months(P, -i)


def test_prospects_follow_growth(cast, products):
    customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice)
    for i in range(3, 6):
        month(customer, months_back(i), 1000)
    for i in range(3):
        month(customer, months_back(i), 1500)  # +50% → 50 + 25
    assert scored(customer).prospects == 75


def test_thresholds_and_weights_are_configurable(cast, products):
    customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, type=CustomerType.GOVERNMENT)
    scheme = GradeScheme.objects.create(size_weight=0, revenue_weight=0, influence_weight=1, prospects_weight=0)
    assert scored(customer, scheme).score == 100
    assert scored(customer, scheme).grade == Grade.A1


def test_regrade_proposes_changes_and_a_supervisor_confirms_through_the_grade_history(world):
    # Carol's city: A, B and C are all grade C in the fixtures; tiny revenue scores them D.
    made = services.regrade_run(actor=world.carol.user, period=P)
    proposals = GradeProposal.objects.filter(status=ProposalStatus.PENDING)
    assert made == proposals.count() == 3  # the prospect and the churned record are not graded
    proposal = proposals.get(customer=world.alice_customer)
    assert (proposal.old_grade, proposal.new_grade) == (Grade.C, Grade.D)

    services.proposal_decide(actor=world.carol.user, proposal_pk=proposal.pk, confirm=True)
    world.alice_customer.refresh_from_db()
    assert world.alice_customer.grade == Grade.D
    change = GradeChange.objects.get(customer=world.alice_customer, new_grade=Grade.D)
    assert change.reason == proposal.reasons and change.changed_by == world.carol.user
    assert AuditEvent.objects.filter(action=AuditAction.APPROVE, target_id=proposal.pk).exists()
    with pytest.raises(ValidationError) as error:
        services.proposal_decide(actor=world.carol.user, proposal_pk=proposal.pk, confirm=False)
    assert "status" in error.value.message_dict


def test_a_rerun_replaces_pending_proposals(world):
    services.regrade_run(actor=world.carol.user, period=P)
    services.regrade_run(actor=world.carol.user, period=P)
    assert GradeProposal.objects.filter(customer=world.alice_customer, status=ProposalStatus.PENDING).count() == 1


def test_rejecting_leaves_the_grade_alone(world):
    services.regrade_run(actor=world.carol.user, period=P)
    proposal = GradeProposal.objects.get(customer=world.bob_customer)
    services.proposal_decide(actor=world.carol.user, proposal_pk=proposal.pk, confirm=False, note="刚续约")
    world.bob_customer.refresh_from_db()
    assert world.bob_customer.grade == Grade.C
    assert AuditEvent.objects.filter(action=AuditAction.REJECT, target_id=proposal.pk, note="刚续约").exists()


def test_only_a_supervisor_in_scope_decides(world):
    services.regrade_run(actor=world.erin.user, period=P)
    proposal = GradeProposal.objects.get(customer=world.shenzhen_customer)
    with pytest.raises(PermissionDenied):
        services.proposal_decide(actor=world.alice.user, proposal_pk=proposal.pk, confirm=True)
    with pytest.raises(Http404):
        services.proposal_decide(actor=world.carol.user, proposal_pk=proposal.pk, confirm=True)  # Shenzhen


def test_managers_cannot_run_a_regrade(world):
    with pytest.raises(PermissionDenied):
        services.regrade_run(actor=world.alice.user, period=P)


def test_rfm_quintiles(world):
    segments.refresh(P)
    rows = {c.customer.name: c for c in queries.rfm_list(world.erin.user, P)}
    a = rows[world.alice_customer.name]
    # May 2025 is outside the 12 months to May 2026.
    assert (a.last_billed, a.frequency, a.monetary) == (P, 2, Decimal(1000 + 1500))
    c = rows[world.backed_up.name]
    assert (c.last_billed, c.frequency) == (PREV, 1)
    # Five customers → one per quintile; C was billed longest ago, B spent most.
    assert c.r_score == 1
    assert max(rows.values(), key=lambda row: row.m_score).customer == world.bob_customer
    assert len(rows) == 5  # the prospect and the churned record were never billed


def test_faces_of_key_accounts_and_the_value_classes(cast):
    cheap = make_product("CHEAP", category=ProductCategory.MESSAGING, cost_rate=Decimal("0.2"))
    dear = make_product("DEAR", category=ProductCategory.IT_CLOUD, cost_rate=Decimal("0.9"))
    gz = cast.org["440106"]
    cast.alice.rank = Rank.KEY_ACCOUNT_MANAGER  # she owns the A customers below (职级)
    cast.alice.save(update_fields=["rank"])
    red = testing.make_customer(org_unit=gz, owner=cast.alice, grade=Grade.A1)
    white = testing.make_customer(org_unit=gz, owner=cast.alice, grade=Grade.A2)
    black = testing.make_customer(org_unit=gz, owner=cast.alice, grade=Grade.A1, type=CustomerType.GOVERNMENT)
    small = testing.make_customer(org_unit=gz, owner=cast.alice, grade=Grade.D)
    for customer, product, revenue in (
        (red, cheap, 100000),
        (white, dear, 600000),
        (black, dear, 100000),
        (small, cheap, 500),
    ):
        month(customer, P, revenue)
        fact(customer, P, product, revenue)
    segments.refresh(P)
    rows = {c.customer_id: c for c in queries.value_list(cast.alice.user, P)}  # alice's portfolio: these four
    # red: profit 80% of revenue ≥ 50%; white: 10% margin but ¥600,000 ≥ ¥500,000; black: neither.
    assert rows[red.pk].profit == Decimal(80000)
    assert (rows[red.pk].face, rows[white.pk].face, rows[black.pk].face) == ("red", "white", "black")
    assert rows[small.pk].face == ""  # not a key account
    # Net value = profit − cost to serve (A ¥20,000, D ¥1,000): red 60,000; white 40,000; black −10,000; small −600.
    assert rows[black.pk].net_value == Decimal(10000 - 20000)
    assert (rows[black.pk].value_class, rows[small.pk].value_class) == ("bz", "bz")
    assert rows[red.pk].tier == "top" and rows[red.pk].value_class == "mvc"
    counts = segments.segment_counts(queries.value_list(cast.alice.user, P))
    assert counts["face"] == {"red": 1, "white": 1, "black": 1}
    # black and small, and alice's two cast customers, signed with nothing billed (net value −¥3,000 each).
    assert counts["value_class"]["bz"] == 4


def test_a_regrade_runs_in_the_background_with_its_progress(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(actor=world.carol.user, kind="regrade", period=P)
    run.refresh_from_db()
    assert (run.status, run.progress, run.result) == (RunStatus.SUCCEEDED, 100, 3)
    assert "3" in run.message and run.started_at and run.finished_at
    assert GradeProposal.objects.filter(status=ProposalStatus.PENDING).count() == 3


def test_a_second_start_while_one_is_queued_returns_the_same_run(world):
    first = services.run_start(actor=world.carol.user, kind="regrade", period=P)  # not committed: still queued
    assert services.run_start(actor=world.carol.user, kind="regrade", period=P) == first
    assert services.run_start(actor=world.erin.user, kind="regrade", period=P) != first  # another scope
    assert AnalyticsRun.objects.count() == 2


def test_a_failed_run_says_why_and_the_worker_goes_on(world, monkeypatch):
    def broken(period):
        raise RuntimeError("disk full")

    monkeypatch.setattr(segments, "refresh", broken)
    run = services.segments_refresh(P)
    assert run.status == RunStatus.FAILED and "disk full" in run.message


def test_a_run_taken_by_another_worker_is_left_alone(world):
    run = AnalyticsRun.objects.create(kind="segments", period=P, status=RunStatus.RUNNING)
    assert services.run_execute(run.pk).status == RunStatus.RUNNING
    assert not CustomerSegment.objects.exists()
