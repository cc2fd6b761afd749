"""Every page and API call as each persona, through a real server (gunicorn) and in-process, at one data size.

    DATABASE_URL=postgres://…/jiketong python benchmarks/serve.py --groups 100000
    DATABASE_URL=postgres://…/jiketong_1m python benchmarks/serve.py --groups 1000000
    python benchmarks/serve.py --table          # only the markdown table from the results already written

Loads `--groups` demo groups with `python -m jiketong demo --seed 7` unless the database already holds that many
(then ANALYZE), starts gunicorn on jiketong.wsgi (`--workers`, gthread, DEBUG=0, persistent database connections
from settings' CONN_MAX_AGE), and for each persona — the demo's customer manager, a city supervisor, a province
supervisor, a province analyst and an HQ analyst — requests every page and API call of the list below:

- **in-process** through Django's test client: server time (routing, middleware, queries, rendering), and the
  page's query count (of the warm-up request);
- **through gunicorn** over HTTP on 127.0.0.1 with a kept-alive connection, logged in with a session cookie (the
  web pages) or a bearer token (the API): what a browser next to the server waits for, including the WSGI
  server, the connection reuse and the response bytes on the socket.

One warm-up request each, then `--repeat` requests; median and p95 in ms. A page the persona may not open
(403/404: e.g. the approval queue of someone who approves nothing) is skipped. Results go to
benchmarks/results/serve-<vendor>-<customers>.json; the markdown table (every size found in the results, with the
growth ratio of the p95 from the smallest to the largest size) goes to benchmarks/results/serve-<vendor>.md and is
printed, for docs/benchmarks.md.
"""

import argparse
import http.client
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")  # DEBUG keeps every query in memory and slows everything down
RESULTS = ROOT / "benchmarks" / "results"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def pages(period: str, product: str, customer_ids: list[int], terms: list[str]) -> dict[str, list[str]]:
    """Every page and API call a user waits on (the exports have their own benchmarks), by name; a name with
    several URLs cycles through them (360 pages of different customers, different search terms)."""
    return {
        "workbench": ["/"],
        "customer list": ["/customers/"],
        "customer list, page 20": ["/customers/?page=20"],
        "search": [f"/customers/?search={t}" for t in terms],
        "360 page": [f"/customers/{pk}/" for pk in customer_ids],
        "agenda": ["/work/agenda/"],
        "tasks": ["/work/tasks/"],
        "activities": ["/work/activities/"],
        "notifications": ["/work/notifications/"],
        "my pipeline": ["/sales/mine/"],
        "leads": ["/sales/leads/"],
        "opportunities": ["/sales/opportunities/"],
        "opportunity board": ["/sales/board/"],
        "forecast": ["/sales/forecast/"],
        "quotes": ["/deals/quotes/"],
        "approvals": ["/deals/approvals/"],
        "contracts": ["/deals/contracts/"],
        "orders": ["/deals/orders/"],
        "tickets": ["/service/tickets/"],
        "breach board": ["/service/breaches/"],
        "satisfaction quadrant": ["/service/satisfaction/quadrant/"],
        "compliance: coverage": ["/work/compliance/coverage/"],
        "compliance: follow-ups": ["/work/compliance/follow-ups/"],
        "dashboard": [f"/analytics/?period={period}"],
        "indicators: development by org": [f"/analytics/indicators/?section=development&by=org&period={period}"],
        "indicators: categories": [f"/analytics/indicators/?section=categories&period={period}"],
        "indicators: health": [f"/analytics/indicators/?section=health&period={period}"],
        "indicators: penetration by org": [
            f"/analytics/indicators/?section=coverage&by=org&product={product}&period={period}"
        ],
        "drill: integrated": [f"/analytics/drill/?code=integrated&period={period}"],
        "segments: RFM": [f"/analytics/segments/?view=rfm&period={period}"],
        "segments: value": [f"/analytics/segments/?view=value&period={period}"],
        "grade proposals": ["/analytics/grade-proposals/"],
        "churn warnings": ["/churn/warnings/"],
        # Issues 13 and 14 (defence, growth): the pages a supervisor waits on.
        "defence board": ["/defence/"],
        "group risk": ["/defence/groups/"],
        "risk inbox": ["/churn/alerts/"],
        "key-person gaps": ["/customers/key-persons/"],
        "campaigns": ["/campaigns/"],
        "whitespace": ["/campaigns/whitespace/"],
        "reference cases": ["/sales/cases/"],
        "scorecard: mine": ["/assessment/"],
        "scorecard: unit": ["/assessment/units/"],
        "redemptions": ["/billing/redemptions/"],
        "API: customer list": ["/api/v1/customers?limit=50"],
        "API: customer search": [f"/api/v1/customers?search={t}&limit=20" for t in terms],
        "API: customer retrieve": [f"/api/v1/customers/{pk}" for pk in customer_ids],
        "API: activities": ["/api/v1/activities?limit=50"],
        "API: opportunities": ["/api/v1/opportunities?limit=50"],
        "API: tasks": ["/api/v1/tasks?limit=50"],
        "API: tickets": ["/api/v1/tickets?limit=50"],
        "API: integrated by org": [f"/api/v1/analytics/indicators?code=integrated&by=org&period={period}"],
    }


