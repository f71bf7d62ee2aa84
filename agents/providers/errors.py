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


def _retry_after(exc: BaseException) -> float | None:
    # openai/anthropic errors carry the httpx response; google's APIError does too.
    for cause in _causes(exc):
        response = getattr(cause, "response", None)
        headers = getattr(response, "headers", None)
        if headers is None:
            continue
        value = headers.get("retry-after")
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            # An HTTP date is allowed too; providers send seconds, so treat a date as unknown.
            return None
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
