"""Webhook fixtures: a real HTTP receiver on 127.0.0.1, an endpoint pointing at it, tasks run inline."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from jiketong.core import events
from jiketong.webhooks import services


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of `script` (then 200), after `delay` seconds."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    @property
    def successes(self) -> int:
        return sum(1 for status in self.answers if 200 <= status < 300)


@pytest.fixture
def receiver():
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = state.script.pop(0) if state.script else 200
            if state.delay:
                time.sleep(state.delay)
            text = b"ok" if status < 300 else b"receiver says no"
            with lock:  # before answering: the sender may look at `answers` as soon as it has the response
                state.answers.append(status)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/jiketong"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """The task that sends right after commit runs inline, as the worker would run it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def endpoint(cast, receiver):
    return services.endpoint_create(actor=cast.frank.user, name="数据仓库", url=receiver.url, events=["*"])


@pytest.fixture
def emit(cast, django_capture_on_commit_callbacks):
    """emit(name, **payload) → the event, committed and handled (fan-out and first send included)."""

    def run(name: str = "order.completed", customer=None, **payload):
        customer = customer or cast.alice_customer
        payload = payload or {"order": 1}
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            event = events.emit(name, customer_id=customer.pk, actor=cast.alice.user, **payload)
        return event

    return run
