"""The suite runs on the real services when they are configured (and CI requires them)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_database_is_the_configured_one() -> None:
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"

    assert connection.vendor == expected


def test_channel_layer_round_trip_over_redis(redis_url: str) -> None:
    assert (
        settings.CHANNEL_LAYERS["default"]["BACKEND"]
        == "channels_redis.pubsub.RedisPubSubChannelLayer"
    )
    layer = get_channel_layer()
    assert layer is not None

    async def round_trip() -> dict[str, object]:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "probe", "value": 42})
        return await layer.receive(channel)  # type: ignore[no-any-return]

    # A fresh thread and loop: another test's browser may own this thread's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        message = pool.submit(asyncio.run, round_trip()).result(timeout=10)

    assert message == {"type": "probe", "value": 42}
