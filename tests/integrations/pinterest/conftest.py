from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from integrations.providers.pinterest.connector import PinterestConnector
from integrations.records import TokenSet
from tests.integrations.bearer_fixtures import (  # noqa: F401 - fixtures used by the tests
    bearer_connector_factory,
    clock,
    refreshed,
    server,
    switchboard,
)
from tests.integrations.loopback import FakeClock
from tests.integrations.pinterest.fake import FakePinterest


@pytest.fixture
def fake() -> FakePinterest:
    return FakePinterest()


@pytest.fixture
def make_connector(
    server: str, fake: FakePinterest, clock: FakeClock, refreshed: list[TokenSet]
) -> Callable[..., Any]:
    return bearer_connector_factory(
        PinterestConnector,
        platform="pinterest",
        api_version="v5",
        access_token="pina_AAA",
        refresh_token="pinr_RRR",
        lifetime=dt.timedelta(days=20),
        server=server,
        fake=fake,
        clock=clock,
        refreshed=refreshed,
    )


@pytest.fixture
def connector(make_connector: Callable[..., PinterestConnector]) -> PinterestConnector:
    return make_connector()  # type: ignore[no-any-return]
