"""Client-side pacing per platform and key (an app, a token, an ad account).

Two ideas: a steady rate (token bucket: at most `rate` calls per second with bursts up to
`burst`), and a hard block until a moment the platform named (a quota block). The
in-process limiter serves the embedded profile; with Redis configured a shared one keeps
several workers together under the platform's limit (see `get_rate_limiter`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

_EPSILON = 1e-9
_MIN_WAIT = 0.001


class RateLimiter(Protocol):
    def acquire(self, key: str, *, rate: float, burst: int) -> float:
        """Wait until a call under `key` is allowed; returns the seconds waited."""
        ...

    def block(self, key: str, *, seconds: float) -> None:
        """Allow no calls under `key` for `seconds` (the platform said so)."""
        ...

    def blocked_for(self, key: str) -> float:
        """Seconds until `key` is unblocked (0 if it is not blocked)."""
        ...


@dataclass
class _Bucket:
    tokens: float
    updated: float
    blocked_until: float = 0.0


class InProcessRateLimiter:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def _bucket(self, key: str, burst: int) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(burst), updated=self._clock())
        return bucket

    def acquire(self, key: str, *, rate: float, burst: int) -> float:
        waited = 0.0
        while True:
            delay = self.try_acquire(key, rate=rate, burst=burst)
            if delay == 0:
                return waited
            self._sleep(delay)
            waited += delay

    def try_acquire(self, key: str, *, rate: float, burst: int) -> float:
        """Take a call if one is free now (returns 0), else the seconds until one may be."""
        with self._lock:
            bucket = self._bucket(key, burst)
            now = self._clock()
            if bucket.blocked_until > now:
                return bucket.blocked_until - now
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            # The epsilon: refills computed in floats land on 0.99999... and the remaining
            # wait would be too small to move a clock at all (a busy loop).
            if bucket.tokens >= 1 - _EPSILON:
                bucket.tokens = max(0.0, bucket.tokens - 1)
                return 0.0
            return max((1 - bucket.tokens) / rate, _MIN_WAIT)

    def block(self, key: str, *, seconds: float) -> None:
        with self._lock:
            bucket = self._bucket(key, 1)
            bucket.blocked_until = max(bucket.blocked_until, self._clock() + seconds)

    def blocked_for(self, key: str) -> float:
        with self._lock:
            bucket = self._buckets.get(key)
            return max(0.0, bucket.blocked_until - self._clock()) if bucket else 0.0


_default_limiter: RateLimiter | None = None


def get_rate_limiter() -> RateLimiter:
    """The process's limiter (shared through Redis when REDIS_URL is set, see ratelimit_redis)."""
    global _default_limiter
    if _default_limiter is None:
        from django.conf import settings

        redis_url = getattr(settings, "REDIS_URL", "")
        if redis_url:
            from integrations.clients.ratelimit_redis import RedisRateLimiter

            _default_limiter = RedisRateLimiter.from_url(redis_url)
        else:
            _default_limiter = InProcessRateLimiter()
    return _default_limiter


def reset_rate_limiter() -> None:
    """Forget the process's limiter (after settings change, e.g. in tests)."""
    global _default_limiter
    _default_limiter = None
