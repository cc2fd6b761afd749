"""A province's working day against a real server: customer managers, supervisors, analysts and API clients.

    python benchmarks/load/setup.py                 # once per demo load: logins, samples, API tokens
    locust -f benchmarks/load/locustfile.py --host http://127.0.0.1:8000 --headless -u 120 -r 4 -t 30m
    benchmarks/load/run.sh                          # the whole run: server, worker, locust, RSS samples

The mix (docs/benchmarks.md, "Load: a province's working day") is a peak hour of a province's intranet: people
click through pages with a few seconds between clicks, and an integration (the BOSS/portal side) calls the API at
a steady pace. Users by class (their `weight`): customer managers 62 %, supervisors (county, city, province)
13 %, analysts 5 %, API clients 20 %; think time 2–6 s (analysts 3–8 s, API 0.5–1.5 s); what each does, with the
task weights, is in the classes below and tabulated in docs/benchmarks.md.

Every request must answer what a person would accept (200, or the 302 after a form's POST); anything else —
including a 302 to the login page — is a failure. Request names group URLs by page (`manager: 360`), so the
statistics are per request type. Each simulated person logs in once, with their own session, as a real demo
login (the password is the demo's; benchmarks/load/setup.py picks the logins).
"""

import itertools
import json
import os
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from locust import FastHttpUser, between, events, task

PERSONAS = Path(os.environ.get("LOAD_PERSONAS", Path(__file__).resolve().parents[2] / "var" / "load" / "personas.json"))
SHANGHAI = ZoneInfo("Asia/Shanghai")
_data: dict = {}
_counters: dict[str, itertools.count] = {}


def data() -> dict:
    if not _data:
        _data.update(json.loads(PERSONAS.read_text()))
    return _data


def next_login(kind: str) -> dict:
    """Logins handed out in turn, so simultaneous users are different people where the demo has enough."""
    entries = data()[kind]
    counter = _counters.setdefault(kind, itertools.count())
    return entries[next(counter) % len(entries)]


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--personas", default=str(PERSONAS), help="JSON written by benchmarks/load/setup.py")


@events.test_start.add_listener
def _load(environment, **_kwargs) -> None:
    global PERSONAS
    PERSONAS = Path(environment.parsed_options.personas) if environment.parsed_options else PERSONAS
    _data.clear()
    data()


