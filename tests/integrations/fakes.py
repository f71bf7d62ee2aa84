"""A small router for fake ad-platform servers on pytest-httpserver.

Each platform's fake (tests/integrations/<platform>/fake.py) keeps its objects in memory
and answers in the platform's wire format; tests inject faults (a 429, a 5xx, a timeout,
a broken body) in front of the normal routes, one answer per injection.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Handler = Callable[..., Response]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def slow_response(seconds: float, then: Response) -> Callable[[Request], Response]:
    """A fault that answers only after `seconds` (longer than the client's timeout)."""

    def answer(request: Request) -> Response:
        time.sleep(seconds)
        return then

    return answer


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    answer: Response | Callable[[Request], Response]
    times: int = 1


@dataclass
class FakeServer:
    server: HTTPServer
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"/.*")).respond_with_handler(self._dispatch)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def inject(
        self,
        method: str,
        pattern: str,
        answer: Response | Callable[[Request], Response],
        *,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `answer` instead of the route."""
        self.faults.append(Fault(method, re.compile(f"^{pattern}$"), answer, times))

    def calls(self, method: str, pattern: str) -> list[Request]:
        regex = re.compile(f"^{pattern}$")
        return [r for r in self.log if r.method == method and regex.match(r.path)]

    def _dispatch(self, request: Request) -> Response:
        self.log.append(request)
        for fault in self.faults:
            if (
                fault.times > 0
                and fault.method == request.method
                and fault.pattern.match(request.path)
            ):
                fault.times -= 1
                return fault.answer if isinstance(fault.answer, Response) else fault.answer(request)
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                return handler(request, **match.groupdict())
        return json_response({"error": f"no fake route for {request.method} {request.path}"}, 404)
