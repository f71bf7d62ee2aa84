"""The live notification socket at /ws/notifications/.

Authenticated by the session (browsers) or an API key (partners, see ws_auth). It joins
only the groups of the caller's organizations (and the user's own group), forwards
events, and replays from the database what a reconnecting client missed
(`?last_id=<id>`). It never writes to the database.

Live events arrive as JSON text already encoded by the publisher and reach the socket
through this process's fan-out for the group (notifications.fanout): with a thousand
sockets in one organization, each event is one layer message per server process and one
frame write per socket.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings

from adplatform.models import Membership
from notifications import fanout
from notifications.realtime import LiveEvent, organization_group, user_group
from notifications.selectors import list_missed_notifications
from notifications.services import serialize_live
from notifications.ws_auth import SUBPROTOCOL

# Close codes in the 4000 range are ours: 4401 unauthenticated, 4403 no organization.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NO_ORGANIZATION = 4403


@database_sync_to_async
def _organization_ids(user_id: int) -> list[int]:
    return list(
        Membership.objects.filter(user_id=user_id).values_list("organization_id", flat=True)
    )


@database_sync_to_async
def _missed(
    user_id: int | None, organization_ids: list[int], after_id: int, limit: int
) -> list[dict[str, Any]]:
    return [
        LiveEvent(type="notification.created", id=n.pk, data=serialize_live(n)).as_message()
        for n in list_missed_notifications(
            user_id=user_id, organization_ids=organization_ids, after_id=after_id, limit=limit
        )
    ]


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """Socket events run through Channels' dispatch; live events through the fan-out.

    The socket has no channel-layer channel of its own: its process's group fan-out hands
    it events directly, so the consumer only waits on the socket.
    """

    groups: list[str]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # AsyncConsumer.__call__ without a channel: only the socket goes through dispatch.
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = ""
        self.base_send = send
        self._subscriber = fanout.Subscriber(scope.get(fanout.SERVER_SEND, send), self._close_slow)
        self._fanout_groups: list[str] = []
        try:
            await await_many_dispatch([receive], self.dispatch)
        except StopConsumer:
            pass
        finally:
            await fanout.unsubscribe(self.channel_layer, self._fanout_groups, self._subscriber)

    async def _close_slow(self, code: int) -> None:
        with contextlib.suppress(OSError):
            await self.close(code=code)

    async def connect(self) -> None:
        # The base class leaves every group in self.groups when the socket closes.
        self.groups = []
        user = self.scope.get("user")
        api_key = self.scope.get("api_key")
        user_id: int | None = None
        if user is not None and user.is_authenticated:
            user_id = user.pk
            organization_ids = await _organization_ids(user.pk)
        elif api_key is not None:
            organization_ids = [api_key.organization_id]
        else:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not organization_ids:
            await self.close(code=CLOSE_NO_ORGANIZATION)
            return
        groups = [organization_group(pk) for pk in organization_ids]
        if user_id is not None:
            groups.append(user_group(user_id))
        # Join before replaying: an event arriving in between is then sent twice (clients
        # drop repeats by id) rather than lost. It waits in the outbox until the replay ends.
        self._fanout_groups = groups
        await fanout.subscribe(self.channel_layer, groups, self._subscriber)
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)

        last_id = self._last_id()
        if last_id is not None:
            limit = settings.NOTIFICATIONS_REPLAY_LIMIT
            missed = await _missed(user_id, organization_ids, last_id, limit + 1)
            for message in missed[:limit]:
                await self.send_json(message)
            await self.send_json(
                LiveEvent(
                    type="replay.complete",
                    id=missed[min(len(missed), limit) - 1]["id"] if missed else last_id,
                    data={"count": min(len(missed), limit), "truncated": len(missed) > limit},
                ).as_message()
            )
        # Live events flow only now, after the replay (the client drops repeats by id).
        self._subscriber.go_live()

    def _last_id(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        raw = (query.get("last_id") or [""])[0]
        return int(raw) if raw.isdigit() else None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is for listening; the only client message is a keep-alive.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json(LiveEvent(type="pong", id=0, data={}).as_message())
