"""Generated tests (jiketong/testing_views.py) for the assessment: a manager's scorecard is read under the
manager's id (the scope matrix probes a colleague in another province), a unit's under the org unit's; the
pages without ids are the reader's own scorecard, roll-ups and settings, no model's list."""

from jiketong.assessment.models import AssessmentMonth
from jiketong.testing_views import Case

CASES = [
    Case(
        AssessmentMonth,
        unscoped=lambda: AssessmentMonth.objects.first().pk,
        api_list="/api/v1/assessment/months",
        api_key="month",
        api_value=lambda month: month.period.isoformat(),
        reader="frank",
    ),
]
OTHER_ROUTES = {
    "assessment:manager",
    "assessment:mine", "assessment:unit", "assessment:unit_export", "assessment:settings", "assessment:rank_grades",
    "assessment:months", "assessment:compute", "assessment:close", "assessment:reopen", "/api/v1/assessment/scorecards",
    "/api/v1/assessment/scorecards/me", "/api/v1/assessment/months/close", "/api/v1/assessment/months/reopen",
}  # fmt: skip
