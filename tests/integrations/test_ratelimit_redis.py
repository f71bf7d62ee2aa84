"""The Redis limiter as several workers see it: two instances, one budget.

Time comes from a shared fake clock (the limiter takes `clock`), so the tests check counts
of granted calls against the token-bucket bound, never wall-clock durations.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from integrations.clients.ratelimit_redis import RedisRateLimiter
from tests.integrations.conftest import FakeClock

RATE = 5.0
BURST = 4


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    value = f"test:ratelimit:{uuid.uuid4().hex}:"
    yield value
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{value}*"):
        client.delete(key)


def worker(redis_url: str, prefix: str, clock: FakeClock) -> RedisRateLimiter:
    """A limiter as one worker process would build it (its own connection)."""
    return RedisRateLimiter(
        redis.Redis.from_url(redis_url), prefix=prefix, clock=clock, sleep=clock.sleep
    )


def test_two_workers_together_get_only_one_burst(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    first, second = worker(redis_url, prefix, clock), worker(redis_url, prefix, clock)

    granted = [
        limiter.try_acquire("meta:act_1", rate=RATE, burst=BURST) == 0
        for _ in range(5)
        for limiter in (first, second)
    ]

    assert granted.count(True) == BURST
    assert first.try_acquire("meta:act_1", rate=RATE, burst=BURST) > 0


def test_two_workers_never_exceed_the_rate_over_time(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    first, second = worker(redis_url, prefix, clock), worker(redis_url, prefix, clock)
    grants: list[float] = []

    for turn in range(40):
        limiter = first if turn % 2 == 0 else second
        limiter.acquire("google", rate=RATE, burst=BURST)
        grants.append(clock.now)

    # Token bucket bound: within any window of length w, at most BURST + RATE * w calls.
    for i, start in enumerate(grants):
        for j in range(i, len(grants)):
            window = grants[j] - start
            assert j - i + 1 <= BURST + RATE * window + 1e-6
    # 36 calls past the burst at 5 per second needed at least 7.2 s of (fake) time.
    assert grants[-1] - grants[0] >= (40 - BURST) / RATE - 1e-6


def test_concurrent_workers_cannot_both_take_the_last_call(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    granted: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        limiter = worker(redis_url, prefix, clock)  # the clock stays frozen: no refill
        for _ in range(25):
            ok = limiter.try_acquire("tiktok", rate=RATE, burst=BURST) == 0
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert granted.count(True) == BURST
    assert len(granted) == 100


def test_a_block_set_by_one_worker_holds_the_other(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    first, second = worker(redis_url, prefix, clock), worker(redis_url, prefix, clock)

    first.block("meta:act_9", seconds=300)
    first.block("meta:act_9", seconds=30)  # never shortens the longer block

    assert second.blocked_for("meta:act_9") == pytest.approx(300)
    assert second.try_acquire("meta:act_9", rate=RATE, burst=BURST) == pytest.approx(300)
    waited = second.acquire("meta:act_9", rate=RATE, burst=BURST)
    assert waited == pytest.approx(300)
    assert first.blocked_for("meta:act_9") == 0


def test_limiter_keys_expire_when_idle(redis_url: str, prefix: str, clock: FakeClock) -> None:
    limiter = worker(redis_url, prefix, clock)
    client = redis.Redis.from_url(redis_url)

    limiter.acquire("pace", rate=RATE, burst=BURST)
    limiter.block("blocked", seconds=600)

    pace_ttl = client.pttl(f"{prefix}pace")
    block_ttl = client.pttl(f"{prefix}blocked")
    assert 0 < pace_ttl <= (BURST / RATE + 60) * 1000 + 1000
    assert 600_000 < block_ttl <= 661_000


def test_the_server_clock_is_used_when_none_is_given(redis_url: str, prefix: str) -> None:
    limiter = RedisRateLimiter(redis.Redis.from_url(redis_url), prefix=prefix)

    assert limiter.try_acquire("k", rate=RATE, burst=1) == 0
    assert limiter.try_acquire("k", rate=RATE, burst=1) > 0
    limiter.block("k", seconds=120)
    assert 0 < limiter.blocked_for("k") <= 120
