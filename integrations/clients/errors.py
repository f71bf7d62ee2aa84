"""Typed errors every platform client raises; each provider maps its own codes onto these.

Retryable errors may succeed later (back off, honour `retry_after`); permanent ones will
not (fix the request, or ask the user to re-authorize). Messages never contain tokens.
"""

from __future__ import annotations

import datetime as dt


class PlatformError(Exception):
    """Base for errors from an ad platform's API."""

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        status_code: int | None = None,
        code: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.status_code = status_code
        self.code = code

    def __str__(self) -> str:
        where = f"{self.platform}: " if self.platform else ""
        code = f" (code {self.code})" if self.code not in (None, "") else ""
        return f"{where}{self.message}{code}"


class RetryablePlatformError(PlatformError):
    retry_after: float | None = None


class RateLimited(RetryablePlatformError):
    """Too many requests; `retry_after` seconds until the platform accepts more, if known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class QuotaExhausted(RateLimited):
    """A quota block (e.g. Meta 17/613/80004): wait until `resume_at`, do not hammer."""

    def __init__(
        self, message: str, *, resume_at: dt.datetime, retry_after: float, **kwargs: object
    ) -> None:
        super().__init__(message, retry_after=retry_after, **kwargs)
        self.resume_at = resume_at


class PlatformUnavailable(RetryablePlatformError):
    """5xx, timeouts, connection errors, transient platform errors."""


class PermanentPlatformError(PlatformError):
    pass


class AuthExpired(PermanentPlatformError):
    """The token is expired or revoked; refresh once, then the user must re-authorize."""


class PermissionDenied(PermanentPlatformError):
    pass


class InvalidRequest(PermanentPlatformError):
    """The platform rejected our request (bad parameter, policy, not found)."""


class NotSupported(PermanentPlatformError):
    """The platform has no such operation (e.g. a breakdown it does not report)."""


class UnsupportedTargeting(NotSupported):
    """The platform cannot widen this targeting dimension through its API (e.g. a lookalike's
    ratio is fixed when the lookalike audience is made). `dimension` names it."""

    def __init__(self, message: str, *, dimension: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.dimension = dimension


class MalformedResponse(RetryablePlatformError):
    """The platform answered with something that is not the documented shape."""


class PaginationTruncated(PermanentPlatformError):
    """More pages than the client's hard cap; the caller narrows the request."""
