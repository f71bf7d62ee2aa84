"""The live channel: group names, the event shape, and publishing to the channel layer.

Channel layers deliver at most once (a full channel drops the message silently), so the
WebSocket is never the only path: clients replay what they missed from the database by id.

Events travel as pre-serialized JSON text: the publisher encodes once and every consumer
forwards the text as is, so a fan-out to a thousand sockets costs no JSON work per socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# The consumer's handler for group messages: "notification.event" -> notification_event().
HANDLER = "notification.event"
# A publish that takes longer than this counts as failed (clients replay from the database).
PUBLISH_TIMEOUT_SECONDS = 5.0


def organization_group(organization_id: int) -> str:
    return f"notifications.org.{organization_id}"


def user_group(user_id: int) -> str:
    return f"notifications.user.{user_id}"


@dataclass(frozen=True)
class LiveEvent:
    """What a WebSocket client receives, as JSON: `{type, id, data, timestamp}`."""

    type: str
    id: int | str
    data: dict[str, Any]
    timestamp: str = field(default_factory=lambda: timezone.now().isoformat())

    def as_message(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "data": self.data, "timestamp": self.timestamp}

    def as_text(self) -> str:
        return json.dumps(self.as_message(), cls=DjangoJSONEncoder, separators=(",", ":"))


class _PublisherLoop:
    """One event loop per process, in a daemon thread, that owns the layer's connections.

    `async_to_sync` from a plain thread (gunicorn, Celery) makes a new event loop per call,
    and channels-redis keeps its connections per loop, so every publish used to open (and
    drop) a Redis connection. Publishing on one long-lived loop reuses them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def run(self, coroutine: Coroutine[Any, Any, None], timeout: float) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._get_loop())
        try:
            future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        # After a fork (gunicorn, Celery prefork) the thread is gone: start a new one.
        if self._loop is None or self._pid != os.getpid():
            with self._lock:
                if self._loop is None or self._pid != os.getpid():
                    loop = asyncio.new_event_loop()
                    threading.Thread(
                        target=loop.run_forever, name="notifications-publisher", daemon=True
                    ).start()
                    self._loop, self._pid = loop, os.getpid()
        return self._loop


_publisher = _PublisherLoop()


def _send(layer: BaseChannelLayer, sends: list[tuple[str, dict[str, Any]]]) -> None:
    async def send_all() -> None:
        for group, message in sends:
            await layer.group_send(group, message)

    if isinstance(layer, InMemoryChannelLayer):
        # Its queues belong to the loop the consumers run on; async_to_sync finds that loop
        # when called from a sync_to_async thread (tests, the embedded single process).
        async_to_sync(send_all)()
    else:
        _publisher.run(send_all(), PUBLISH_TIMEOUT_SECONDS)


def publish_many(events: list[tuple[str, LiveEvent]]) -> bool:
    """Send each (group, event) now, in order; False if the layer is unavailable."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        _send(
            layer, [(group, {"type": HANDLER, "text": event.as_text()}) for group, event in events]
        )
    except Exception:
        # The database copy is the record; a layer outage must not fail the caller.
        logger.warning("Live publish to %s failed", [g for g, _ in events], exc_info=True)
        return False
    return True


def publish(group: str, event: LiveEvent) -> bool:
    """Send now, outside any transaction bookkeeping; False if the layer is unavailable."""
    return publish_many([(group, event)])


class _PendingBroadcasts(threading.local):
    def __init__(self) -> None:
        self.events: dict[tuple[str, str], tuple[object, LiveEvent]] = {}


_pending = _PendingBroadcasts()


def publish_coalesced_on_commit(group: str, event: LiveEvent, *, coalesce_key: str) -> None:
    """Publish once the transaction commits, keeping only the last event per key.

    A sync that touches thousands of rows in one transaction announces "metrics updated"
    once per account instead of once per row. Outside a transaction it publishes at once.
    """
    key = (group, coalesce_key)
    token = object()
    _pending.events[key] = (token, event)

    def flush() -> None:
        current = _pending.events.get(key)
        # Only the newest call for a key publishes; earlier callbacks find a newer token.
        if current is None or current[0] is not token:
            return
        del _pending.events[key]
        publish(group, current[1])

    transaction.on_commit(flush)
