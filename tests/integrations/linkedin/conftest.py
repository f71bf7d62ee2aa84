from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from integrations.providers.linkedin.connector import LinkedInConnector
from integrations.records import TokenSet
from tests.integrations.bearer_fixtures import (  # noqa: F401 - fixtures used by the tests
    bearer_connector_factory,
    clock,
    refreshed,
    server,
    switchboard,
)
from tests.integrations.linkedin.fake import VERSION, FakeLinkedIn
from tests.integrations.loopback import FakeClock


@pytest.fixture
def fake() -> FakeLinkedIn:
    return FakeLinkedIn()


@pytest.fixture
def make_connector(
    server: str, fake: FakeLinkedIn, clock: FakeClock, refreshed: list[TokenSet]
) -> Callable[..., Any]:
    return bearer_connector_factory(
        LinkedInConnector,
        platform="linkedin",
        api_version=VERSION,
        access_token="li-access-AAA",
        refresh_token="li-refresh-RRR",
        lifetime=dt.timedelta(days=30),
        server=server,
        fake=fake,
        clock=clock,
        refreshed=refreshed,
    )


@pytest.fixture
def connector(make_connector: Callable[..., LinkedInConnector]) -> LinkedInConnector:
    return make_connector()  # type: ignore[no-any-return]
