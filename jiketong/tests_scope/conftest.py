"""The world the generated tests share per module (jiketong/testing_views.py, `SharedWorld`)."""

import pytest

from jiketong.testing_views import SharedWorld


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    with SharedWorld(django_db_blocker) as world:
        yield world
