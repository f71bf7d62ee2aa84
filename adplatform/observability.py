"""Request context on every log record, and redaction of secrets from every log record.

The context (request id, organization, Celery task id) lives in context variables, so it
follows the code through sync and async paths alike.
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from pythonjsonlogger import json as jsonlogger

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
organization_var: ContextVar[str] = ContextVar("organization", default="-")
task_id_var: ContextVar[str] = ContextVar("task_id", default="-")

REDACTED = "[REDACTED]"
_SECRET_NAMES = (
    r"access_token|refresh_token|client_secret|token_secret|fb_exchange_token|api_key|apikey|"
    r"password|secret|developer[-_]token|access-token|x-api-key|oauth_signature|oauth_token|"
    r"auth_code|authorization"
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer <token> / Basic <creds> / OAuth ... in any rendering
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/=:]{6,}"), rf"\1 {REDACTED}"),
    (re.compile(r"(?i)(oauth\s+)[^\n]+"), rf"\1{REDACTED}"),
    # Our API keys and common LLM provider keys
    (re.compile(r"\badp_[A-Za-z0-9_\-]{8,}"), f"adp_{REDACTED}"),
    (re.compile(r"\bsk-(?:ant-)?[A-Za-z0-9_\-]{12,}"), f"sk-{REDACTED}"),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), REDACTED),
    # name=value in query strings and form bodies, name: value in headers
    (
        re.compile(rf"(?i)\b({_SECRET_NAMES})(\s*[=:]\s*)([\"']?)[^&\s'\",}}]+"),
        rf"\1\2\3{REDACTED}",
    ),
    # "name": "value" in JSON and 'name': 'value' in Python reprs
    (
        re.compile(rf"(?i)([\"']({_SECRET_NAMES})[\"']\s*:\s*)([\"'])(.*?)(\3)"),
        rf"\1\3{REDACTED}\5",
    ),
]
_SENSITIVE_ATTRIBUTE = re.compile(rf"(?i)({_SECRET_NAMES}|token)")
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record so no secret reaches any handler's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            # Formatters print exc_text when it is set; exc_info stays for tools that
            # inspect the exception itself.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name in _STANDARD_ATTRIBUTES:
                continue
            if _SENSITIVE_ATTRIBUTE.search(name) and name not in {"task_id"}:
                setattr(record, name, REDACTED)
            elif isinstance(value, str):
                setattr(record, name, redact(value))
            elif isinstance(value, dict | list | tuple):
                setattr(record, name, redact(repr(value)))
        return True


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.organization = organization_var.get()
        record.task_id = task_id_var.get()
        return True


class RequestContextMiddleware:
    """Give each request an id (the caller's X-Request-ID if sane) and echo it back."""

    _valid = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if self._valid.match(incoming) else uuid.uuid4().hex
        request_token = request_id_var.set(request_id)
        organization_token = organization_var.set("-")
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(request_token)
            organization_var.reset(organization_token)
        response["X-Request-ID"] = request_id
        return response


def bind_organization(organization: Any) -> None:
    """Name the organization in the log context for the rest of this request or task."""
    if organization is not None:
        organization_var.set(getattr(organization, "slug", str(organization)))


class JsonFormatter(jsonlogger.JsonFormatter):
    """JSON lines whose tracebacks are redacted like messages."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        formatted = super().formatException(ei)
        text = "\n".join(formatted) if isinstance(formatted, list) else formatted
        return redact(text)
