"""API under load: the production web servers against PostgreSQL, driven from another process.

For each server model (gunicorn WSGI threads, configured as the Procfile's web process by
gunicorn.conf.py and WEB_CONCURRENCY / WEB_THREADS; uvicorn ASGI workers) it measures, for a
fixed time with concurrent clients: a bare Django JSON view (the ceiling), the campaign
list, the analytics metrics summary and a campaign PATCH against the sandbox (the last
two when those endpoints exist). Prints requests/s, p50/p99 and errors per line, and the
campaign list's share of the ceiling.

Needs DATABASE_URL pointing at PostgreSQL (a database, BENCH_DATABASE or adp_bench_load,
is created and dropped). Set BENCH_SECONDS / BENCH_CONCURRENCY to change the load, and
BENCH_SERVERS (e.g. "gunicorn-wsgi") to measure only some server models.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
DATABASE = os.environ.get("BENCH_DATABASE", "adp_bench_load")
SERVERS = [name for name in os.environ.get("BENCH_SERVERS", "").split(",") if name]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bench_env() -> dict[str, str] | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    parsed = urlparse(url)
    bench_url = urlunparse(parsed._replace(path=f"/{DATABASE}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DATABASE_URL=bench_url,
        ADPLATFORM_BENCH_VIEWS="1",
        API_THROTTLE_RATE="100000000/min",
        LOG_LEVEL="WARNING",
        DEBUG="0",
        DATABASE_POOL_MAX="8",
    )
    admin = urlunparse(parsed._replace(path="/postgres"))
    subprocess.run([PYTHON, "-c", _RECREATE, admin, DATABASE], check=True, env=env)
    return env


_RECREATE = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as c:
    c.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
    c.execute(f'CREATE DATABASE "{sys.argv[2]}"')
"""


_ANALYZE = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as c:
    c.execute("ANALYZE")
"""


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def _wait(port: int, server: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    # Bounded, but generous: on a loaded machine importing Django takes many seconds.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    log.seek(0)
    tail = log.read().decode(errors="replace")[-2000:]
    raise RuntimeError(f"server on {port} did not start (exit code {server.poll()}):\n{tail}")


def _load(url: str, key: str, method: str = "GET", body: str = "") -> dict[str, float]:
    command = [PYTHON, str(ROOT / "bench" / "loadgen.py"), url, "--seconds", str(SECONDS),
               "--concurrency", str(CONCURRENCY), "--method", method,
               "--header", f"Authorization: Bearer {key}"]  # fmt: skip
    if body:
        command += ["--json", body]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def _warm_up(base: str, key: str) -> None:
    """Until every worker process has loaded the app and answers fast (boot is not measured)."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + 60
    fast = 0
    while time.monotonic() < deadline and fast < 20:
        started = time.monotonic()
        try:
            ok = (
                httpx.get(
                    f"{base}/api/v1/campaigns/?page_size=50", headers=headers, timeout=30
                ).status_code
                == 200
            )
        except httpx.HTTPError:
            ok = False
        fast = fast + 1 if ok and time.monotonic() - started < 1 else 0


def _servers(port: int) -> dict[str, list[str]]:
    return {
        # The Procfile's web process: its settings (processes, threads, keep-alive, access
        # log) come from gunicorn.conf.py and the same environment variables.
        "gunicorn-wsgi": [str(BIN / "gunicorn"), "adplatform.wsgi:application", "--config", "gunicorn.conf.py",
                          "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        "uvicorn-asgi": [str(BIN / "uvicorn"), "adplatform.asgi:application", "--host", "127.0.0.1", "--port",
                         str(port), "--workers", "2", "--no-access-log", "--lifespan", "off", "--log-level", "warning"],
    }  # fmt: skip


def main() -> int:
    env = _bench_env()
    if env is None:
        print("api_load: skipped (set DATABASE_URL to a PostgreSQL server)")
        return 0
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo", "--days", "30")
    key = _manage(
        env, "create_api_key", "--org", "demo", "--name", "bench", "--role", "admin"
    ).strip()
    # A database in service has planner statistics; a freshly loaded one gets them from
    # autovacuum at some moment during the run, and until then a list may take a bad plan.
    subprocess.run([PYTHON, "-c", _ANALYZE, env["DATABASE_URL"]], check=True, env=env)
    today = time.strftime("%Y-%m-%d")
    try:
        for name in _servers(0):
            if SERVERS and name not in SERVERS:
                continue
            # A port of its own per server: the previous one may still hold its port.
            port = _free_port()
            with tempfile.TemporaryFile() as server_log:
                server = subprocess.Popen(
                    _servers(port)[name],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=server_log,
                )
                try:
                    _wait(port, server, server_log)
                    base = f"http://127.0.0.1:{port}"
                    _warm_up(base, key)
                    results = {"bare_json": _load(f"{base}/bench/bare-json/", key),
                               "campaign_list": _load(f"{base}/api/v1/campaigns/?page_size=50", key)}  # fmt: skip
                    probe = subprocess.run(
                        [PYTHON, "-c", _PROBE, base, key, today], capture_output=True, text=True
                    )
                    targets = json.loads(probe.stdout or "{}")
                    if targets.get("metrics"):
                        results["metrics_summary"] = _load(base + targets["metrics"], key)
                    if targets.get("patch"):
                        results["campaign_patch"] = _load(
                            base + targets["patch"], key, "PATCH", targets["body"]
                        )
                    for endpoint, figures in results.items():
                        print(f"api_load.{name}.{endpoint}: {figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                              f"p99 {figures['p99_ms']:.1f} ms, errors {figures['errors']}/{figures['requests']}"
                              + (f" {figures['error_kinds']}" if figures.get("error_kinds") else ""))  # fmt: skip
                    ratio = results["campaign_list"]["rps"] / results["bare_json"]["rps"]
                    print(f"api_load.{name}.campaign_list_vs_ceiling: {ratio:.2f}x (goal >= 0.5)")
                finally:
                    server.terminate()
                    server.wait(timeout=20)
    finally:
        admin = urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path="/postgres"))
        subprocess.run([PYTHON, "-c", _DROP, admin, DATABASE], check=False)
    return 0


_PROBE = """
import json, sys, httpx
base, key, today = sys.argv[1:4]
h = {"Authorization": f"Bearer {key}"}
out = {}
m = f"/api/v1/analytics/metrics/?start={today[:8]}01&end={today}"
if httpx.get(base + m, headers=h).status_code == 200:
    out["metrics"] = m
c = httpx.get(base + "/api/v1/campaigns/?page_size=1&status=active", headers=h).json()["results"]
if c and httpx.options(base + f"/api/v1/campaigns/{c[0]['id']}/", headers=h).headers.get("Allow", "").find("PATCH") >= 0:
    budget = c[0]["daily_budget"] or "50"
    out["patch"] = f"/api/v1/campaigns/{c[0]['id']}/"
    out["body"] = json.dumps({"daily_budget": budget})
print(json.dumps(out))
"""
_DROP = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as c:
    c.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
"""

if __name__ == "__main__":
    sys.exit(main())
