"""A WebSocket test client that drives an ASGI application in-process.

channels.testing's communicator cannot be imported without daphne (its package also
loads the live-server case), so this is the same idea on asgiref's ApplicationCommunicator.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import unquote, urlsplit

from asgiref.testing import ApplicationCommunicator


class WebSocketClient(ApplicationCommunicator):  # type: ignore[misc]
    def __init__(
        self,
        application: Any,
        path: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        subprotocols: list[str] | None = None,
    ) -> None:
        parts = urlsplit(path)
        scope = {
            "type": "websocket",
            "path": unquote(parts.path),
            "query_string": parts.query.encode(),
            "headers": headers or [],
            "subprotocols": subprotocols or [],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 5) -> tuple[bool, Any]:
        """(True, subprotocol) when accepted, (False, close code) when refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, response.get("subprotocol")

    async def receive_json_from(self, timeout: float = 5) -> Any:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def send_json_to(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_nothing(self, timeout: float = 0.2) -> bool:
        """True if nothing arrives within `timeout` (a short grace for stray messages)."""
        if not self.output_queue.empty():
            return False
        await asyncio.sleep(timeout)
        return self.output_queue.empty()

    async def disconnect(self, code: int = 1000, timeout: float = 5) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
