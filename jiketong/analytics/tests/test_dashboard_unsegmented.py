"""The dashboard renders for every persona before any month has been segmented."""

import pytest

from jiketong.analytics.models import CustomerSegment


@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "frank"])
def test_the_dashboard_renders_before_segments_exist(cast, client_as, persona):
    assert not CustomerSegment.objects.exists()
    response = client_as(getattr(cast, persona)).get("/analytics/")
    assert response.status_code == 200
