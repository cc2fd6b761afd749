"""The audit log reaches as far as the reader's scope, also for events about no customer (leads, staff,
exports): a province auditor does not read what happened to another province's leads."""

import pytest

from jiketong.core.audit import record_export
from jiketong.customers.models import Industry
from jiketong.customers.queries import audit_events
from jiketong.org.services import staff_update
from jiketong.sales.services import lead_create, lead_update

pytestmark = pytest.mark.django_db


def _lead(actor, org_unit, name):
    return lead_create(
        actor=actor.user, confirm_duplicates=True, source="visit", name=name,
        industry=Industry.objects.get(code="it"), org_unit=org_unit,
    )  # fmt: skip


def _seen(user, **filters):
    return set(audit_events(user).filter(**filters).values_list("target_repr", flat=True))


def test_a_province_auditor_reads_the_history_of_leads_in_the_province_only(cast):
    ours = _lead(cast.carol, cast.org["440106"], "天河示例科技有限公司")
    theirs = _lead(cast.dave, cast.org["330106"], "杭州示例科技有限公司")
    lead_update(actor=cast.frank.user, lead=theirs, need="专线")  # a province-wide admin edits it too

    seen = _seen(cast.grace.user, target_type="sales.lead")
    assert "天河示例科技有限公司" in seen
    assert "杭州示例科技有限公司" not in seen
    assert ours.customer_id is None and theirs.customer_id is None


def test_exports_and_staff_changes_are_read_within_the_actors_and_records_subtree(cast):
    record_export(actor=cast.dave.user, what="customers.customer", count=12)
    record_export(actor=cast.carol.user, what="sales.lead", count=3)
    staff_update(actor=cast.frank.user, staff=cast.dave, name="周伟伟")

    assert _seen(cast.grace.user, action="export") == {"sales.lead × 3"}
    assert not audit_events(cast.grace.user).filter(target_type="org.staff", target_id=cast.dave.pk).exists()
    # HQ and administrators read everything.
    assert audit_events(cast.frank.user).filter(target_type="org.staff", target_id=cast.dave.pk).exists()
    assert _seen(cast.frank.user, action="export") == {"customers.customer × 12", "sales.lead × 3"}
