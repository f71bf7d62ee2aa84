"""Standard Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from notifications.channels import (
    PermanentDeliveryError,
    RetryableDeliveryError,
    SubscriptionGone,
)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class VapidKeyPair:
    public_key: str  # uncompressed P-256 point, base64url: the browser's applicationServerKey
    private_key: str  # 32-byte scalar, base64url


def generate_vapid_key_pair() -> VapidKeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return VapidKeyPair(public_key=_b64url(public), private_key=_b64url(private))


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


def send_web_push(
    *,
    target: PushTarget,
    payload: dict[str, Any],
    private_key: str,
    subject: str,
    ttl: int,
    timeout: float,
    urgency: str = "normal",
) -> int:
    """Encrypt `payload` for the subscription and POST it to its push service.

    404/410 mean the subscription is gone (the caller deletes it); other 4xx are
    permanent; 429, 5xx and network errors are retryable. Returns the status code.
    """
    vapid = Vapid.from_raw(private_key.encode())
    try:
        response = webpush(
            subscription_info={
                "endpoint": target.endpoint,
                "keys": {"p256dh": target.p256dh, "auth": target.auth},
            },
            data=json.dumps(payload, separators=(",", ":")),
            vapid_private_key=vapid,
            vapid_claims={"sub": subject},
            ttl=ttl,
            timeout=timeout,
            headers={"Urgency": urgency},
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise SubscriptionGone(f"Subscription gone ({status})", response_status=status) from exc
        if status is not None and 400 <= status < 500 and status != 429:
            raise PermanentDeliveryError(
                f"Push service refused the message ({status})", response_status=status
            ) from exc
        raise RetryableDeliveryError(
            f"Push service error ({status})", response_status=status
        ) from exc
    except requests.RequestException as exc:
        raise RetryableDeliveryError(f"Push service unreachable: {exc.__class__.__name__}") from exc
    except ValueError as exc:
        # Malformed keys in the stored subscription: retrying cannot help.
        raise PermanentDeliveryError(f"Invalid subscription keys: {exc}") from exc
    return int(getattr(response, "status_code", 201))
