"""Test support for the LinkedIn, X, Snapchat and Pinterest fakes.

Each fake is a small stateful imitation of the platform's HTTP API (its real paths, JSON
shapes, pagination, error bodies and rate-limit headers) served on 127.0.0.1 by
pytest-httpserver. Faults are queued per path and served before the normal answer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.clients.ratelimit import InProcessRateLimiter


class FakeClock:
    """Monotonic time that moves only when someone sleeps: pacing without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        # A floor, so float rounding in the limiter's arithmetic cannot stall time.
        self.now += max(1e-9, seconds)

    def limiter(self) -> InProcessRateLimiter:
        return InProcessRateLimiter(clock=self.monotonic, sleep=self.sleep)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )


@dataclass
class Fault:
    pattern: re.Pattern[str]
    method: str | None
    remaining: int
    make: Callable[[Request], Response]
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class FakePlatform:
    """Routes requests to `route`, after any queued fault for that path."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []

    # --- test controls -----------------------------------------------------------------
    def inject(
        self,
        path_regex: str,
        *,
        status: int = 500,
        body: Any = None,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
        delay: float = 0.0,
    ) -> None:
        def make(_request: Request) -> Response:
            if raw is not None:
                return Response(raw, status=status, headers=headers or {}, content_type="text/html")
            return json_response(body if body is not None else {}, status, headers)

        self.faults.append(Fault(re.compile(path_regex), method, times, make, delay))

    def calls(self, path_regex: str, method: str | None = None) -> list[Seen]:
        pattern = re.compile(path_regex)
        return [
            s
            for s in self.seen
            if pattern.search(s.path) and (method is None or s.method == method)
        ]

    # --- serving -----------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        self.seen.append(
            Seen(
                method=request.method,
                path=request.path,
                query=request.query_string.decode(),
                headers=dict(request.headers),
                body=request.get_data(),
                form=dict(request.form),
            )
        )
        for fault in self.faults:
            if fault.remaining <= 0 or not fault.pattern.search(request.path):
                continue
            if fault.method and fault.method != request.method:
                continue
            fault.remaining -= 1
            if fault.delay:
                time.sleep(fault.delay)
            return fault.make(request)
        return self.route(request)

    def route(self, request: Request) -> Response:
        raise NotImplementedError


class Switchboard:
    """One loopback server per test module; each test plugs in its own fresh fake."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.fake: FakePlatform | None = None

    def handle(self, request: Request) -> Response:
        assert self.fake is not None, "no fake plugged in"
        return self.fake.handle(request)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"


def serve() -> Iterator[Switchboard]:
    """Start a threaded loopback server (threaded: a slow fault must not block the retry)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    board = Switchboard(server)
    server.expect_request(re.compile(".*")).respond_with_handler(board.handle)
    server.start()
    try:
        yield board
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def assert_no_secret_in_logs(records: list[Any], secrets: list[str]) -> None:
    for record in records:
        text = record.getMessage() + " " + " ".join(str(v) for v in record.__dict__.values())
        for secret in secrets:
            assert secret not in text, f"secret leaked in log record {record.name}"
