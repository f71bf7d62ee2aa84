"""The live channel: group names, the event shape, and publishing to the channel layer.

Channel layers deliver at most once (a full channel drops the message silently), so the
WebSocket is never the only path: clients replay what they missed from the database by id.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# The consumer's handler for group messages: "notification.event" -> notification_event().
HANDLER = "notification.event"


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


def publish(group: str, event: LiveEvent) -> bool:
    """Send now, outside any transaction bookkeeping; False if the layer is unavailable."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, {"type": HANDLER, "message": event.as_message()})
    except Exception:
        # The database copy is the record; a layer outage must not fail the caller.
        logger.warning("Live publish to %s failed", group, exc_info=True)
        return False
    return True


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
