"""Log records carry context and never carry secrets, whoever wrote them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from adplatform.observability import ContextFilter, RedactingFilter, organization_var, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer EAAGm0PX4ZCpsBAKZB1234567890", "EAAGm0PX4ZCpsBAKZB1234567890"),
        ("GET /v25.0/me?access_token=EAAB123secret&fields=id", "EAAB123secret"),
        ('{"refresh_token": "1//0gabcdefsecret", "x": 1}', "1//0gabcdefsecret"),
        ("{'Authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        ("key adp_AbCdEfGhIjKlMnOpQrStUv was used", "AbCdEfGhIjKlMnOpQrStUv"),
        ("openai key sk-proj-ABCDEFGHIJKLMNOPQRST", "ABCDEFGHIJKLMNOPQRST"),
        ("client_secret=shh-very-secret&grant_type=refresh_token", "shh-very-secret"),
        ('developer-token="dev-tok-123456"', "dev-tok-123456"),
    ],
)
def test_redact_removes_secrets_in_every_common_shape(text: str, secret: str) -> None:
    assert secret not in redact(text)


def _capture(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_records_carry_context_and_no_secrets_in_args_extras_or_tracebacks() -> None:
    from adplatform.observability import JsonFormatter

    logger, stream = _capture(
        JsonFormatter(
            "%(levelname)s %(name)s %(message)s %(request_id)s %(organization)s %(task_id)s"
        )
    )
    token = organization_var.set("acme")
    try:
        logger.info(
            "calling %s", "https://x/?access_token=TOPSECRET1", extra={"token": "TOPSECRET2"}
        )
        try:
            raise RuntimeError("refresh failed for Bearer TOPSECRET3abc")
        except RuntimeError:
            logger.exception("sync failed")
    finally:
        organization_var.reset(token)

    output = stream.getvalue()
    assert "TOPSECRET" not in output
    first, second = (json.loads(line) for line in output.strip().splitlines())
    assert first["organization"] == "acme"
    assert first["token"] == "[REDACTED]"
    assert "RuntimeError" in second["exc_info"]
