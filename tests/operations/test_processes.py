"""The production process model, for real: web, ws, a Celery worker and beat on
PostgreSQL and Redis.

The processes cannot share pytest-django's test database (it lives inside the test's
transaction), so they run on a database of their own: `<DATABASE_URL's name>_processes`,
created once, migrated and emptied by `process_seed.py` on every run. The test then reads
that database directly. Beat (django-celery-beat's DatabaseScheduler) is what starts the
sync and, once its data is in, the rule evaluation; a WebSocket client connected to the
ws process with an API key must see "metrics.updated" and the rule's notification, and
/metrics on the web process must show the worker's counters (multiprocess mode).

Every wait is bounded, and every process group is killed when the test ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SEED = Path(__file__).with_name("process_seed.py")
# The Procfile splits workers by queue family; one worker on every queue is the same code.
QUEUES = "sync,rules,notifications,default,agents"
# Bounds, not expectations: on a quiet machine the whole test takes about half a minute,
# but a loaded CI box can take many seconds just to import Django in each process.
STARTUP_WAIT = 120.0
WAIT = 60.0


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def process_database_url() -> str:
    """A dedicated PostgreSQL database beside DATABASE_URL's, created if missing."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        require_service("DATABASE_URL is not a PostgreSQL URL; this test needs PostgreSQL")
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_processes"
    maintenance = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        require_service(f"PostgreSQL at DATABASE_URL is unreachable: {exc}")
    return urlunsplit(parts._replace(path=f"/{name}"))


class Processes:
    """Started process groups with their logs; `stop()` kills them all."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: str) -> None:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.started[name] = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so its children die with it
        )
        log.close()

    def check_alive(self) -> None:
        for name, process in self.started.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}\n{self.logs()}")

    def stop(self) -> None:
        for process in self.started.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.started.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group: workers' children too
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def logs(self, tail: int = 40) -> str:
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-tail:]
            out.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(out)


def wait_for(
    what: str, check: Callable[[], Any], processes: Processes, seconds: float = WAIT
) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        processes.check_alive()
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting for {what}\n{processes.logs()}")


def run_seed(env: dict[str, str], action: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(SEED), action],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


class SocketListener:
    """A WebSocket client in a thread, keeping every JSON message it receives."""

    def __init__(self, url: str, api_key: str, origin: str) -> None:
        self.url, self.api_key, self.origin = url, api_key, origin
        self.messages: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        while not self._stop.is_set():
            try:
                with connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self.api_key}"},
                    origin=self.origin,  # type: ignore[arg-type]
                    open_timeout=5,
                ) as socket_:
                    self.connected.set()
                    while not self._stop.is_set():
                        try:
                            raw = socket_.recv(timeout=0.5)
                        except TimeoutError:
                            continue
                        self.messages.append(json.loads(raw))
            except (OSError, ConnectionClosed) as exc:  # not up yet, or restarted
                self.error = exc
                if self.connected.is_set():
                    return  # a drop after connecting would hide messages: let the test fail
                time.sleep(0.3)

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == event_type]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def query(database_url: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql, params or []).fetchall()  # type: ignore[arg-type]


def schedule_now(database_url: str, task_name: str) -> None:
    """What `process_seed.py`'s `_run_now` does through the model, in SQL to spare a Django
    start-up: a one-off task whose start time has come, and the change marker that a
    running DatabaseScheduler polls (django-celery-beat's PeriodicTasks row)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        updated = conn.execute(
            "UPDATE django_celery_beat_periodictask SET enabled = true, one_off = true, "
            "start_time = now() - interval '1 second', last_run_at = NULL, "
            "total_run_count = 0, date_changed = now() WHERE name = %s",
            [task_name],
        ).rowcount
        assert updated == 1, f"no periodic task {task_name!r}"
        conn.execute(
            "INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, now()) "
            "ON CONFLICT (ident) DO UPDATE SET last_update = now()"
        )


def metric_value(text: str, name: str) -> float:
    """Sum of every sample of `name` (all label sets) in a Prometheus exposition."""
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? ([0-9.e+-]+)$", re.MULTILINE)
    return sum(float(value) for value in pattern.findall(text))


