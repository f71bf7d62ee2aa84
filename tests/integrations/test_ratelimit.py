"""The in-process limiter, the choice of limiter, and the Redis limiter's fallback."""

from __future__ import annotations

import pytest
from django.test import override_settings

from integrations.clients import ratelimit
from integrations.clients.ratelimit import InProcessRateLimiter, get_rate_limiter
from integrations.clients.ratelimit_redis import RedisRateLimiter
from tests.integrations.conftest import FakeClock


def test_a_burst_passes_at_once_and_the_rest_is_paced(
    clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    waits = [limiter.acquire("k", rate=2.0, burst=3) for _ in range(7)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(wait > 0 for wait in waits[3:])
    # 4 calls beyond the burst at 2 per second take 2 seconds of (fake) time.
    assert clock.now - 1_000_000.0 == pytest.approx(2.0)


def test_keys_are_paced_independently(limiter: InProcessRateLimiter) -> None:
    limiter.acquire("a", rate=1.0, burst=1)

    assert limiter.try_acquire("b", rate=1.0, burst=1) == 0.0
    assert limiter.try_acquire("a", rate=1.0, burst=1) > 0


def test_a_block_holds_every_call_until_it_ends(
    clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    limiter.block("k", seconds=90)
    limiter.block("k", seconds=10)  # a shorter block never shortens a longer one

    assert limiter.blocked_for("k") == 90
    assert limiter.acquire("k", rate=5.0, burst=5) == 90
    assert limiter.blocked_for("k") == 0


def test_float_refills_never_spin_on_a_fake_clock(
    clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    # Rates like 3/s leave 0.99999... tokens; each wait must still move the clock.
    for _ in range(200):
        limiter.acquire("k", rate=3.0, burst=1)

    assert len(clock.slept) < 400
    assert all(seconds >= 0.001 for seconds in clock.slept)


def test_without_redis_the_process_paces_alone() -> None:
    ratelimit.reset_rate_limiter()
    try:
        with override_settings(REDIS_URL=""):
            assert isinstance(get_rate_limiter(), InProcessRateLimiter)
    finally:
        ratelimit.reset_rate_limiter()


def test_with_redis_configured_workers_share_one_limiter() -> None:
    ratelimit.reset_rate_limiter()
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:6379/5"):
            limiter = get_rate_limiter()
            assert isinstance(limiter, RedisRateLimiter)
            assert get_rate_limiter() is limiter
    finally:
        ratelimit.reset_rate_limiter()


def test_an_unreachable_redis_falls_back_to_in_process_pacing(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisRateLimiter.from_url("redis://127.0.0.1:1/0", clock=clock, sleep=clock.sleep)

    assert [limiter.try_acquire("k", rate=1.0, burst=2) for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.try_acquire("k", rate=1.0, burst=2) > 0
    limiter.block("k", seconds=5)
    assert limiter.blocked_for("k") == 5
    assert "Redis unavailable" in caplog.text
