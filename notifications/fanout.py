"""Per-process fan-out of live events to the sockets of one group.

With one channel-layer channel per socket, a notification to an organization with a
thousand open sockets costs the layer a thousand queue entries and the server a thousand
task switches before the first byte is written. Here each server process joins a group
once, with one channel of its own, and hands every event to its local sockets in a plain
loop: the per-socket cost is the frame write, and the layer carries one copy per process.

Delivery stays at most once, as with any channel layer. A socket that cannot keep up (its
transport is paused and its outbox fills) is closed with CLOSE_TOO_SLOW, and the client
reconnects with its last seen id and replays the rest from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import types
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from channels.layers import BaseChannelLayer

from notifications.realtime import HANDLER

logger = logging.getLogger(__name__)

# 1013 "try again later": the client reconnects and replays what it missed by id.
CLOSE_TOO_SLOW = 1013
# Events queued for a socket whose transport is paused before it is given up on: about
# half a megabyte at typical event sizes, on top of the kernel's and the transport's buffers.
OUTBOX_LIMIT = 1000
# The list-based Redis layer forgets group members after its group expiry (a day by
# default); a long-lived process channel re-joins well within it.
REJOIN_SECONDS = 3600.0

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
# Where ServerSendInScope leaves the ASGI server's own `send` for the consumer.
SERVER_SEND = "adplatform.server_send"


class ServerSendInScope:
    """Outermost ASGI middleware of the socket stack: keeps the server's `send` in the scope.

    Live events are written with it rather than with the `send` the session middleware
    wraps: that wrapper only acts on HTTP responses and the handshake, yet reads the lazy
    session on every frame, a fifth of a fan-out's cost per socket.
    """

    def __init__(self, app: Callable[..., Coroutine[Any, Any, None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        await self.app({**scope, SERVER_SEND: send}, receive, send)


@types.coroutine
def _resume(coroutine: Coroutine[Any, Any, Any], pending: Any) -> Generator[Any, Any, Any]:
    """Go on running a coroutine that was started by hand and is waiting on `pending`.

    Lets a send run eagerly (it almost always finishes without suspending) and pay for a
    task only when it does suspend, which asyncio's eager tasks do from Python 3.12 on.
    """
    while True:
        try:
            sent = yield pending
        except BaseException as exc:  # cancellation or an error from the awaited future
            try:
                pending = coroutine.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            pending = coroutine.send(sent)
        except StopIteration as stop:
            return stop.value


class Subscriber:
    """One socket's place in the fan-out: its send, and what waits to be sent."""

    __slots__ = ("_send", "_close", "_outbox", "_flushing", "_closing", "live", "closed")

    def __init__(self, send: Send, close: Callable[[int], Coroutine[Any, Any, None]]) -> None:
        self._send = send
        self._close = close
        # Events held until the socket goes live (after its replay) or its transport
        # drains; a flush task owns the socket's writes while it has any.
        self._outbox: deque[str] = deque()
        self._flushing: asyncio.Task[None] | None = None
        # Held so the loop's weak reference is not the only one while the close runs.
        self._closing: asyncio.Future[None] | None = None
        self.live = False
        self.closed = False

    def go_live(self) -> None:
        self.live = True
        if self._outbox and self._flushing is None:
            self._flushing = asyncio.ensure_future(self._flush())

    def deliver(self, text: str) -> None:
        if self.closed:
            return
        if not self.live or self._flushing is not None:
            self._queue(text)
            return
        coroutine = self._send({"type": "websocket.send", "text": text})
        try:
            pending = coroutine.send(None)
        except StopIteration:
            return  # written: the common case, with no task and no queue
        except Exception:  # noqa: BLE001 - the client went away; its disconnect ends it
            self.closed = True
            logger.debug("Live event not sent: socket closed", exc_info=True)
            return
        self._flushing = asyncio.ensure_future(self._flush(_resume(coroutine, pending)))

    def _queue(self, text: str) -> None:
        if len(self._outbox) >= OUTBOX_LIMIT:
            self.closed = True
            self._outbox.clear()
            logger.info("Live socket too slow; closing it so the client replays")
            self._closing = asyncio.ensure_future(self._close(CLOSE_TOO_SLOW))
            return
        self._outbox.append(text)

    async def _flush(self, first: Awaitable[Any] | None = None) -> None:
        try:
            if first is not None:
                await first
            while self._outbox and not self.closed:
                await self._send({"type": "websocket.send", "text": self._outbox.popleft()})
        except Exception:  # noqa: BLE001 - as in deliver()
            self.closed = True
            logger.debug("Live event not sent: socket closed", exc_info=True)
        finally:
            self._flushing = None

    def stop(self) -> None:
        self.closed = True
        self._outbox.clear()
        if self._flushing is not None:
            self._flushing.cancel()


class GroupFanout:
    """This process's member of one group: one layer channel, many local sockets."""

    def __init__(self, layer: BaseChannelLayer, group: str) -> None:
        self.layer = layer
        self.group = group
        self.subscribers: set[Subscriber] = set()
        self.channel = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._joined = asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        try:
            self.channel = await self.layer.new_channel()
            await self.layer.group_add(self.group, self.channel)
        except BaseException as exc:
            self._joined.set_exception(exc)
            raise
        self._tasks = [asyncio.ensure_future(self._run()), asyncio.ensure_future(self._rejoin())]
        self._joined.set_result(None)

    async def joined(self) -> None:
        await asyncio.shield(self._joined)

    async def _run(self) -> None:
        # No timeout around receive(): cancelling it makes the pub/sub layer drop the
        # channel from its groups, so the receive is only ever cancelled at stop().
        while True:
            message = await self.layer.receive(self.channel)
            if message.get("type") != HANDLER:
                continue
            text = message["text"]
            for subscriber in tuple(self.subscribers):
                subscriber.deliver(text)

    async def _rejoin(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            await self.layer.group_add(self.group, self.channel)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.channel:
            await self.layer.group_discard(self.group, self.channel)


# Per event loop (tests run several) and per layer (tests swap them): group -> fan-out.
_fanouts: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[int, str], GroupFanout]
] = weakref.WeakKeyDictionary()


async def subscribe(layer: BaseChannelLayer, groups: list[str], subscriber: Subscriber) -> None:
    """Add the socket to each group's fan-out in this process, joining the layer if new."""
    registry = _fanouts.setdefault(asyncio.get_running_loop(), {})
    for group in groups:
        key = (id(layer), group)
        while True:
            fanout = registry.get(key)
            if fanout is None:
                fanout = registry[key] = GroupFanout(layer, group)
                try:
                    await fanout.start()
                except BaseException:
                    registry.pop(key, None)
                    raise
            else:
                await fanout.joined()
            # While this waited, the group's last socket may have left and stopped it.
            if registry.get(key) is fanout:
                break
        fanout.subscribers.add(subscriber)


async def unsubscribe(layer: BaseChannelLayer, groups: list[str], subscriber: Subscriber) -> None:
    """Take the socket out; the last socket of a group takes the process out of it."""
    subscriber.stop()
    registry = _fanouts.get(asyncio.get_running_loop(), {})
    for group in groups:
        key = (id(layer), group)
        fanout = registry.get(key)
        if fanout is None:
            continue
        fanout.subscribers.discard(subscriber)
        if not fanout.subscribers:
            del registry[key]
            await fanout.stop()
