"""The per-process fan-out's handling of one socket: order, the replay hold, slow clients."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync

from notifications.fanout import CLOSE_TOO_SLOW, OUTBOX_LIMIT, Subscriber


class FakeSocket:
    """An ASGI send that can be paused, as uvicorn's is while its transport's buffer is full."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed_with: list[int] = []
        self.writable = asyncio.Event()
        self.writable.set()

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()
        self.sent.append(message["text"])

    async def close(self, code: int) -> None:
        self.closed_with.append(code)


def test_events_wait_for_the_replay_then_go_out_in_order() -> None:
    async def scenario() -> None:
        fake = FakeSocket()
        subscriber = Subscriber(fake.send, fake.close)
        subscriber.deliver("1")
        subscriber.deliver("2")
        assert fake.sent == []  # still replaying
        subscriber.go_live()
        subscriber.deliver("3")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert fake.sent == ["1", "2", "3"]

    async_to_sync(scenario)()


def test_a_live_socket_is_written_at_once_without_a_task() -> None:
    async def scenario() -> None:
        fake = FakeSocket()
        subscriber = Subscriber(fake.send, fake.close)
        subscriber.go_live()
        subscriber.deliver("now")
        assert fake.sent == ["now"]  # before yielding to the loop

    async_to_sync(scenario)()


def test_a_paused_socket_gets_its_events_in_order_once_it_drains() -> None:
    async def scenario() -> None:
        fake = FakeSocket()
        subscriber = Subscriber(fake.send, fake.close)
        subscriber.go_live()
        fake.writable.clear()
        for text in ("a", "b", "c"):
            subscriber.deliver(text)
        await asyncio.sleep(0.01)
        assert fake.sent == []
        fake.writable.set()
        await asyncio.sleep(0.01)
        assert fake.sent == ["a", "b", "c"]
        subscriber.deliver("d")
        assert fake.sent == ["a", "b", "c", "d"]
        assert fake.closed_with == []

    async_to_sync(scenario)()


def test_a_socket_that_cannot_keep_up_is_closed_so_its_client_replays() -> None:
    async def scenario() -> None:
        fake = FakeSocket()
        subscriber = Subscriber(fake.send, fake.close)
        subscriber.go_live()
        fake.writable.clear()
        for index in range(OUTBOX_LIMIT + 5):
            subscriber.deliver(str(index))
        await asyncio.sleep(0.01)
        assert fake.closed_with == [CLOSE_TOO_SLOW]
        fake.writable.set()
        await asyncio.sleep(0.01)
        # The event stuck in the paused write may land; nothing queued after the close does.
        assert fake.sent in ([], ["0"])
        subscriber.deliver("late")
        assert "late" not in fake.sent

    async_to_sync(scenario)()


def test_a_send_to_a_gone_client_stops_the_socket_quietly() -> None:
    async def scenario() -> None:
        async def broken(message: dict[str, Any]) -> None:
            raise OSError("connection reset")

        async def close(code: int) -> None:
            raise AssertionError("nothing to close")

        subscriber = Subscriber(broken, close)
        subscriber.go_live()
        subscriber.deliver("x")
        assert subscriber.closed
        subscriber.deliver("y")  # ignored, no error

    async_to_sync(scenario)()
