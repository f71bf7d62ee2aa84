"""API-key authentication for WebSockets (partner systems).

A partner sends `Authorization: Bearer <key>`; a browser-like client that cannot set
headers may offer the subprotocols `adplatform.v1, bearer.<key>` (the consumer answers
with `adplatform.v1` only). Keys are never read from the URL, which ends up in logs.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from adplatform.models import ApiKey
from adplatform.selectors import get_active_api_key
from adplatform.services import API_KEY_PREFIX, hash_api_key, touch_api_key

SUBPROTOCOL = "adplatform.v1"
_BEARER_PROTOCOL = "bearer."


def _raw_key(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            parts = value.decode("latin1").split()
            if len(parts) == 2 and parts[0].lower() == "bearer":
                return parts[1]
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(_BEARER_PROTOCOL):
            return protocol[len(_BEARER_PROTOCOL) :]
    return None


@database_sync_to_async
def _find_key(raw_key: str) -> ApiKey | None:
    if not raw_key.startswith(API_KEY_PREFIX):
        return None
    api_key = get_active_api_key(key_hash=hash_api_key(raw_key))
    if api_key is not None:
        touch_api_key(api_key=api_key)
    return api_key


class ApiKeyWebSocketMiddleware:
    """Puts `scope["api_key"]` (an active ApiKey or None) for the consumer to use."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw_key = _raw_key(scope)
        api_key = await _find_key(raw_key) if raw_key else None
        return await self.inner({**scope, "api_key": api_key}, receive, send)
