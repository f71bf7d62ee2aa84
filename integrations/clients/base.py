"""One HTTP request path for every platform client.

It sets the timeout, attaches a fresh token, paces calls through the rate limiter, turns
transport failures and the platform's error bodies into typed errors, retries what is
retryable (with backoff, jitter and the platform's own `retry_after`) but never a
non-idempotent call, refreshes an expired token once, and logs without secrets.
Providers subclass it and override the hooks at the bottom.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import requests
from requests.adapters import HTTPAdapter

from adplatform.metrics import PLATFORM_API_ERRORS, PLATFORM_RATE_LIMIT_WAIT
from integrations.clients.errors import (
    AuthExpired,
    InvalidRequest,
    MalformedResponse,
    PaginationTruncated,
    PermanentPlatformError,
    PermissionDenied,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    RetryablePlatformError,
)
from integrations.clients.ratelimit import RateLimiter, get_rate_limiter

logger = logging.getLogger("integrations.http")


class _RedactQueryStrings(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string included; some platforms
    take secrets there (Meta's and TikTok's OAuth calls), so cut query strings out."""

    _query = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = self._query.sub("?[redacted]", message)
            record.args = ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactQueryStrings())

Json = Any


class HttpApiClient:
    platform: ClassVar[str] = ""
    timeout: ClassVar[float] = 30.0
    max_attempts: ClassVar[int] = 5
    max_pages: ClassVar[int] = 500
    backoff_base: ClassVar[float] = 1.0
    backoff_cap: ClassVar[float] = 60.0
    # Steady pace per rate-limit key; providers set their platform's documented limits.
    rate_per_second: ClassVar[float] = 10.0
    burst: ClassVar[int] = 10
    # A worker waits inline for a rate-limit block up to this long; a longer block (a
    # platform quota, e.g. Meta's estimated_time_to_regain_access) is raised as
    # QuotaExhausted so the task layer reschedules instead of holding a worker.
    max_inline_wait: ClassVar[float] = 120.0

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float | None = None,
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_timeout = timeout if timeout is not None else self.timeout
        self.session = session or self._new_session()
        self.rate_limiter = rate_limiter or get_rate_limiter()
        self._sleep = sleep or time.sleep
        # The limiter key of the call in flight, for observe_rate_limits/raise_for_error.
        self.current_rate_limit_key = ""

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    # --- The request path ------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Json = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        authenticated: bool = True,
        rate_limit_key: str | None = None,
    ) -> Json:
        """Send one API call and return its decoded JSON (None for an empty body).

        `idempotent` defaults to True for GET/DELETE/PUT; a create (POST) is retried only
        when the caller says it is safe (e.g. it carries an idempotency key).
        `rate_limit_key` paces this call under a narrower key than `rate_limit_key()`
        (e.g. one ad account); keys from `shared_rate_limit_keys()` are honoured as well.
        """
        if idempotent is None:
            idempotent = method.upper() in {"GET", "HEAD", "DELETE", "PUT"}
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        key = rate_limit_key or self.rate_limit_key()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            self.current_rate_limit_key = key
            waited = self._wait_for_blocks(key)
            waited += self.rate_limiter.acquire(key, rate=self.rate_per_second, burst=self.burst)
            all_headers = dict(self.default_headers())
            if authenticated:
                all_headers.update(self.auth_headers(method, url, params))
            all_headers.update(headers or {})
            started = time.monotonic()
            try:
                try:
                    response = self.session.request(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        data=data,
                        headers=all_headers,
                        timeout=self.request_timeout,
                        auth=self.request_auth() if authenticated else None,
                    )
                # `from None`: the requests exception's text holds the full URL, and query
                # strings may carry tokens or client secrets (Meta's OAuth calls).
                except requests.Timeout:
                    raise PlatformUnavailable("timed out", platform=self.platform) from None
                except requests.ConnectionError:
                    raise PlatformUnavailable("connection failed", platform=self.platform) from None
                except requests.RequestException as exc:  # e.g. a body cut off mid-transfer
                    raise PlatformUnavailable(
                        f"transport error ({type(exc).__name__})", platform=self.platform
                    ) from None
                self.observe_rate_limits(response)
                payload = self._decode(response)
                self.raise_for_error(response, payload)
            except AuthExpired as exc:
                if refreshed or not authenticated or not self.can_refresh():
                    self._log(method, url, exc.status_code, started, waited, error=exc)
                    raise
                self.refresh_auth()
                refreshed = True
                continue
            except RetryablePlatformError as exc:
                self._log(method, url, exc.status_code, started, waited, error=exc)
                told_to_wait = isinstance(exc, RateLimited) and exc.retry_after is not None
                if told_to_wait:
                    # Hold every caller of this key back, whether or not we retry ourselves.
                    self.rate_limiter.block(key, seconds=float(exc.retry_after or 0))
                if not idempotent or attempt >= self.max_attempts:
                    raise
                if told_to_wait:
                    if (exc.retry_after or 0) > self.max_inline_wait:
                        raise  # every worker now waits on the limiter; the task reschedules
                    delay = 0.0  # the limiter's block paces our own retry too
                else:
                    delay = self._backoff(attempt, exc.retry_after)
                self._sleep(delay)
                continue
            except PermanentPlatformError as exc:
                self._log(method, url, exc.status_code, started, waited, error=exc)
                raise
            self._log(method, url, response.status_code, started, waited)
            return payload

    def _wait_for_blocks(self, key: str) -> float:
        """Honour blocks on `key` and the shared keys: wait briefly, or refuse to call.

        Refusing (QuotaExhausted, no request sent) is what keeps a blocked quota from being
        hammered by every worker that wakes up.
        """
        waited = 0.0
        for block_key in (key, *self.shared_rate_limit_keys()):
            blocked = self.rate_limiter.blocked_for(block_key)
            if blocked > self.max_inline_wait:
                raise QuotaExhausted(
                    f"rate limit {block_key!r} is blocked for {blocked:.0f}s",
                    resume_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=blocked),
                    retry_after=blocked,
                    platform=self.platform,
                )
            if blocked > 0 and block_key != key:  # the limiter itself waits out `key`
                self._sleep(blocked)
                waited += blocked
        return waited

    def _decode(self, response: requests.Response) -> Json:
        if not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, ValueError) as exc:
            if response.status_code >= 500:
                raise PlatformUnavailable(
                    f"HTTP {response.status_code}",
                    platform=self.platform,
                    status_code=response.status_code,
                ) from exc
            raise MalformedResponse(
                f"HTTP {response.status_code} with a body that is not JSON",
                platform=self.platform,
                status_code=response.status_code,
            ) from exc

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return float(retry_after)
        # Full jitter: spreads retries of many workers apart.
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _log(
        self,
        method: str,
        url: str,
        status: int | None,
        started: float,
        waited: float,
        error: Exception | None = None,
    ) -> None:
        # Only the path: query strings may carry tokens (Meta's access_token parameter).
        path = url.split("?", 1)[0]
        extra = {
            "platform": self.platform,
            "method": method,
            "path": path,
            "status": status,
            "elapsed_ms": round((time.monotonic() - started) * 1000),
            "rate_limit_wait_s": round(waited, 3),
        }
        if waited:
            PLATFORM_RATE_LIMIT_WAIT.labels(self.platform).inc(waited)
        if error is not None:
            PLATFORM_API_ERRORS.labels(self.platform, type(error).__name__).inc()
            message = self.scrub(str(error))
            logger.warning("platform call failed: %s %s: %s", method, path, message, extra=extra)
        else:
            logger.info("platform call %s %s -> %s", method, path, status, extra=extra)

    def paginate_pages(self, pages: Iterator[Json]) -> Iterator[Json]:
        """Cap any page iterator at `max_pages`, raising instead of silently truncating."""
        for count, page in enumerate(pages, start=1):
            if count > self.max_pages:
                raise PaginationTruncated(
                    f"more than {self.max_pages} pages; narrow the request", platform=self.platform
                )
            yield page

    def scrub(self, text: str) -> str:
        """`text` with every secret this client holds replaced (for messages and logs)."""
        for secret in self.secret_values():
            if secret:
                text = text.replace(secret, "[redacted]")
        return text

    # --- Hooks for providers --------------------------------------------------------
    def secret_values(self) -> list[str]:
        """Tokens and client secrets this client sends; `scrub` removes them from text."""
        return []

    def shared_rate_limit_keys(self) -> tuple[str, ...]:
        """Keys that gate every call besides its own (e.g. an app-wide usage block)."""
        return ()

    def default_headers(self) -> Mapping[str, str]:
        return {"Accept": "application/json"}

    def auth_headers(
        self, method: str, url: str, params: Mapping[str, Any] | None
    ) -> Mapping[str, str]:
        return {}

    def request_auth(self) -> Any:
        """A requests auth object (OAuth 1.0a signing for X), or None."""
        return None

    def rate_limit_key(self) -> str:
        return self.platform

    def observe_rate_limits(self, response: requests.Response) -> None:
        """Read the platform's usage headers; block the limiter ahead of a hard limit."""

    def raise_for_error(self, response: requests.Response, payload: Json) -> None:
        """Map the platform's error responses onto typed errors. Default: by HTTP status."""
        status = response.status_code
        if status < 400:
            return
        message = f"HTTP {status}"
        if status == 401:
            raise AuthExpired(message, platform=self.platform, status_code=status)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited(
                message,
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
                platform=self.platform,
                status_code=status,
            )
        if status >= 500:
            raise PlatformUnavailable(message, platform=self.platform, status_code=status)
        if status == 403:
            raise PermissionDenied(message, platform=self.platform, status_code=status)
        raise InvalidRequest(message, platform=self.platform, status_code=status)

    def can_refresh(self) -> bool:
        return False

    def refresh_auth(self) -> None:
        raise AuthExpired("token expired and cannot be refreshed", platform=self.platform)
