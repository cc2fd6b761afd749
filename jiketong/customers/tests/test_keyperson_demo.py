"""`python -m jiketong demo` shows the key-person map: the demo manager's biggest customers have relations and
counterparts, and the 广州 supervisor's gaps list has both kinds after the morning's jobs."""

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from jiketong.customers import queries
from jiketong.customers.models import Contact, ContactRelation, GapKind


def test_the_demo_fills_in_key_person_maps_and_their_gaps(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", groups=300, stdout=StringIO())
    users = get_user_model().objects
    manager, supervisor = users.get(username="manager"), users.get(username="supervisor")
    assert ContactRelation.objects.filter(customer__owner__user=manager, kind="reports_to").exists()
    assert Contact.objects.filter(customer__owner__user=manager, counterpart__user=supervisor).exists()
    assert Contact.objects.filter(customer__owner__user=manager, left_on__isnull=False).exists()
    assert queries.key_person_gaps(supervisor, GapKind.NO_DECIDER).exists()
    unmet = queries.key_person_gaps(supervisor, GapKind.UNMET_DECIDER)
    assert unmet.filter(last_met_at__isnull=False).exists()  # met, but four months ago
