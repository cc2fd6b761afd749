"""The demo's load builds plain indexes after the rows are in (demo.indexes.built_after_load, PostgreSQL only)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jiketong.demo.indexes import FOREIGN_KEYS, PLAIN_INDEXES, built_after_load
from jiketong.work.models import Activity

pytestmark = pytest.mark.django_db


def _plain_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(PLAIN_INDEXES, [[Activity._meta.db_table]])
        return cursor.fetchall()


def _unique_indexes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass AND indisunique",
                       [Activity._meta.db_table])  # fmt: skip
        return cursor.fetchone()[0]


def test_on_postgresql_plain_indexes_are_gone_for_the_load_and_back_with_the_same_definitions_after_it():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: elsewhere the load keeps its indexes")
    before, unique = _plain_indexes(), _unique_indexes()
    assert len(before) >= 5
    with built_after_load(Activity) as dropped:
        assert sorted(dropped) == sorted(name for name, _definition in before)
        assert _plain_indexes() == [] and _unique_indexes() == unique  # keys are still checked
    assert _plain_indexes() == before


def test_on_postgresql_the_indexes_come_back_when_the_load_fails():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    before = _plain_indexes()
    with pytest.raises(RuntimeError), built_after_load(Activity):
        raise RuntimeError("the load failed")
    assert _plain_indexes() == before


def test_elsewhere_nothing_is_dropped():
    if connection.vendor == "postgresql":
        pytest.skip("the other backends")
    with built_after_load(Activity) as dropped:
        assert dropped == []


def _foreign_keys() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(FOREIGN_KEYS, [[Activity._meta.db_table]])
        return cursor.fetchall()


def test_on_postgresql_foreign_keys_too_when_asked_and_they_come_back_checked(cast):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    keys, indexes = _foreign_keys(), _plain_indexes()
    assert len(keys) >= 3
    with built_after_load(Activity, indexes=False, foreign_keys=True) as dropped:
        assert sorted(dropped) == sorted(name for _table, name, _definition in keys)
        assert _foreign_keys() == [] and _plain_indexes() == indexes
        Activity.objects.create(
            kind="visit", subject="上门拜访", happened_at=timezone.now(), customer=cast.alice_customer,
            owner=cast.alice, created_by=cast.alice.user,
        )  # fmt: skip
    assert _foreign_keys() == keys
    with pytest.raises(IntegrityError), transaction.atomic():  # added back, so checked again
        Activity.objects.filter(customer=cast.alice_customer).update(customer_id=10**9)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
