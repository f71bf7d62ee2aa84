"""Live notification fan-out: notify() -> channel layer -> uvicorn (the Procfile's `ws`) -> WebSockets.

Baseline in the same run: the same fan-out over raw Redis pub/sub (one subscriber
connection per client, PUBLISH per message, the same JSON).

Everything runs in separate processes, as in production: the ASGI server is started from
the Procfile's `ws` line (WS_WORKERS uvicorn workers), the clients live in
`--client-procs` processes of their own (so the client side is not the bottleneck), and
the publisher is one more process calling `notify()` (or PUBLISH for the baseline).

Two phases per path, 1,000 notifications each:
- `paced`: `--rate` notifications/s (default 10, i.e. 10,000 deliveries/s with 1,000
  clients): publish->receive latency p50/p99 at a load the path can carry.
- `flat`: published as fast as the publisher can: delivered/s (the path's capacity), lost.

Needs DATABASE_URL (PostgreSQL, migrated here) and REDIS_URL; prints a skip line otherwise.
Bounded: a fixed number of clients and messages and a deadline per phase. Prints one
figure per line: `name: value unit`.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/bench_notifications.py [--clients 1000] [--idle 1000] \\
        [--messages 1000] [--rate 10] [--layers pubsub,core] [--client-procs 2]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")
PHASE_DEADLINE = 240.0
BENCH_PREFIX = "bench-notif"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Any, q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))]) if ordered else float("nan")


# --- fixtures in the database -----------------------------------------------------------


def setup_data(clients: int, idle: int) -> tuple[int, list[str], list[str]]:
    """One organization with `clients` members, `idle` members spread over 10 others.

    Members have no email and no push subscription, so notify() only stores and publishes
    (the planning task finds nobody to email). Returns (organization id, session keys of
    its members, session keys of the idle ones).
    """
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from adplatform.models import Membership, Organization

    teardown_data()
    busy = Organization.objects.create(name="Bench busy", slug=f"{BENCH_PREFIX}-busy")
    Organization.objects.create(name="Bench warm-up", slug=f"{BENCH_PREFIX}-warm-up")
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
    # A session names the backend that logged the user in; it must be one that loads users.
    backend = next(
        path
        for path in settings.AUTHENTICATION_BACKENDS
        if hasattr(import_string(path), "get_user")
    )
    expiry = timezone.now() + timezone.timedelta(hours=2)
    sessions = []
    for user in users:
        key = f"{BENCH_PREFIX}{user.pk:020d}xx"[:40]
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
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


# --- publishers (child processes) -----------------------------------------------------------


def _paced(messages: int, rate: float) -> Any:
    """Yield indexes, sleeping so that index i goes out at start + i / rate (0: flat out)."""
    started = time.perf_counter()
    for index in range(messages):
        if rate > 0:
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        yield index


def publish_notify(organization_id: int, messages: int, rate: float, tag: str) -> None:
    """notify() `messages` times, each in its own transaction, as production callers do."""
    import django

    django.setup()
    from adplatform.models import Organization
    from notifications.services import notify

    organization = Organization.objects.get(pk=organization_id)
    # Production publishers (web and Celery workers) are long-lived: the first call's
    # connections, template loading and imports are paid before the clock starts, on an
    # organization nobody is connected to.
    warm_up = Organization.objects.get(slug=f"{BENCH_PREFIX}-warm-up")
    notify(warm_up, "system_update", {"message": "warm up", "sent_at": time.time()})
    started = time.time()
    for index in _paced(messages, rate):
        notify(
            organization,
            "system_update",
            {"message": f"bench {tag} {index}", "sent_at": time.time()},
            priority="high",
        )
    print(json.dumps({"started": started, "seconds": time.time() - started}), flush=True)


def raw_event(index: int, tag: str) -> str:
    """The same JSON shape and size as a live notification event."""
    now = time.time()
    return json.dumps(
        {
            "type": "notification.created",
            "id": index,
            "data": {
                "id": index,
                "organization": {"id": 1, "slug": f"{BENCH_PREFIX}-busy", "name": "Bench busy"},
                "type": "system_update",
                "priority": "high",
                "title": "System update",
                "body": f"bench {tag} {index}",
                "action_url": "",
                "data": {"message": f"bench {tag} {index}", "sent_at": now},
                "count": 1,
                "created_at": "2026-01-01T00:00:00+00:00",
                "last_occurred_at": "2026-01-01T00:00:00+00:00",
                "expires_at": "2026-04-01T00:00:00+00:00",
            },
            "timestamp": "2026-01-01T00:00:00+00:00",
        },
        separators=(",", ":"),
    )


def publish_raw(redis_url: str, channel: str, messages: int, rate: float, tag: str) -> None:
    import redis

    connection = redis.Redis.from_url(redis_url)
    connection.publish(f"{channel}:warm-up", "warm up")  # as publish_notify: connect first
    started = time.time()
    for index in _paced(messages, rate):
        connection.publish(channel, raw_event(index, tag))
    print(json.dumps({"started": started, "seconds": time.time() - started}), flush=True)


# --- clients (child processes) ----------------------------------------------------------------


async def client_process(spec: dict[str, Any]) -> None:
    """Hold this process's share of connections; count and time what arrives per phase.

    Talks to the parent in lines: out "ready"; in "phase <name> <expected>"; out
    "done <json>" once the phase's messages arrived or on "stop"; in "quit".
    """
    import orjson

    state: dict[str, Any] = {"expected": 0, "received": 0, "stray": 0, "last": 0.0}
    latencies = array.array("d")
    finished = asyncio.Event()
    connected = 0
    loop = asyncio.get_running_loop()

    def on_message(raw: bytes | str, counts: bool) -> None:
        now = time.time()
        message = orjson.loads(raw)
        if message.get("type") != "notification.created":
            return
        if not counts:
            state["stray"] += 1
            return
        latencies.append(now - message["data"]["data"]["sent_at"])
        state["received"] += 1
        state["last"] = now
        if state["received"] >= state["expected"] > 0:
            finished.set()

    async def ws_client(session_key: str, counts: bool) -> None:
        # The websockets library's protocol (handshake, framing, masking, pings) on a bare
        # asyncio transport: no reader task or message queue per socket, so the clients'
        # own overhead stays small next to the server path being measured.
        nonlocal connected
        from websockets.client import ClientProtocol
        from websockets.frames import Frame, Opcode
        from websockets.http11 import Response
        from websockets.typing import Origin
        from websockets.uri import parse_uri

        url = f"ws://127.0.0.1:{spec['port']}/ws/notifications/"
        protocol = ClientProtocol(parse_uri(url), origin=Origin(f"http://127.0.0.1:{spec['port']}"))
        request = protocol.connect()
        request.headers["Cookie"] = f"sessionid={session_key}"
        opened: asyncio.Future[None] = loop.create_future()
        closed: asyncio.Future[None] = loop.create_future()

        class Reader(asyncio.Protocol):
            def connection_made(self, transport: Any) -> None:
                self.transport = transport
                protocol.send_request(request)
                self.flush()

            def flush(self) -> None:
                for chunk in protocol.data_to_send():
                    if chunk:
                        self.transport.write(chunk)

            def data_received(self, data: bytes) -> None:
                protocol.receive_data(data)
                for event in protocol.events_received():
                    if isinstance(event, Response):
                        if protocol.handshake_exc is not None:
                            opened.set_exception(protocol.handshake_exc)
                        else:
                            opened.set_result(None)
                    elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                        on_message(event.data, counts)
                self.flush()  # pongs and the closing handshake

            def connection_lost(self, exc: Exception | None) -> None:
                if not opened.done():
                    opened.set_exception(exc or ConnectionError("closed during handshake"))
                if not closed.done():
                    closed.set_result(None)

        transport, _ = await loop.create_connection(Reader, "127.0.0.1", spec["port"])
        try:
            await asyncio.wait_for(opened, 60)
            connected += 1
            await closed
        finally:
            transport.close()

    async def raw_client(index: int, counts: bool) -> None:
        # Like ws_client: RESP read off a bare transport, with no reader task per connection,
        # so both paths are measured with equally lean clients.
        nonlocal connected
        from urllib.parse import urlsplit

        url = urlsplit(spec["redis_url"])
        channel = spec["channel"] if counts else f"{spec['channel']}:idle:{index % 10}"
        subscribed: asyncio.Future[None] = loop.create_future()
        closed: asyncio.Future[None] = loop.create_future()

        def command(*parts: str) -> bytes:
            encoded = [part.encode() for part in parts]
            return b"*%d\r\n" % len(encoded) + b"".join(
                b"$%d\r\n%s\r\n" % (len(part), part) for part in encoded
            )

        class Reader(asyncio.Protocol):
            buffer = b""

            def connection_made(self, transport: Any) -> None:
                self.transport = transport
                if url.password:
                    auth = (url.username, url.password) if url.username else (url.password,)
                    transport.write(command("AUTH", *auth))
                transport.write(command("SUBSCRIBE", channel))

            def data_received(self, data: bytes) -> None:
                self.buffer += data
                position = 0
                while (parsed := self._reply(position)) is not None:
                    reply, position = parsed
                    if reply[:1] == [b"message"]:
                        on_message(reply[2], counts)
                    elif reply[:1] == [b"subscribe"] and not subscribed.done():
                        subscribed.set_result(None)
                    elif isinstance(reply, bytes) and reply.startswith(b"-"):
                        subscribed.set_exception(RuntimeError(reply.decode()))
                self.buffer = self.buffer[position:]

            def _reply(self, position: int) -> tuple[Any, int] | None:
                """The whole reply at `position` (an array of bulk strings and integers, or a
                status line) and where the next starts, or None until more bytes arrive."""
                buffer = self.buffer
                end = buffer.find(b"\r\n", position)
                if end < 0:
                    return None
                if buffer[position : position + 1] != b"*":
                    return buffer[position:end], end + 2  # +OK (AUTH) or -ERR
                items: list[Any] = []
                count = int(buffer[position + 1 : end])
                position = end + 2
                for _ in range(count):
                    end = buffer.find(b"\r\n", position)
                    if end < 0:
                        return None
                    if buffer[position : position + 1] == b":":
                        items.append(int(buffer[position + 1 : end]))
                        position = end + 2
                        continue
                    size = int(buffer[position + 1 : end])
                    if len(buffer) < end + 2 + size + 2:
                        return None
                    items.append(buffer[end + 2 : end + 2 + size])
                    position = end + 2 + size + 2
                return items, position

            def connection_lost(self, exc: Exception | None) -> None:
                if not subscribed.done():
                    subscribed.set_exception(exc or ConnectionError("closed before SUBSCRIBE"))
                if not closed.done():
                    closed.set_result(None)

        transport, _ = await loop.create_connection(
            Reader, url.hostname or "127.0.0.1", url.port or 6379
        )
        try:
            await asyncio.wait_for(subscribed, 60)
            connected += 1
            await closed
        finally:
            transport.close()

    async def ws_client_library(session_key: str, counts: bool) -> None:
        nonlocal connected
        import websockets

        async with websockets.connect(
            f"ws://127.0.0.1:{spec['port']}/ws/notifications/",
            origin=f"http://127.0.0.1:{spec['port']}",  # type: ignore[arg-type]
            additional_headers={"Cookie": f"sessionid={session_key}"},
            compression=None,
            max_queue=None,
            open_timeout=60,
            ping_interval=None,
        ) as ws:
            connected += 1
            async for raw in ws:
                on_message(raw, counts)

    async def raw_client_library(index: int, counts: bool) -> None:
        nonlocal connected
        import redis.asyncio as aioredis

        connection = aioredis.Redis.from_url(spec["redis_url"])
        pubsub = connection.pubsub()
        channel = spec["channel"] if counts else f"{spec['channel']}:idle:{index % 10}"
        await pubsub.subscribe(channel)
        connected += 1
        async for item in pubsub.listen():
            if item["type"] == "message":
                on_message(item["data"], counts)

    library = spec.get("client_impl") == "library"
    clients: dict[str, Any] = {
        "ws": ws_client_library if library else ws_client,
        "raw": raw_client_library if library else raw_client,
    }
    members = [(key, True) for key in spec["busy"]] + [(key, False) for key in spec["idle"]]
    tasks = []
    for start in range(0, len(members), 50):
        for index, (key, counts) in enumerate(members[start : start + 50], start):
            tasks.append(
                asyncio.create_task(
                    clients[spec["mode"]](key, counts)
                    if spec["mode"] == "ws"
                    else clients[spec["mode"]](index, counts)
                )
            )
        while connected < len(tasks):
            await asyncio.sleep(0.02)
            failed = [t for t in tasks if t.done()]
            if failed:
                raise RuntimeError(f"client failed: {failed[0].exception()!r}")
    print("ready", flush=True)

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().split()
        if not line or line[0] == "quit":
            break
        if line[0] == "phase":
            latencies = array.array("d")
            state.update(expected=int(line[2]), received=0, stray=0, last=0.0)
            finished.clear()
            print("started", flush=True)
            stop = asyncio.create_task(reader.readline())
            done = asyncio.create_task(finished.wait())
            await asyncio.wait([stop, done], return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(0.5)  # anything for the idle clients would be here by now
            done.cancel()
            with tempfile.NamedTemporaryFile(
                prefix="bench-notif-", suffix=".bin", delete=False
            ) as out:
                latencies.tofile(out)
            summary = {k: state[k] for k in ("received", "stray", "last")}
            print("done " + json.dumps({**summary, "file": out.name}), flush=True)
            await stop  # the parent always sends "stop" after the phase
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# --- the parent ---------------------------------------------------------------------------------


class Clients:
    """The client processes of one path."""

    def __init__(self, spec: dict[str, Any], processes: int) -> None:
        self.children: list[subprocess.Popen[str]] = []
        for index in range(processes):
            share = {
                **spec,
                "busy": spec["busy"][index::processes],
                "idle": spec["idle"][index::processes],
            }
            child = subprocess.Popen(
                [sys.executable, __file__, "--client", json.dumps(share)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            self.children.append(child)
            self.expected_share = None
        self.shares = [len(spec["busy"][i::processes]) for i in range(processes)]
        for child in self.children:
            self._expect(child, "ready")

    @staticmethod
    def _expect(child: subprocess.Popen[str], word: str) -> str:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line.startswith(word):
            raise RuntimeError(f"client process said {line!r}, expected {word!r}")
        return line

    def phase(
        self, name: str, messages: int, publisher: list[str], env: dict[str, str]
    ) -> dict[str, Any]:
        for child, share in zip(self.children, self.shares, strict=True):
            assert child.stdin is not None
            child.stdin.write(f"phase {name} {messages * share}\n")
        for child in self.children:
            self._expect(child, "started")
        out = subprocess.run(publisher, env=env, capture_output=True, text=True, check=True)
        published = json.loads(out.stdout.strip().splitlines()[-1])
        # Wait for every client process to have all its messages, or for the deadline.
        deadline = time.time() + PHASE_DEADLINE
        results = []
        for child in self.children:
            assert child.stdin is not None and child.stdout is not None
            remaining = max(0.1, deadline - time.time())
            ready = _readline_with_timeout(child, remaining)
            if ready is None:
                child.stdin.write("stop\n")
                ready = child.stdout.readline()
            else:
                child.stdin.write("stop\n")
            results.append(json.loads(ready.removeprefix("done ")))
        latencies = array.array("d")
        for result in results:
            with open(result["file"], "rb") as handle:
                latencies.frombytes(handle.read())
            os.unlink(result["file"])
        received = sum(r["received"] for r in results)
        last = max((r["last"] for r in results if r["received"]), default=float("nan"))
        return {
            "received": received,
            "expected": messages * sum(self.shares),
            "stray": sum(r["stray"] for r in results),
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "delivered_per_s": received / (last - published["started"]) if received else 0.0,
            "publish_per_s": messages / published["seconds"],
        }

    def close(self) -> None:
        for child in self.children:
            with contextlib.suppress(Exception):
                assert child.stdin is not None
                child.stdin.write("quit\n")
                child.stdin.close()
        for child in self.children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _readline_with_timeout(child: subprocess.Popen[str], timeout: float) -> str | None:
    import selectors

    assert child.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return None
    return child.stdout.readline()


def procfile_command(name: str, env: dict[str, str]) -> list[str]:
    """The Procfile's command for `name`, with ${VAR:-default} expanded from `env`."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            command = line.split(":", 1)[1].strip()
            expanded = re.sub(
                r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), command
            )
            return shlex.split(expanded)
    raise RuntimeError(f"no {name!r} process in the Procfile")


