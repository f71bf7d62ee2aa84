"""WebSocket routes; each app adds its consumers here."""

from __future__ import annotations

from typing import Any

from django.urls import path

from notifications.consumers import NotificationConsumer
from notifications.ws_auth import ApiKeyWebSocketMiddleware

websocket_urlpatterns: list[Any] = [
    path("ws/notifications/", ApiKeyWebSocketMiddleware(NotificationConsumer.as_asgi())),
]
