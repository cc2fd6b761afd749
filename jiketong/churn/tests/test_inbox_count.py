"""Decision 1002: the risk inbox counts up to its cap (each counted alert is read with its customer for the scope),
so a province's inbox costs the same queries and about the same rows at any size."""

import pytest

from jiketong import testing
from jiketong.churn import views

from .test_alert_inbox import INBOX, alert

pytestmark = pytest.mark.django_db


def test_the_inbox_counts_up_to_its_cap_whatever_the_alerts(client_as, cast, monkeypatch):
    monkeypatch.setattr(views, "INBOX_COUNT_CAP", 3)
    for _ in range(5):
        alert(testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice))
    response = client_as(cast.carol).get(INBOX)
    paginator = response.context["page"].paginator
    assert (paginator.count, paginator.capped) == (3, True)
    # Dave (浙江) sees none of them: the cap counts only what the reader sees.
    assert client_as(cast.dave).get(INBOX).context["page"].paginator.count == 0
