"""What the shared (Redis) rate limiter costs per platform call, against in-process pacing.

Every connector call takes one limiter check (plus one blocked_for per shared key), so
this is the overhead a worker pays per request when REDIS_URL is set. Prints one figure
per line; the Redis figures appear only when REDIS_URL points at a reachable Redis.

    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/bench_ratelimit.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

CALLS = 2000
ROUNDS = 5


def per_call_us(operation: Callable[[int], object]) -> float:
    """Median over ROUNDS of the mean microseconds per call."""
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for i in range(CALLS):
            operation(i)
        samples.append((time.perf_counter() - started) / CALLS * 1e6)
    return statistics.median(samples)


def main() -> None:
    from integrations.clients.ratelimit import InProcessRateLimiter

    # A huge rate so no call ever waits: we measure the bookkeeping, not the pacing.
    local = InProcessRateLimiter()
    baseline = per_call_us(lambda i: local.try_acquire(f"k{i % 50}", rate=1e9, burst=10**9))
    print(f"inprocess_try_acquire: {baseline:.2f} us/call")

    url = os.environ.get("REDIS_URL")
    if not url:
        print("redis_try_acquire: skipped (REDIS_URL not set)")
        return
    import redis

    from integrations.clients.ratelimit_redis import RedisRateLimiter

    prefix = f"bench:ratelimit:{uuid.uuid4().hex}:"
    shared = RedisRateLimiter(redis.Redis.from_url(url), prefix=prefix)
    try:
        acquire = per_call_us(lambda i: shared.try_acquire(f"k{i % 50}", rate=1e9, burst=10**9))
        blocked = per_call_us(lambda i: shared.blocked_for(f"k{i % 50}"))
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    print(f"redis_try_acquire: {acquire:.2f} us/call")
    print(f"redis_blocked_for: {blocked:.2f} us/call")
    print(f"redis_vs_inprocess_ratio: {acquire / baseline:.1f} x")
    # A Meta call checks its account key, the app key, then takes a token: 3 round trips.
    print(f"redis_overhead_per_meta_call: {(acquire + 2 * blocked) / 1000:.3f} ms")


if __name__ == "__main__":
    main()