@pytest.fixture
def processes(tmp_path: Path, redis_url: str, process_database_url: str) -> Iterator[Processes]:
    env = {
        key: value
        for key, value in os.environ.items()
        # The suite's own switches must not reach the real processes.
        if key not in {"ADPLATFORM_TESTING", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE"}
    }
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env.update(
        DATABASE_URL=process_database_url,
        REDIS_URL=redis_url,
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        LOG_FORMAT="json",
        DEBUG="0",
        WEB_BIND=f"127.0.0.1:{_free_port()}",
        WEB_CONCURRENCY="2",
        WEB_THREADS="2",
        WS_PORT=str(_free_port()),
        WS_WORKERS="1",
        DATABASE_POOL_MAX="4",
    )
    started = Processes(env, tmp_path)
    try:
        yield started
    finally:
        started.stop()


def test_beat_runs_a_sync_and_a_rule_through_the_real_processes(processes: Processes) -> None:
    env = processes.env
    database_url = env["DATABASE_URL"]
    web = f"http://{env['WEB_BIND']}"
    # Given an organization with a sandbox connection and an enabled rule, and the
    # metrics sync scheduled to run as soon as beat starts
    seeded = run_seed(env, "prepare")
    organization_id = seeded["organization_id"]
    procfile = _procfile()
    processes.start("web", procfile["web"])
    processes.start("ws", procfile["ws"])
    processes.start(
        "worker",
        f"celery -A adplatform worker -n ops-test@%h -Q {QUEUES} --concurrency 2 "
        "--purge --without-gossip --without-mingle -l INFO",
    )
    listener = SocketListener(
        f"ws://127.0.0.1:{env['WS_PORT']}/ws/notifications/", seeded["api_key"], web
    )
    listener.start()
    try:
        wait_for("web", lambda: _get(f"{web}/healthz") == 200, processes, STARTUP_WAIT)
        wait_for("the WebSocket", listener.connected.is_set, processes, STARTUP_WAIT)

        # When beat starts
        processes.start("beat", procfile["beat"])

        # Then the worker syncs the connection and stores metrics
        wait_for(
            "a succeeded sync run",
            lambda: query(
                database_url,
                "SELECT 1 FROM campaigns_syncrun WHERE organization_id = %s AND status = 'succeeded'",
                [organization_id],
            ),
            processes,
        )
        [(metric_rows,)] = query(
            database_url,
            "SELECT count(*) FROM campaigns_campaigndailymetric WHERE organization_id = %s",
            [organization_id],
        )
        assert metric_rows > 0
        # and the WebSocket client hears about it from the ws process
        updated = wait_for(
            "metrics.updated", lambda: listener.of_type("metrics.updated"), processes
        )
        assert updated[0]["data"]["rows"] > 0

        # When the rule evaluation is scheduled for now
        schedule_now(database_url, "Evaluate due automation rules")

        # Then it runs, records its execution and notifies the organization live
        wait_for(
            "a finished rule execution",
            lambda: query(
                database_url,
                "SELECT status, targets_matched FROM automation_ruleexecution "
                "WHERE rule_id = %s AND finished_at IS NOT NULL",
                [seeded["rule_id"]],
            ),
            processes,
        )
        [(status, matched)] = query(
            database_url,
            "SELECT status, targets_matched FROM automation_ruleexecution WHERE rule_id = %s",
            [seeded["rule_id"]],
        )
        assert (status, matched > 0) == ("succeeded", True)
        notified = wait_for(
            "the rule's notification",
            lambda: [
                m
                for m in listener.of_type("notification.created")
                if m["data"].get("type") == "rule_alert"
            ],
            processes,
        )
        assert notified[0]["data"]["organization"]["id"] == organization_id

        # And /metrics on the web process shows what the worker counted
        metrics = _read(f"{web}/metrics")
        assert metric_value(metrics, "adplatform_sync_rows_total") >= metric_rows
        assert metric_value(metrics, "adplatform_rule_evaluation_seconds_count") >= 1
        assert 'adplatform_sync_lag_seconds{connection="' in metrics
    finally:
        listener.stop()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return int(response.status)
    except OSError:
        return 0


def _read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())
