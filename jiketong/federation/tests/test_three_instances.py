"""Must show (issue 15): HQ and two provinces as three real processes on 127.0.0.1, each with its own SQLite
database; they sync, a province stops, data changes on both, it starts again, and HQ converges with no
duplicate and no lost row; a province writing another's rows is refused. About a minute: the data is tiny."""

import json
import os
import urllib.error
import urllib.request

import pytest

from ..localrun import Instance, free_port, prepare, query, register

SEED = "from jiketong.federation.tests import world; world.seed({code!r})"
CHANGE = "from datetime import date; from jiketong.federation.tests import world; world.change({code!r}, {grade!r}, {revenue!r}, date({y}, {m}, 1))"  # noqa: E501


def hq_rows(hq: Instance, sql: str) -> list[tuple]:
    return query(hq, sql)


def expected(province: Instance) -> dict[tuple, str]:
    """What the province says HQ should hold: the latest content of every row of its outbox (not tombstones)."""
    rows = query(province, "SELECT kind, key, period, payload FROM federation_outboxrow")
    payloads = {
        (kind, key, period): payload if isinstance(payload, str) else json.dumps(payload)
        for kind, key, period, payload in rows
    }  # PostgreSQL answers jsonb as a dict
    return {ident: payload for ident, payload in payloads.items() if '"deleted"' not in payload}


def post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local HQ
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def instances(tmp_path):
    """SQLite each; under scripts/with-postgres (DATABASE_URL on PostgreSQL) a database each on that server."""
    hq = Instance("hq", "hq", free_port(), tmp_path / "hq")
    gd = Instance("gd", "province", free_port(), tmp_path / "gd", province="440000")
    zj = Instance("zj", "province", free_port(), tmp_path / "zj", province="330000")
    server = os.environ.get("DATABASE_URL", "")
    created = []
    if server.startswith("postgres"):
        import psycopg

        base = server.rsplit("/", 1)[0]
        with psycopg.connect(server, autocommit=True) as db:
            for item in (hq, gd, zj):
                name = f"federation_{item.name}_{os.getpid()}"
                db.execute(f'DROP DATABASE IF EXISTS "{name}"')
                db.execute(f'CREATE DATABASE "{name}"')
                item.database_url = f"{base}/{name}"
                created.append(name)
    prepare(tmp_path, [hq, gd, zj])
    yield hq, gd, zj
    for item in (hq, gd, zj):
        item.stop()
    if created:
        import psycopg

        with psycopg.connect(server, autocommit=True) as db:
            for name in created:
                db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_three_instances_converge_after_an_outage_with_nothing_duplicated_or_lost(instances):
    hq, gd, zj = instances
    register(hq, gd, "广东")
    register(hq, zj, "浙江")
    for province in (gd, zj):
        province.shell(SEED.format(code=province.province))
    for item in (hq, gd, zj):
        item.start()
    for province in (gd, zj):
        province.run("federation", "collect")
        province.run("federation", "sync")
    units = hq_rows(hq, "SELECT province, name FROM federation_groupunit ORDER BY province")
    assert [row[0] for row in units] == ["330000", "440000", "440000"]  # Guangdong has the head and a unit
    assert hq_rows(hq, "SELECT COUNT(*) FROM federation_nationalgroup") == [(1,)]

    # Zhejiang stops; both change their data; HQ is briefly down too, so Guangdong's first try fails.
    zj.stop()
    gd.shell(CHANGE.format(code="440000", grade="A1", revenue="350000.00", y=2026, m=6))
    zj.shell(CHANGE.format(code="330000", grade="B1", revenue="450000.00", y=2026, m=6))
    hq.stop()
    gd.run("federation", "collect")
    failed = gd.run("federation", "sync", check=False)
    assert failed.returncode != 0 and "unreachable" in failed.stderr
    hq.start()
    gd.run("federation", "sync")
    zj.start()
    zj.run("federation", "collect")
    zj.run("federation", "sync")

    for province in (gd, zj):
        want = expected(province)
        units = hq_rows(hq, f"SELECT key, grade FROM federation_groupunit WHERE province = '{province.province}'")
        months = hq_rows(
            hq, f"SELECT key, period, revenue FROM federation_unitmonth WHERE province = '{province.province}'"
        )  # noqa: E501
        cells = hq_rows(hq, f"SELECT COUNT(*) FROM federation_indicatorcell WHERE province = '{province.province}'")
        assert {key for key, _grade in units} == {key for kind, key, _p in want if kind == "unit"}
        assert len(units) == len({key for key, _grade in units})  # no duplicate
        assert {(key, str(period)[:7]) for key, period, _r in months} == {
            (key, period) for kind, key, period in want if kind == "unit_month"
        }  # nothing lost, nothing twice
        assert cells == [(sum(1 for kind, _k, _p in want if kind == "indicator"),)]
        for key, grade in units:
            assert json.loads(want[("unit", key, "")])["grade"] == grade
    assert ("B1",) in hq_rows(hq, "SELECT grade FROM federation_groupunit WHERE province = '330000'")
    assert hq_rows(hq, "SELECT COUNT(DISTINCT period) FROM federation_unitmonth") == [(2,)]
    # Guangdong's batch told HQ it came after one failed attempt (the freshness panel shows it until the next).
    freshness = dict(hq_rows(hq, "SELECT code, failures FROM federation_province"))
    assert freshness == {"440000": 1, "330000": 0}

    # Guangdong's token cannot write Zhejiang's rows.
    row = {
        "seq": 10**9,
        "province": "330000",
        "kind": "unit",
        "key": "X",
        "period": "",
        "payload": {"group": "G", "name": "冒名", "org_unit_code": "330106"},
    }
    status, body = post(f"{hq.url}/api/v1/federation/batches", gd.token, {"province": "440000", "rows": [row]})
    assert status == 403 and set(body) == {"detail", "errors"}
    assert hq_rows(hq, "SELECT COUNT(*) FROM federation_groupunit WHERE key = 'X'") == [(0,)]