class Person(FastHttpUser):
    """A user of the web pages: logs in through the login form and keeps the session cookie."""

    abstract = True
    kind = ""
    role = ""
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.login = next_login(self.kind)
        self.customers = self.login.get("customers") or [{"id": 0, "number": "", "term": "集团"}]
        self.client.get("/accounts/login/", name="login form")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.login["username"],
                "password": data()["password"],
                "csrfmiddlewaretoken": self.csrf(),
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login as {self.login['username']} answered {response.status_code}")

    def csrf(self) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    def page(self, url: str, name: str) -> None:
        with self.client.get(url, name=f"{self.role}: {name}", allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{url} answered {r.status_code} {r.headers.get('Location', '')}")

    def form(self, url: str, fields: dict, name: str) -> None:
        """A form's POST: Django answers 302 to the new record on success and 200 with the errors otherwise."""
        with self.client.post(
            url,
            data=fields | {"csrfmiddlewaretoken": self.csrf()},
            headers={"Referer": self.host + url},
            name=f"{self.role}: {name}",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302 or "/accounts/login/" in r.headers.get("Location", ""):
                r.failure(f"POST {url} answered {r.status_code} {r.headers.get('Location', '')}")

    def customer(self) -> dict:
        return random.choice(self.customers)

    def open_360(self) -> None:
        self.page(f"/customers/{self.customer()['id']}/", "360")

    def customer_list(self) -> None:
        self.page("/customers/", "customer list")

    def workbench(self) -> None:
        self.page("/", "workbench")


class CustomerManager(Person):
    kind = "managers"
    role = "manager"
    weight = 62

    @task(14)
    def view_360(self) -> None:
        self.open_360()

    @task(8)
    def search(self) -> None:
        self.page(f"/customers/?search={self.customer()['term']}", "search")

    @task(6)
    def home(self) -> None:
        self.workbench()

    @task(6)
    def agenda(self) -> None:
        self.page("/work/agenda/", "agenda")

    @task(6)
    def customers_page(self) -> None:
        self.customer_list()

    @task(3)
    def task_list(self) -> None:
        self.page("/work/tasks/", "tasks")

    @task(3)
    def activities(self) -> None:
        self.page("/work/activities/", "activities")

    @task(3)
    def pipeline(self) -> None:
        self.page("/sales/mine/", "my pipeline")

    @task(2)
    def notifications(self) -> None:
        self.page("/work/notifications/", "notifications")

    @task(2)
    def warnings(self) -> None:
        self.page("/churn/warnings/", "churn warnings")

    @task(1)
    def dashboard(self) -> None:
        self.page("/analytics/", "dashboard")

    @task(3)
    def record_visit(self) -> None:
        customer = self.customer()
        when = datetime.now(SHANGHAI) - timedelta(minutes=random.randint(10, 240))
        self.form(
            f"/work/customers/{customer['id']}/visit/",
            {
                "kind": "visit",
                "happened_at": when.strftime("%Y-%m-%dT%H:%M"),
                "subject": "上门拜访：集团彩铃续约",
                "notes": "负载测试记录的拜访。",
                "outcome": "客户同意下月续约。",
            },
            "record a visit",
        )

    @task(1)
    def create_task(self) -> None:
        customer = self.customer()
        due = datetime.now(SHANGHAI).date() + timedelta(days=random.randint(1, 14))
        self.form(
            "/work/tasks/new/",
            {
                "title": "回访：V网成员变动",
                "due_on": due.isoformat(),
                "priority": "normal",
                "kind": "follow_up",
                "customer_number": customer["number"],
                "note": "负载测试创建的任务。",
            },
            "create a task",
        )


class Supervisor(Person):
    kind = "supervisors"
    role = "supervisor"
    weight = 13

    @task(4)
    def dashboard(self) -> None:
        self.page("/analytics/", "dashboard")

    @task(3)
    def breaches(self) -> None:
        self.page("/service/breaches/", "breach board")

    @task(3)
    def approvals(self) -> None:
        self.page("/deals/approvals/", "approvals")

    @task(3)
    def coverage(self) -> None:
        self.page("/work/compliance/coverage/", "compliance coverage")

    @task(2)
    def follow_ups(self) -> None:
        self.page("/work/compliance/follow-ups/", "compliance follow-ups")

    @task(3)
    def home(self) -> None:
        self.workbench()

    @task(2)
    def customers_page(self) -> None:
        self.customer_list()

    @task(3)
    def view_360(self) -> None:
        self.open_360()

    @task(2)
    def tickets(self) -> None:
        self.page("/service/tickets/", "tickets")

    @task(1)
    def board(self) -> None:
        self.page("/sales/board/", "opportunity board")


class Analyst(Person):
    kind = "analysts"
    role = "analyst"
    weight = 5
    wait_time = between(3, 8)

    def indicator(self, query: str, name: str) -> None:
        self.page(f"/analytics/indicators/?{query}&period={data()['period']}", name)

    @task(2)
    def development(self) -> None:
        self.indicator("section=development&by=org", "indicators: development by org")

    @task(2)
    def categories(self) -> None:
        self.indicator("section=categories", "indicators: categories")

    @task(2)
    def health(self) -> None:
        self.indicator("section=health", "indicators: health")

    @task(2)
    def penetration(self) -> None:
        self.indicator(f"section=coverage&by=org&product={data()['product']}", "indicators: penetration by org")

    @task(3)
    def segments(self) -> None:
        view = random.choice(["rfm", "value"])
        self.page(f"/analytics/segments/?view={view}&period={data()['period']}", f"segments: {view}")

    @task(2)
    def drill(self) -> None:
        self.page(f"/analytics/drill/?code=integrated&period={data()['period']}", "drill: integrated")

    @task(2)
    def dashboard(self) -> None:
        self.page("/analytics/", "dashboard")

    @task(1)
    def warnings(self) -> None:
        self.page("/churn/warnings/", "churn warnings")


class ApiClient(FastHttpUser):
    """An integration calling the REST API with a bearer token at a steady pace."""

    weight = 20
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.login = next_login("api")
        self.customers = self.login["customers"]
        self.headers = {"Authorization": f"Bearer {self.login['token']}", "Accept": "application/json"}

    def call(self, url: str, name: str, **kwargs):
        with self.client.get(url, name=f"api: {name}", headers=self.headers, catch_response=True, **kwargs) as r:
            if r.status_code != 200:
                r.failure(f"{url} answered {r.status_code}")
            return r

    @task(5)
    def retrieve(self) -> None:
        self.call(f"/api/v1/customers/{random.choice(self.customers)['id']}", "customer retrieve")

    @task(4)
    def list_customers(self) -> None:
        self.call(f"/api/v1/customers?limit=50&offset={random.choice([0, 0, 50, 100])}", "customer list")

    @task(3)
    def search(self) -> None:
        self.call(f"/api/v1/customers?search={random.choice(self.customers)['term']}&limit=20", "customer search")

    @task(1)
    def activities(self) -> None:
        self.call("/api/v1/activities?limit=50", "activity list")

    @task(1)
    def opportunities(self) -> None:
        self.call("/api/v1/opportunities?limit=50", "opportunity list")

    @task(2)
    def patch(self) -> None:
        """Read, then change with If-Match: a 412 means someone changed it in between, so read again once."""
        url = f"/api/v1/customers/{random.choice(self.customers)['id']}"
        for _attempt in range(2):
            etag = self.call(url, "customer retrieve (before PATCH)").headers.get("ETag", "")
            with self.client.patch(
                url,
                json={"note": f"接口同步 {datetime.now(SHANGHAI):%Y-%m-%d %H:%M:%S}"},
                headers=self.headers | {"If-Match": etag},
                name="api: customer PATCH (If-Match)",
                catch_response=True,
            ) as r:
                if r.status_code == 412:
                    r.success()  # the documented answer to a concurrent change; counted apart by its name below
                    events.request.fire(
                        request_type="PATCH",
                        name="api: customer PATCH answered 412 (read again)",
                        response_time=0,
                        response_length=0,
                        exception=None,
                        context={},
                    )
                    continue
                if r.status_code != 200:
                    r.failure(f"PATCH {url} answered {r.status_code}")
                return