class Http:
    """One kept-alive HTTP/1.1 connection to the server, reopened if the server closes it."""

    def __init__(self, host: str, port: int, headers: dict[str, str]):
        self.host, self.port, self.headers = host, port, headers
        self.connection: http.client.HTTPConnection | None = None

    def get(self, url: str) -> tuple[int, float]:
        url = quote(url, safe="/?&=%:,+")  # search terms in Chinese: the request line is ASCII
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                started = time.perf_counter()
                self.connection.request("GET", url, headers=self.headers)
                response = self.connection.getresponse()
                response.read()
                took = (time.perf_counter() - started) * 1000
                if response.getheader("Connection", "").lower() == "close":
                    self.connection.close()
                    self.connection = None
                return response.status, took
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def start_server(bind: str, workers: int, threads: int) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "jiketong.wsgi",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--bind={bind}",
        "--timeout=120",
        "--keep-alive=30",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ | {"DEBUG": "0"}, stderr=subprocess.DEVNULL)
    host, port = bind.rsplit(":", 1)
    for _ in range(120):
        try:
            if Http(host, int(port), {}).get("/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz")


def measure(args) -> Path:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from jiketong.analytics.indicators import latest_period
    from jiketong.billing.models import BillingFact
    from jiketong.customers.models import Customer, Member
    from jiketong.org.models import Role, Staff
    from jiketong.org.services import token_issue

    call_command("migrate", verbosity=0)
    existing = Customer.objects.count()
    load_s = None
    if existing < args.groups * 0.95:
        started = time.perf_counter()
        call_command("demo", groups=args.groups, seed=7, reset=existing > 0)
        load_s = round(time.perf_counter() - started, 1)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    customers = Customer.objects.count()
    period = latest_period()
    top = BillingFact.objects.filter(period=period).values("product__code").annotate(n=Count("pk")).order_by("-n")
    product = top[0]["product__code"] if top else ""

    def staff(**conditions) -> Staff | None:
        return Staff.objects.filter(user__is_active=True, **conditions).select_related("user").order_by("pk").first()

    personas = {
        "manager": staff(user__username="manager") or staff(roles=Role.CUSTOMER_MANAGER),
        "city supervisor": staff(user__username="supervisor") or staff(roles=Role.SUPERVISOR, org_unit__depth=3),
        "province supervisor": staff(roles=Role.SUPERVISOR, org_unit__depth=2),
        "province analyst": staff(user__username="analyst") or staff(roles=Role.ANALYST, org_unit__depth=2),
        "HQ analyst": staff(roles=Role.ANALYST, org_unit__depth=1),
    }
    personas = {k: v for k, v in personas.items() if v is not None}
    if args.personas:
        personas = {k: v for k, v in personas.items() if any(w in k for w in args.personas.split(","))}

    host, port = args.bind.rsplit(":", 1)
    server = start_server(args.bind, args.workers, args.threads)
    results: dict[str, dict] = {}
    rng = random.Random(7)
    try:
        for who, person in personas.items():
            user = person.user
            client = Client()
            client.force_login(user)  # a session in the database, usable by gunicorn through its cookie
            token = token_issue(user=user, days=1)
            cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
            web = Http(host, int(port), {"Cookie": cookie, "Host": "localhost"})
            api = Http(host, int(port), {"Authorization": f"Bearer {token}", "Host": "localhost"})
            bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            visible = Customer.objects.visible_to(user)
            candidates = list(visible.order_by("pk").values_list("pk", flat=True)[:5000])
            ids = rng.sample(candidates, min(20, len(candidates)))
            names = list(Customer.objects.filter(pk__in=ids).values_list("name", flat=True))
            terms = [name[2:6] for name in names[:5]] + ["gzdt"]
            for name, urls in pages(f"{period:%Y-%m}", product, ids, terms).items():
                if args.only and not any(w in name for w in args.only.split(",")):
                    continue
                is_api = name.startswith("API")
                extra = bearer if is_api else {}
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(urls[0], HTTP_HOST="localhost", **extra)
                if response.status_code in (403, 404):
                    continue  # not this persona's page
                if response.status_code != 200:
                    raise SystemExit(f"{urls[0]} answered {response.status_code} in-process for {who}")
                count = len(queries)
                inproc = []
                for i in range(args.repeat):
                    started = time.perf_counter()
                    response = client.get(urls[i % len(urls)], HTTP_HOST="localhost", **extra)
                    inproc.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{urls[i % len(urls)]} answered {response.status_code} for {who}")
                remote = web if not is_api else api
                status, _took = remote.get(urls[0])  # warm-up: each worker's caches and connection
                if status != 200:
                    raise SystemExit(f"{urls[0]} answered {status} through gunicorn for {who}")
                served = []
                for i in range(args.repeat):
                    status, took = remote.get(urls[i % len(urls)])
                    if status != 200:
                        raise SystemExit(f"{urls[i % len(urls)]} answered {status} through gunicorn for {who}")
                    served.append(took)
                entry = {
                    "queries": count,
                    "inproc_median_ms": round(statistics.median(inproc), 1),
                    "inproc_p95_ms": round(percentile(inproc, 95), 1),
                    "server_median_ms": round(statistics.median(served), 1),
                    "server_p95_ms": round(percentile(served, 95), 1),
                    "n": args.repeat,
                }
                results.setdefault(who, {})[name] = entry
                print(
                    f"{who:>20} {name:<32} {count:3} q  in-process {entry['inproc_median_ms']:7.1f} / "
                    f"{entry['inproc_p95_ms']:7.1f}  gunicorn {entry['server_median_ms']:7.1f} / "
                    f"{entry['server_p95_ms']:7.1f} ms",
                    flush=True,
                )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    report = {
        "database": connection.vendor,
        "groups": customers,
        "members": Member.objects.count(),
        "period": f"{period:%Y-%m}",
        "load_seconds": load_s,
        "server": f"gunicorn {args.workers} workers × {args.threads} threads (gthread), DEBUG=0, "
        f"CONN_MAX_AGE {connection.settings_dict.get('CONN_MAX_AGE')}",
        "repeat": args.repeat,
        "load_average": os.getloadavg(),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"serve-{connection.vendor}-{customers}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"written to {path}")
    return path


def table(vendor: str) -> str:
    """Markdown: one row per persona and page, each size's in-process and gunicorn figures, the growth of the
    gunicorn p95 from the smallest size to the largest."""
    reports = sorted(
        (json.loads(p.read_text()) for p in RESULTS.glob(f"serve-{vendor}-*.json")), key=lambda r: r["groups"]
    )
    if not reports:
        raise SystemExit(f"no results in {RESULTS} for {vendor}")
    sizes = [f"{r['groups']:,}" for r in reports]
    head = ["persona", "page", "queries"]
    for size in sizes:
        head += [f"{size}: in-process median / p95", f"{size}: gunicorn median / p95"]
    if len(reports) > 1:
        head.append(f"growth p95 {sizes[0]}→{sizes[-1]}")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    rows: dict[tuple[str, str], list] = {}
    for report in reports:
        for who, entries in report["results"].items():
            for name in entries:
                rows.setdefault((who, name), [])
    for who, name in rows:
        found = [r["results"].get(who, {}).get(name) for r in reports]
        counts = sorted({str(f["queries"]) for f in found if f})
        cells = [who, name, " / ".join(counts)]
        for f in found:
            if f:
                cells += [
                    f"{f['inproc_median_ms']:.0f} / {f['inproc_p95_ms']:.0f}",
                    f"{f['server_median_ms']:.0f} / {f['server_p95_ms']:.0f}",
                ]
            else:
                cells += ["—", "—"]
        if len(reports) > 1:
            first, last = found[0], found[-1]
            cells.append(f"×{last['server_p95_ms'] / first['server_p95_ms']:.1f}" if first and last else "—")
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    (RESULTS / f"serve-{vendor}.md").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15, help="requests per page and persona, each way")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--bind", default="127.0.0.1:8101")
    parser.add_argument("--personas", default="", help="comma-separated persona names (substring match)")
    parser.add_argument("--only", default="", help="comma-separated page names (substring match)")
    parser.add_argument("--table", action="store_true", help="only print the table from the results")
    args = parser.parse_args()
    if not args.table:
        measure(args)
    vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    print(table(vendor))


if __name__ == "__main__":
    main()
