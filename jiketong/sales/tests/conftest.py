"""Helpers for the sales tests: leads and opportunities made through the services, as users would."""

from datetime import date

import pytest

from jiketong.customers.models import Industry
from jiketong.sales import services
from jiketong.sales.models import Stage


@pytest.fixture
def stage():
    """Stages by code (seeded by the migration)."""
    return {s.code: s for s in Stage.objects.all()}


@pytest.fixture
def make_lead():
    def make(actor, **fields):
        values = {"source": "visit", "name": "示例科技有限公司", "industry": Industry.objects.get(code="it")} | fields
        return services.lead_create(actor=actor.user, confirm_duplicates=True, **values)

    return make


@pytest.fixture
def make_opportunity():
    def make(actor, customer, **fields):
        values = {"name": "专线升级", "expected_close": date(2026, 12, 15)} | fields
        return services.opportunity_create(actor=actor.user, customer=customer, **values)

    return make


@pytest.fixture
def api_as():
    """`api_as(cast.alice)` → a JSON client with a fresh bearer token of Alice's (English messages)."""
    from jiketong.api.tests.conftest import ApiClient
    from jiketong.org.services import token_issue

    return lambda staff: ApiClient(token_issue(user=staff.user))
