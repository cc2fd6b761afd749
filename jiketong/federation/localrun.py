"""Running HQ and provinces side by side on one machine, each its own process with its own SQLite database
(JIKETONG_VAR_DIR per instance): what `federation demo` and the integration test use."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Instance:
    name: str
    role: str
    port: int
    var: Path
    province: str = ""
    hq_url: str = ""
    token: str = ""
    database_url: str = ""  # empty: SQLite under `var`
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))}
        env.pop("DATABASE_URL", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(
            JIKETONG_VAR_DIR=str(self.var),
            JIKETONG_INSTANCE=self.role,
            JIKETONG_PROVINCE=self.province,
            FEDERATION_HQ_URL=self.hq_url,
            FEDERATION_HQ_TOKEN=self.token,
            FEDERATION_RETRY_SECONDS="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def run(self, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
        """`python -m jiketong ARGS` in this instance."""
        done = subprocess.run(
            [sys.executable, "-m", "jiketong", *args],
            env=self.env(),
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=timeout,
        )
        if check and done.returncode:
            raise RuntimeError(f"{self.name}: {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def shell(self, code: str, **options) -> str:
        return self.run("shell", "-c", code, **options).stdout

    def start(self) -> None:
        log = open(self.var / "server.log", "a")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jiketong", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{self.port}"],
            env=self.env(),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.url}/healthz", self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def free_port(preferred: int = 0) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def prepare(root: Path, instances: list[Instance]) -> None:
    """One migrated database copied to each instance (migrating once is most of the start-up time)."""
    template = root / "template"
    template.mkdir(parents=True, exist_ok=True)
    if not all(item.database_url for item in instances) and not (template / "jiketong.sqlite3").exists():
        Instance("template", "single", 0, template).run("migrate", "--noinput")
    for item in instances:
        item.var.mkdir(parents=True, exist_ok=True)
        if item.database_url:
            item.run("migrate", "--noinput")
            continue
        if not (item.var / "jiketong.sqlite3").exists():
            shutil.copy(template / "jiketong.sqlite3", item.var / "jiketong.sqlite3")
            shutil.copy(template / "secret_key", item.var / "secret_key")


def query(item: Instance, sql: str) -> list[tuple]:
    """Read an instance's database directly (the tests' view of what it holds)."""
    if item.database_url:
        import psycopg

        with psycopg.connect(item.database_url) as db:
            return [tuple(row) for row in db.execute(sql).fetchall()]
    import sqlite3

    with sqlite3.connect(item.var / "jiketong.sqlite3") as db:
        return db.execute(sql).fetchall()


def register(hq: Instance, province: Instance, name: str) -> None:
    """HQ registers the province; the province keeps its token."""
    output = hq.run("federation", "province-add", province.province, name).stdout.strip().splitlines()
    province.token = output[-1].strip()
    province.hq_url = hq.url
