"""A rate limiter shared by every worker through Redis (same Protocol as the in-process one).

Each key is one Redis hash `{tokens, updated, blocked_until}` changed only inside Lua
scripts, so a check-and-take is atomic however many workers on however many machines ask
at once. Time comes from the Redis server (`TIME`) so workers with skewed clocks agree; a
`clock` may be injected instead (tests). Hashes expire once idle, so keys for ad accounts
that are gone do not pile up.

If Redis is unreachable the limiter falls back to pacing in-process (with a warning): a
sync that runs a little too fast is better than a sync that does not run; the platform's
own limits and our retries still protect the account.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import redis

from integrations.clients.ratelimit import InProcessRateLimiter

logger = logging.getLogger("integrations.ratelimit")

# Shared prelude: `now` from ARGV[1] or the server clock; numbers go back as strings
# because Redis truncates Lua numbers to integers in replies.
_NOW = """
local now = tonumber(ARGV[1])
if not now then
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.6f', x) end
"""

# ARGV: now, rate, burst, idle ttl (ms). Returns 0 when a call was taken, else the wait.
_ACQUIRE = (
    _NOW
    + """
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'blocked_until')
local blocked = tonumber(state[3]) or 0
if blocked > now then return fmt(blocked - now) end
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local delay = 0
-- epsilon and minimum wait as in the in-process limiter: float refills stop at 0.99999...
if tokens >= 1 - 1e-9 then tokens = math.max(0, tokens - 1)
else delay = math.max((1 - tokens) / rate, 0.001) end
redis.call('HSET', KEYS[1], 'tokens', fmt(tokens), 'updated', fmt(now))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return fmt(delay)
"""
)

# ARGV: now, seconds. Never shortens an existing block or its key's lifetime.
_BLOCK = (
    _NOW
    + """
local unblock_at = now + tonumber(ARGV[2])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until')) or 0
if unblock_at > blocked then
  redis.call('HSET', KEYS[1], 'blocked_until', fmt(unblock_at))
  blocked = unblock_at
end
local want = math.ceil((blocked - now) * 1000) + 60000
if redis.call('PTTL', KEYS[1]) < want then redis.call('PEXPIRE', KEYS[1], want) end
return fmt(0)
"""
)

# ARGV: now. Seconds until the key is unblocked.
_BLOCKED_FOR = (
    _NOW
    + """
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until')) or 0
return fmt(math.max(0, blocked - now))
"""
)


class RedisRateLimiter:
    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "adplatform:ratelimit:",
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock
        self._sleep = sleep
        self._acquire_script = client.register_script(_ACQUIRE)
        self._block_script = client.register_script(_BLOCK)
        self._blocked_for_script = client.register_script(_BLOCKED_FOR)
        self._fallback = InProcessRateLimiter(clock=clock or time.monotonic, sleep=sleep)
        self._warned = False

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisRateLimiter:
        client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        return cls(client, **kwargs)

    def _key(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def _now_arg(self) -> str:
        return "" if self._clock is None else f"{self._clock():.6f}"

    def _redis_down(self, exc: redis.RedisError) -> None:
        if not self._warned:
            logger.warning("rate limiter: Redis unavailable, pacing in-process: %s", exc)
            self._warned = True

    def try_acquire(self, key: str, *, rate: float, burst: int) -> float:
        """Take a call if one is free now (returns 0), else the seconds until one may be."""
        # Idle long enough to refill completely, plus a margin: then the hash is not needed.
        idle_ms = math.ceil((burst / rate + 60) * 1000)
        try:
            reply = self._acquire_script(
                keys=[self._key(key)], args=[self._now_arg(), rate, burst, idle_ms]
            )
        except redis.RedisError as exc:
            self._redis_down(exc)
            return self._fallback.try_acquire(key, rate=rate, burst=burst)
        return float(reply)

    def acquire(self, key: str, *, rate: float, burst: int) -> float:
        waited = 0.0
        while True:
            delay = self.try_acquire(key, rate=rate, burst=burst)
            if delay == 0:
                return waited
            self._sleep(delay)
            waited += delay

    def block(self, key: str, *, seconds: float) -> None:
        try:
            self._block_script(keys=[self._key(key)], args=[self._now_arg(), seconds])
        except redis.RedisError as exc:
            self._redis_down(exc)
            self._fallback.block(key, seconds=seconds)

    def blocked_for(self, key: str) -> float:
        try:
            return float(self._blocked_for_script(keys=[self._key(key)], args=[self._now_arg()]))
        except redis.RedisError as exc:
            self._redis_down(exc)
            return self._fallback.blocked_for(key)