def start_process(
    name: str, env: dict[str, str], port: int | None = None
) -> subprocess.Popen[bytes]:
    # Their logs go to a file (printed on failure) so they do not mix with the figures.
    log = tempfile.NamedTemporaryFile(prefix=f"bench-notif-{name}-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(
        procfile_command(name, env),
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server.log_path = log.name  # type: ignore[attr-defined]
    if port is None:
        return server
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    stop_process(server)
    raise RuntimeError(f"{name} did not start; see {log.name}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    # The Procfile's process may have children (uvicorn workers): stop its whole group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log_path = Path(process.log_path)  # type: ignore[attr-defined]
    if "Traceback" in log_path.read_text(errors="replace"):
        print(f"# errors were logged by {process.args[0]}: {log_path}", file=sys.stderr)
    else:
        log_path.unlink()


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


def report(name: str, phase: str, result: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    prefix = f"{name}_{phase}"
    print(f"{prefix}_p50: {result['p50_ms']:.1f} ms")
    print(f"{prefix}_p99: {result['p99_ms']:.1f} ms")
    print(f"{prefix}_delivered: {result['delivered_per_s']:.0f} msg/s")
    print(f"{prefix}_lost: {result['expected'] - result['received']:.0f} messages")
    print(f"{prefix}_publish_rate: {result['publish_per_s']:.0f} msg/s")
    if "stray" in result and name != "raw_redis_pubsub":
        print(f"{prefix}_leaked_to_other_orgs: {result['stray']:.0f} messages")
    if baseline is not None and baseline["delivered_per_s"]:
        ratio = result["delivered_per_s"] / baseline["delivered_per_s"]
        print(f"{prefix}_vs_raw_redis_throughput: {ratio:.2f} ratio")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="notifications/s when paced")
    parser.add_argument("--phases", default="paced,flat")
    parser.add_argument("--layers", default="pubsub,core")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument(
        "--client-impl",
        choices=["library", "lean"],
        default="library",
        help="library (default): each path's standard asyncio client, websockets and "
        "redis-py, a task per connection; lean: both protocols read off bare transports, "
        "which shows the servers' ceiling (Redis's C fan-out then far outruns Python's)",
    )
    parser.add_argument("--ws-workers", default=os.environ.get("WS_WORKERS", ""))
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--publish-notify", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--publish-raw", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_process(json.loads(args.client)))
        return 0
    if args.publish_notify:
        org, messages, rate, tag = args.publish_notify
        publish_notify(int(org), int(messages), float(rate), tag)
        return 0
    if args.publish_raw:
        url, channel, messages, rate, tag = args.publish_raw
        publish_raw(url, channel, int(messages), float(rate), tag)
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
    run_id = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # Pub/sub channels are not per Redis database: keep this run's groups to itself.
        "CHANNEL_LAYER_PREFIX": f"{BENCH_PREFIX}-{run_id}",
        "PYTHONPATH": str(ROOT),
    }
    if args.ws_workers:
        env["WS_WORKERS"] = args.ws_workers
    phases = {"paced": args.rate, "flat": 0.0}
    selected = [p for p in args.phases.split(",") if p]
    baseline: dict[str, dict[str, Any]] = {}
    try:
        channel = f"{BENCH_PREFIX}:{run_id}:busy"
        clients = Clients(
            {
                "mode": "raw",
                "client_impl": args.client_impl,
                "redis_url": redis_url,
                "channel": channel,
                "busy": busy_keys,
                "idle": idle_keys,
            },
            args.client_procs,
        )
        try:
            for phase in selected:
                command = [sys.executable, __file__, "--publish-raw", redis_url, channel]
                command += [str(args.messages), str(phases[phase]), phase]
                baseline[phase] = clients.phase(phase, args.messages, command, env)
                report("raw_redis_pubsub", phase, baseline[phase], None)
        finally:
            clients.close()
        for layer in args.layers.split(","):
            port = free_port()
            layer_env = {**env, "CHANNEL_LAYER": layer, "WS_PORT": str(port)}
            # Outbound planning runs in the notifications worker, as in production.
            worker = start_process("worker_rules", {**layer_env, "RULES_CONCURRENCY": "1"})
            server = start_process("ws", layer_env, port)
            try:
                clients = Clients(
                    {
                        "mode": "ws",
                        "client_impl": args.client_impl,
                        "port": port,
                        "busy": busy_keys,
                        "idle": idle_keys,
                    },
                    args.client_procs,
                )
                try:
                    for phase in selected:
                        command = [
                            sys.executable,
                            __file__,
                            "--publish-notify",
                            str(organization_id),
                        ]
                        command += [str(args.messages), str(phases[phase]), f"{layer}-{phase}"]
                        result = clients.phase(phase, args.messages, command, layer_env)
                        report(f"notify_ws_{layer}", phase, result, baseline.get(phase))
                finally:
                    clients.close()
            finally:
                stop_process(server)
                stop_process(worker)
    finally:
        teardown_data()
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    raise SystemExit(main())
