"""Live notification fan-out: notify() -> channels-redis -> uvicorn -> WebSocket clients.

Baseline in the same run: the same fan-out over raw Redis pub/sub (one subscriber
connection per client, PUBLISH per message).

Needs DATABASE_URL (PostgreSQL, migrated here) and REDIS_URL; prints a skip line otherwise.
Everything is on loopback and bounded: a fixed number of clients and messages, and a
deadline per phase. Prints one figure per line: `name: value unit`.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/bench_notifications.py [--clients 1000] [--idle 1000] \
        [--messages 1000] [--layers core,pubsub]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
PHASE_DEADLINE = 240.0
BENCH_PREFIX = "bench-notif"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- fixtures in the database -----------------------------------------------------------


def setup_data(clients: int, idle: int) -> tuple[int, list[str], list[str]]:
    """One organization with `clients` members, `idle` members spread over 10 others.

    Members have no email and no push subscription, so notify() only stores and publishes.
    Returns (organization id, session keys of its members, session keys of the idle ones).
    """
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from adplatform.models import Membership, Organization

    teardown_data()
    busy = Organization.objects.create(name="Bench busy", slug=f"{BENCH_PREFIX}-busy")
    others = [
        Organization.objects.create(name=f"Bench idle {i}", slug=f"{BENCH_PREFIX}-idle-{i}")
        for i in range(10)
    ]
    users = User.objects.bulk_create(
        [
            User(username=f"{BENCH_PREFIX}-{i}", email="", password="!")
            for i in range(clients + idle)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(user=u, organization=busy if i < clients else others[i % 10])
            for i, u in enumerate(users)
        ]
    )
    store = SessionStore()
    expiry = timezone.now() + timezone.timedelta(hours=2)
    sessions = []
    for user in users:
        key = f"{BENCH_PREFIX}{user.pk:020d}xx"[:40]
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expiry)
        )
    Session.objects.bulk_create(sessions)
    keys = [s.session_key for s in sessions]
    return busy.pk, keys[:clients], keys[clients:]


def teardown_data() -> None:
    from django.contrib.auth.models import User
    from django.contrib.sessions.models import Session

    from adplatform.models import Organization

    Organization.objects.filter(slug__startswith=BENCH_PREFIX).delete()
    User.objects.filter(username__startswith=BENCH_PREFIX).delete()
    Session.objects.filter(session_key__startswith=BENCH_PREFIX).delete()


def publish(organization_id: int, messages: int) -> None:
    """Run in a child process: notify() `messages` times, as fast as it can."""
    import django

    django.setup()
    from adplatform.models import Organization
    from notifications.services import notify

    organization = Organization.objects.get(pk=organization_id)
    started = time.perf_counter()
    for index in range(messages):
        notify(
            organization,
            "system_update",
            {"message": f"bench {index}", "sent_at": time.time()},
            priority="high",
        )
    print(json.dumps({"publish_seconds": time.perf_counter() - started}))


# --- the WebSocket run ----------------------------------------------------------------------


async def websocket_run(
    port: int,
    busy_keys: list[str],
    idle_keys: list[str],
    organization_id: int,
    messages: int,
    layer: str,
) -> dict[str, float]:
    import websockets

    latencies: list[float] = []
    received = 0
    stray = 0
    done = asyncio.Event()
    expected = messages * len(busy_keys)
    first_receive = last_receive = 0.0

    async def client(session_key: str, counts: bool) -> None:
        nonlocal received, stray, first_receive, last_receive
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/notifications/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"sessionid={session_key}"},
            compression=None,
            max_queue=None,
            open_timeout=60,
        ) as ws:
            connected.append(1)
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                if message["type"] != "notification.created":
                    continue
                if not counts:
                    stray += 1
                    continue
                latencies.append(now - message["data"]["data"]["sent_at"])
                received += 1
                if received == 1:
                    first_receive = time.perf_counter()
                last_receive = time.perf_counter()
                if received >= expected:
                    done.set()

    connected: list[int] = []
    tasks = []
    connect_deadline = time.monotonic() + PHASE_DEADLINE
    # Connect in batches so the handshakes do not time out on a small machine.
    for batch_start in range(0, len(busy_keys) + len(idle_keys), 100):
        batch = [(k, True) for k in busy_keys] + [(k, False) for k in idle_keys]
        for key, counts in batch[batch_start : batch_start + 100]:
            tasks.append(asyncio.create_task(client(key, counts)))
        while len(connected) < min(len(tasks), len(busy_keys) + len(idle_keys)):
            await asyncio.sleep(0.05)
            if time.monotonic() > connect_deadline:
                raise RuntimeError(f"only {len(connected)} of {len(tasks)} connected in time")
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                raise RuntimeError(f"connection failed: {failed[0].exception()!r}")
    connect_done = time.perf_counter()

    env = {**os.environ, "CHANNEL_LAYER": layer}
    publisher = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--publish",
        str(organization_id),
        str(messages),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    publish_started = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=PHASE_DEADLINE)
    out, _ = await publisher.communicate()
    await asyncio.sleep(0.5)  # anything for the idle clients would have arrived by now
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    publish_seconds = json.loads(out.decode().strip().splitlines()[-1])["publish_seconds"]
    span = (last_receive - publish_started) if received else float("nan")
    del connect_done, first_receive
    return {
        "received": received,
        "expected": expected,
        "stray": stray,
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "delivered_per_s": received / span if received else 0.0,
        "publish_per_s": messages / publish_seconds,
    }


# --- the raw Redis pub/sub baseline --------------------------------------------------------------


async def redis_run(redis_url: str, clients: int, idle: int, messages: int) -> dict[str, float]:
    import redis.asyncio as aioredis

    channel = f"{BENCH_PREFIX}:busy:{os.getpid()}"
    latencies: list[float] = []
    received = 0
    done = asyncio.Event()
    expected = messages * clients
    last_receive = 0.0
    subscribed: list[int] = []

    async def subscriber(index: int, counts: bool) -> None:
        nonlocal received, last_receive
        connection = aioredis.Redis.from_url(redis_url)
        pubsub = connection.pubsub()
        await pubsub.subscribe(channel if counts else f"{channel}:idle:{index % 10}")
        subscribed.append(1)
        try:
            async for item in pubsub.listen():
                if item["type"] != "message":
                    continue
                now = time.time()
                message = json.loads(item["data"])
                latencies.append(now - message["data"]["data"]["sent_at"])
                received += 1
                last_receive = time.perf_counter()
                if received >= expected:
                    done.set()
        finally:
            await pubsub.aclose()
            await connection.aclose()

    tasks: list[asyncio.Task[None]] = []
    deadline = time.monotonic() + PHASE_DEADLINE
    # Subscribe in batches, like the WebSocket clients connect, and stop on the first error.
    for batch_start in range(0, clients + idle, 100):
        for index in range(batch_start, min(batch_start + 100, clients + idle)):
            tasks.append(asyncio.create_task(subscriber(index, index < clients)))
        while len(subscribed) < len(tasks):
            await asyncio.sleep(0.05)
            failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception()]
            if failed:
                raise RuntimeError(f"subscribe failed: {failed[0].exception()!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(subscribed)} of {len(tasks)} subscribed in time")
    publisher = aioredis.Redis.from_url(redis_url)
    started = time.perf_counter()
    for index in range(messages):
        # The same JSON shape and size as a live notification event.
        body = json.dumps(
            {
                "type": "notification.created",
                "id": index,
                "data": {
                    "id": index,
                    "title": "Bench",
                    "body": f"bench {index}",
                    "priority": "high",
                    "data": {"message": f"bench {index}", "sent_at": time.time()},
                },
                "timestamp": "",
            }
        )
        await publisher.publish(channel, body)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=PHASE_DEADLINE)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await publisher.aclose()
    span = last_receive - started if received else float("nan")
    return {
        "received": received,
        "expected": expected,
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "delivered_per_s": received / span if received else 0.0,
    }


def ensure_database(database_url: str) -> None:
    """Create the benchmark's database if it is missing (the pool would only time out)."""
    from urllib.parse import urlsplit

    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def start_server(port: int, layer: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CHANNEL_LAYER": layer}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "adplatform.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("uvicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--layers", default="core,pubsub")
    parser.add_argument("--publish", nargs=2, type=int, metavar=("ORG_ID", "MESSAGES"))
    args = parser.parse_args()
    if args.publish:
        publish(*args.publish)
        return 0

    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        print("bench_notifications: skipped (needs DATABASE_URL for PostgreSQL and REDIS_URL)")
        return 0
    ensure_database(database_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True
    )
    organization_id, busy_keys, idle_keys = setup_data(args.clients, args.idle)
    try:
        baseline = asyncio.run(redis_run(redis_url, args.clients, args.idle, args.messages))
        print(f"raw_redis_pubsub_p50: {baseline['p50_ms']:.1f} ms")
        print(f"raw_redis_pubsub_p99: {baseline['p99_ms']:.1f} ms")
        print(f"raw_redis_pubsub_delivered: {baseline['delivered_per_s']:.0f} msg/s")
        print(f"raw_redis_pubsub_lost: {baseline['expected'] - baseline['received']:.0f} messages")
        for layer in args.layers.split(","):
            port = free_port()
            server = start_server(port, layer)
            try:
                result = asyncio.run(
                    websocket_run(port, busy_keys, idle_keys, organization_id, args.messages, layer)
                )
            finally:
                server.terminate()
                server.wait(timeout=20)
            name = f"notify_ws_{layer}"
            print(f"{name}_p50: {result['p50_ms']:.1f} ms")
            print(f"{name}_p99: {result['p99_ms']:.1f} ms")
            print(f"{name}_delivered: {result['delivered_per_s']:.0f} msg/s")
            print(f"{name}_lost: {result['expected'] - result['received']:.0f} messages")
            print(f"{name}_leaked_to_other_orgs: {result['stray']:.0f} messages")
            print(f"{name}_publish_rate: {result['publish_per_s']:.0f} notify/s")
            print(
                f"{name}_vs_raw_redis_throughput: {result['delivered_per_s'] / baseline['delivered_per_s']:.2f} ratio"
            )
    finally:
        teardown_data()
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    raise SystemExit(main())
