"""Local servers speaking the real protocols: SMTP, a Web Push service, a webhook receiver."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import http_ece
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from adplatform.models import Membership
from notifications.channels.webhook import SIGNATURE_HEADER, verify_signature
from notifications.models import PushSubscription


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- SMTP ------------------------------------------------------------------------------


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler: records messages; `fail_next` makes the next DATA answer a code."""

    messages: list[Envelope] = field(default_factory=list)
    fail_next: list[str] = field(default_factory=list)
    attempts: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.fail_next:
            return self.fail_next.pop(0)
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpRecorder]:
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield recorder
    finally:
        controller.stop()


# --- Web Push -----------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_vapid(*, token: str, public_key: str, audience: str) -> bool:
    """Check an RFC 8292 VAPID JWT as a push service does: ES256 signature, audience, expiry."""
    import time

    header, claims, signature = token.split(".")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64url_decode(public_key))
    raw = _b64url_decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    payload = json.loads(_b64url_decode(claims))
    return bool(payload["aud"] == audience and payload["exp"] > time.time() and payload["sub"])


@dataclass
class PushBrowser:
    """A browser's side of a push subscription: its key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        return _b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return _b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


@dataclass
class PushService:
    """A local push service: checks VAPID, decrypts payloads, answers with queued statuses."""

    httpserver: HTTPServer
    browser: PushBrowser
    received: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    vapid_ok: list[bool] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.httpserver.url_for("/push/sub-1")

    def handle(self, request: Request) -> Response:
        try:
            return self._handle(request)
        except Exception as exc:  # surfaced in the test's assertions, not as a bare 500
            self.errors.append(repr(exc))
            return Response(repr(exc), status=599)

    def _handle(self, request: Request) -> Response:
        status = self.statuses.pop(0) if self.statuses else 201
        self.headers.append(dict(request.headers))
        # "vapid t=<jwt>, k=<public key>" (RFC 8292)
        auth = request.headers.get("Authorization", "")
        parts = dict(p.strip().split("=", 1) for p in auth.removeprefix("vapid ").split(","))
        origin = self.endpoint.rsplit("/push/", 1)[0]
        self.vapid_ok.append(verify_vapid(token=parts["t"], public_key=parts["k"], audience=origin))
        if status < 300:
            self.received.append(self.browser.decrypt(request.get_data()))
        return Response("", status=status)

    def subscribe(self, membership: Membership) -> PushSubscription:
        from notifications.services import save_push_subscription

        return save_push_subscription(
            user=membership.user,
            endpoint=self.endpoint,
            p256dh=self.browser.p256dh,
            auth=self.browser.auth,
        )


@pytest.fixture
def push_service(httpserver: HTTPServer) -> PushService:
    browser = PushBrowser(
        private_key=ec.generate_private_key(ec.SECP256R1()), auth_secret=b"0123456789abcdef"
    )
    service = PushService(httpserver=httpserver, browser=browser)
    httpserver.expect_request("/push/sub-1", method="POST").respond_with_handler(service.handle)
    return service


# --- Webhooks ------------------------------------------------------------------------------


@dataclass
class WebhookReceiver:
    httpserver: HTTPServer
    secret: str
    received: list[dict[str, Any]] = field(default_factory=list)
    signatures_valid: list[bool] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.httpserver.url_for("/hook")

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        self.headers.append(dict(request.headers))
        self.signatures_valid.append(
            verify_signature(
                secret=self.secret, header=request.headers.get(SIGNATURE_HEADER, ""), body=body
            )
        )
        status = self.statuses.pop(0) if self.statuses else 200
        if status < 300:
            self.received.append(json.loads(body))
        return Response("ok" if status < 300 else "nope", status=status)


@pytest.fixture
def webhook_receiver(httpserver: HTTPServer) -> WebhookReceiver:
    receiver = WebhookReceiver(httpserver=httpserver, secret="whsec_receiver_secret_0123456789")
    httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver.handle)
    return receiver


@pytest.fixture
def no_backoff(settings: Any) -> None:
    settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS = 0


@pytest.fixture(autouse=True)
def _eager_celery() -> None:
    """Run tasks inline even when REDIS_URL makes the settings pick a real broker.

    tests/conftest.py sets CELERY_TASK_ALWAYS_EAGER in the environment, but pytest-django
    has already loaded the settings by then, so with REDIS_URL set tasks would go to Redis.
    """
    from adplatform.celery import app

    app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fresh_template_cache() -> None:
    """notify() caches organization template overrides per process; ids repeat across tests."""
    from notifications.selectors import clear_template_cache

    clear_template_cache()
