from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from integrations.providers.snapchat.connector import SnapchatConnector
from integrations.records import TokenSet
from tests.integrations.bearer_fixtures import (  # noqa: F401 - fixtures used by the tests
    bearer_connector_factory,
    clock,
    refreshed,
    server,
    switchboard,
)
from tests.integrations.loopback import FakeClock
from tests.integrations.snapchat.fake import FakeSnapchat


@pytest.fixture
def fake() -> FakeSnapchat:
    return FakeSnapchat()


@pytest.fixture
def make_connector(
    server: str, fake: FakeSnapchat, clock: FakeClock, refreshed: list[TokenSet]
) -> Callable[..., Any]:
    return bearer_connector_factory(
        SnapchatConnector,
        platform="snapchat",
        api_version="v1",
        access_token="snap-access-AAA",
        refresh_token="snap-refresh-RRR",
        lifetime=dt.timedelta(minutes=50),
        server=server,
        fake=fake,
        clock=clock,
        refreshed=refreshed,
    )


@pytest.fixture
def connector(make_connector: Callable[..., SnapchatConnector]) -> SnapchatConnector:
    return make_connector()  # type: ignore[no-any-return]
