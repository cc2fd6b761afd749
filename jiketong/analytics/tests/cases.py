"""Generated tests (jiketong/testing_views.py) for targets, grade proposals and analytics runs. A target is its
org unit's, so the reader is Dave (Zhejiang) probing the Guangzhou unit of `backed_up`."""

from jiketong.analytics.models import AnalyticsRun, GradeProposal, RunKind, Target
from jiketong.testing_views import Case, Write

CASES = [
    Case(
        Target,
        kinds=("target",),
        find=lambda customer: Target.objects.filter(org_unit=customer.org_unit).first().pk,
        list="analytics:target_list",
        label=lambda target: target.org_unit.name,
        api_list="/api/v1/analytics/targets",
        api_detail="/api/v1/analytics/targets/{id}",
        reader="dave",
    ),
    # Targets are set by analysts and administrators, who see every unit's.
    Case(
        Target,
        variant="admin",
        unscoped=lambda: Target.objects.order_by("pk").first().pk,
        detail="analytics:target_edit",
        reader="frank",
        create=Write(
            "analytics:target_create",
            data=lambda world, customer: {
                "org_unit": customer.org_unit_id,
                "indicator": "revenue",
                "period_type": "month",
                "period": "2026-04-01",
                "value": "6000",
            },  # fmt: skip
            invalid={"value": "很多"},
        ),
        edit=Write(
            "analytics:target_edit",
            data={"value": "7000"},
            invalid={"value": "很多"},
            changed=lambda target: target.value == 7000,
        ),
        delete=Write("analytics:target_delete"),
        writer="frank",
        not_writer="alice",
    ),
    Case(
        GradeProposal,
        kinds=("grade_proposal", "proposal"),
        find=lambda customer: GradeProposal.objects.filter(customer=customer).first().pk,
        list="analytics:proposal_list",
        api_list="/api/v1/analytics/grade-proposals",
        label=lambda proposal: proposal.customer.name,
        reader="carol",
    ),
    # A segments run's status card names no customer: anyone who may see segments may follow it.
    Case(
        AnalyticsRun,
        kinds=("run",),
        unscoped=lambda: AnalyticsRun.objects.filter(kind=RunKind.SEGMENTS).first().pk,
        detail="analytics:run",
        reader="carol",
    ),
]
OTHER_ROUTES = {
    "analytics:dashboard", "analytics:dashboard_export", "analytics:indicators", "analytics:indicator_export",
    "analytics:drill", "analytics:drill_export", "analytics:segments", "analytics:segment_export",
    "analytics:segments_prepare", "analytics:target_create", "analytics:target_import", "analytics:target_template",
    "analytics:proposal_run", "/api/v1/analytics/indicators",
}  # fmt: skip
