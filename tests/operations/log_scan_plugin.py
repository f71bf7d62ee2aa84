"""A pytest plugin (`-p tests.operations.log_scan_plugin`) that records every log line of
a test run and every secret the run handled, then reports secrets found in the log.

Logging: everything at DEBUG, including urllib3, httpx/httpcore and the LLM SDKs, goes
through the production handler chain (JSON formatter, context and redaction filters)
into the file named by LOG_SCAN_OUTPUT.

Secrets, collected as the code under test handles them rather than listed by hand:
- every value the app encrypts at rest (tokens, refresh tokens, client secrets, LLM
  provider keys, webhook secrets): `EncryptedTextField` is how the app marks a secret;
- every credential sent over HTTP by requests or httpx: the `Authorization` value and the
  API-key headers the platforms and LLM providers use.

At the end, LOG_SCAN_REPORT receives JSON: how many secrets and log lines were seen, which
loggers wrote, and each leak (the secret's first characters and the offending line).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest

CREDENTIAL_HEADERS = {
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "developer-token",
    "access-token",
    "x-ads-token",
}
# Shorter values ("x", "ok") would match ordinary text; no real credential is this short.
MIN_SECRET_LENGTH = 8
LOUD_LOGGERS = (
    "urllib3",
    "requests",
    "httpx",
    "httpcore",
    "openai",
    "anthropic",
    "google_genai",
    "langchain",
    "langsmith",
    "integrations",
    "campaigns",
    "agents",
    "notifications",
    "adplatform",
)

SECRETS: set[str] = set()
_handler: logging.Handler | None = None


def remember(value: Any) -> None:
    if isinstance(value, bytes):
        value = value.decode("latin1")
    text = value if isinstance(value, str) else str(value or "")
    for part in {text, text.split(" ", 1)[-1]}:  # "Bearer abc" -> also "abc"
        if len(part.strip()) >= MIN_SECRET_LENGTH:
            SECRETS.add(part.strip())


def _remember_headers(headers: Any) -> None:
    for name, value in dict(headers or {}).items():
        key = name.decode("latin1") if isinstance(name, bytes) else str(name)
        if key.lower() in CREDENTIAL_HEADERS:
            remember(value)


def _install_recorders() -> None:
    import httpx
    import requests

    import adplatform.fields

    original_encrypt = adplatform.fields.encrypt_text

    def encrypt_text(plaintext: str) -> str:
        remember(plaintext)
        return original_encrypt(plaintext)

    adplatform.fields.encrypt_text = encrypt_text  # type: ignore[assignment]

    original_send = requests.Session.send

    def send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        _remember_headers(request.headers)
        return original_send(self, request, **kwargs)

    requests.Session.send = send  # type: ignore[method-assign]

    for client_class in (httpx.Client, httpx.AsyncClient):
        original = client_class.send

        def make(original: Any) -> Any:
            def send_httpx(self: Any, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
                _remember_headers(request.headers)
                return original(self, request, *args, **kwargs)

            return send_httpx

        client_class.send = make(original)  # type: ignore[method-assign]


def _attach_handler() -> None:
    """(Re)attach the production handler chain at DEBUG: Django's dictConfig and caplog
    reset levels, so this runs before every test."""
    global _handler
    from adplatform.observability import ContextFilter, JsonFormatter, RedactingFilter

    if _handler is None:
        _handler = logging.FileHandler(os.environ["LOG_SCAN_OUTPUT"], encoding="utf-8")
        _handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s "
                "%(organization)s %(task_id)s"
            )
        )
        _handler.addFilter(ContextFilter())
        _handler.addFilter(RedactingFilter())
        _handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    if _handler not in root.handlers:
        root.addHandler(_handler)
    root.setLevel(logging.DEBUG)
    for name in LOUD_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    _install_recorders()


@pytest.fixture(autouse=True)
def _debug_logs_through_the_production_handler() -> None:
    _attach_handler()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _handler is not None:
        _handler.flush()
    with open(os.environ["LOG_SCAN_OUTPUT"], encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    loggers: set[str] = set()
    for line in lines:
        try:
            record = json.loads(line)
            loggers.add(str(record.get("logger") or record.get("name", "")))
        except ValueError:
            continue  # a multi-line traceback is inside its record's JSON; never here
    leaks = [
        {"secret": secret[:4] + "...", "line": line[:500]}
        for secret in sorted(SECRETS)
        for line in lines
        if secret in line
    ]
    report = {
        "secrets": len(SECRETS),
        "lines": len(lines),
        "loggers": sorted(loggers),
        "leaks": leaks,
    }
    with open(os.environ["LOG_SCAN_REPORT"], "w", encoding="utf-8") as handle:
        json.dump(report, handle)
