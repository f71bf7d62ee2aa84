from __future__ import annotations

import functools
import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from adplatform.models import ApiKey


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    # One pooled client per process: a throttle check must not open a connection.
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


def count_hit(key: str, window_seconds: int) -> int:
    """Count one request in a fixed window and return the window's total so far.

    With Redis it is one round trip (INCR and EXPIRE in a pipeline), atomic across
    every web process; without it, the local cache stands in (the embedded default).
    """
    if settings.REDIS_URL:
        pipe = _redis_client(settings.REDIS_URL).pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)
    if cache.add(key, 1, window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.add(key, 1, window_seconds)
        return 1


class CallerRateThrottle(SimpleRateThrottle):
    """One budget per API key (or per signed-in user, or per address when anonymous).

    DRF's default keeps every request's timestamp in one cache entry and rewrites
    it on each call, which costs a read, a write and a growing pickle per request.
    A fixed-window counter costs one atomic increment; the price is that a caller
    can spend up to twice the rate across a window boundary, which is acceptable
    for abuse protection.
    """

    scope = "caller"
    window_ends: float = 0.0
    # Set by SimpleRateThrottle.__init__ from the rate; the stubs do not declare them.
    num_requests: int | None
    duration: int | None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window_start = int(now // self.duration) * self.duration
        self.window_ends = window_start + self.duration
        count = count_hit(f"{key}:{window_start}", int(self.duration))
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(self.window_ends - time.time(), 0.0)
