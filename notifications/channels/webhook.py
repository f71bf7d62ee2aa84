"""Outgoing webhooks: JSON POST signed with HMAC-SHA256, or Slack's incoming-webhook shape.

The signature header is `X-Adplatform-Signature: t=<unix seconds>,v1=<hex>` where the hex
is HMAC-SHA256(secret, "<t>.<raw body>"). Receivers recompute it and reject old `t` values
to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from urllib.parse import urlsplit

import requests

from notifications.channels import PermanentDeliveryError, RetryableDeliveryError

SIGNATURE_HEADER = "X-Adplatform-Signature"


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(*, secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does; used by our tests and documented for partners."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, timestamp=timestamp, body=body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse URLs that would make the server call itself or its private network (SSRF)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentDeliveryError("URL must be http(s) with a host.")
    if allow_private:
        return
    if parts.scheme != "https":
        raise PermanentDeliveryError("URL must use https.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise RetryableDeliveryError(f"Cannot resolve host: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise PermanentDeliveryError("URL resolves to a private address.")


def post_webhook(
    *,
    url: str,
    body: bytes,
    secret: str,
    event: str,
    delivery_id: int,
    timeout: float,
    allow_private: bool,
) -> int:
    """POST the body; 2xx is success, 408/429/5xx and network errors retryable, other 4xx not."""
    check_destination(url, allow_private=allow_private)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "adplatform-webhooks/1",
        "X-Adplatform-Event": event,
        "X-Adplatform-Delivery": str(delivery_id),
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret=secret, timestamp=int(time.time()), body=body)
    try:
        # No redirects: a 3xx could point the signed payload at another host.
        response = requests.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise RetryableDeliveryError(f"Webhook unreachable: {exc.__class__.__name__}") from exc
    status = response.status_code
    if 200 <= status < 300:
        return status
    if status in (408, 429) or status >= 500:
        raise RetryableDeliveryError(f"Webhook answered {status}", response_status=status)
    raise PermanentDeliveryError(f"Webhook answered {status}", response_status=status)
