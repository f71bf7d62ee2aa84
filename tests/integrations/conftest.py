"""Fixtures for connector tests: a fake clock, a limiter on it, secret-leak checks."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pytest

from integrations.clients.ratelimit import InProcessRateLimiter


class FakeClock:
    """Monotonic time that only moves when someone sleeps: no test waits for real."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> InProcessRateLimiter:
    return InProcessRateLimiter(clock=clock, sleep=clock.sleep)


def assert_no_secrets(
    caplog: pytest.LogCaptureFixture, secrets: Iterable[str], *texts: str
) -> None:
    """No secret appears in any captured log record (message, args, extra) or given text."""
    # werkzeug's records are the fake server's own access log, not ours.
    records = [
        f"{record.getMessage()} {record.__dict__!r}"
        for record in caplog.records
        if not record.name.startswith("werkzeug")
    ]
    haystack = "\n".join([*records, *texts])
    for secret in secrets:
        assert secret not in haystack, f"a secret leaked: {secret[:4]}..."


@pytest.fixture
def capture_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog
