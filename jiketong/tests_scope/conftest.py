"""The world the generated tests share per module (jiketong/testing_views.py, `SharedWorld`).

A test using it must also use the database (the `django_db` mark or the `db` fixture): that sets up the test
database, and runs the test in a savepoint rolled back after it."""

import pytest

from jiketong.testing_views import SharedWorld


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    with SharedWorld(django_db_blocker) as world:
        yield world
