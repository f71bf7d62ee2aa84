"""Typed errors of the provider layer, and how SDK exceptions map onto a call status."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from langchain_core.exceptions import ModelRateLimitError, ModelTimeoutError

from agents.models import CallStatus


class LLMError(Exception):
    """Base of the provider layer's errors. Messages never carry API keys or prompt data."""


class ProviderConfigurationError(LLMError):
    """A provider cannot be built from its settings (unknown kind, missing model or key)."""


class LLMOutputError(LLMError):
    """The model's answer did not match the requested schema, even after one corrective retry.

    `validation_errors` holds the validator's messages of each attempt (no model text).
    """

    def __init__(self, message: str, *, schema_name: str, validation_errors: list[str]) -> None:
        super().__init__(message)
        self.schema_name = schema_name
        self.validation_errors = validation_errors


class ToolLoopError(LLMOutputError):
    """The model kept asking for tools past the step limit."""


class OfflineUnavailableError(LLMError):
    """A request reached the end of the chain without an offline function to answer it."""


@dataclass(frozen=True)
class FailureInfo:
    status: CallStatus
    retry_after_seconds: float | None = None


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _parse_seconds(value: str) -> float | None:
    try:
        return max(0.0, float(value.strip().removesuffix("s")))
    except ValueError:
        # An HTTP date is allowed in Retry-After too; providers send seconds, so skip it.
        return None


def _google_retry_delay(details: object) -> float | None:
    # Gemini puts the wait in the error body: google.rpc.RetryInfo {"retryDelay": "20s"}.
    error = details.get("error") if isinstance(details, dict) else None
    for item in (error or {}).get("details") or []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            return _parse_seconds(str(item.get("retryDelay", "")))
    return None


def _retry_after(exc: BaseException) -> float | None:
    for cause in _causes(exc):
        # openai/anthropic errors carry the httpx response; google's APIError does too.
        headers = getattr(getattr(cause, "response", None), "headers", None)
        value = headers.get("retry-after") if headers is not None else None
        if value is not None:
            return _parse_seconds(value)
        delay = _google_retry_delay(getattr(cause, "details", None))
        if delay is not None:
            return delay
    return None


def classify_failure(exc: BaseException) -> FailureInfo:
    """Map an exception raised while calling a provider to the status we record.

    LangChain's provider packages raise `langchain_core.exceptions.ModelError` subclasses
    that also inherit from the SDK's own types; the cause chain is walked as well because
    some SDK paths (google-genai's transport) let a bare httpx timeout through.
    """
    for cause in _causes(exc):
        if isinstance(cause, ModelTimeoutError | httpx.TimeoutException):
            return FailureInfo(CallStatus.TIMEOUT)
        if isinstance(cause, ModelRateLimitError) or getattr(cause, "status_code", None) == 429:
            return FailureInfo(CallStatus.RATE_LIMITED, _retry_after(exc))
        if isinstance(cause, LLMOutputError):
            return FailureInfo(CallStatus.MALFORMED)
    return FailureInfo(CallStatus.ERROR)


# Exceptions from these packages are the provider's (or the network's) doing, not a bug here.
_PROVIDER_PACKAGES = ("openai", "anthropic", "google", "httpx", "httpcore", "langchain_")


def is_provider_failure(exc: BaseException) -> bool:
    """True for errors of the provider, the network or the model's answer; False for bugs."""
    for cause in _causes(exc):
        if isinstance(cause, LLMError):
            return True
        if type(cause).__module__.startswith(_PROVIDER_PACKAGES):
            return True
    return False
