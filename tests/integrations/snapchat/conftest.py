from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from integrations.config import PlatformConfig
from integrations.providers.snapchat.connector import SnapchatConnector
from integrations.records import TokenSet
from tests.integrations.loopback import FakeClock, Switchboard, serve
from tests.integrations.snapchat.fake import FakeSnapchat


@pytest.fixture
def fake() -> FakeSnapchat:
    return FakeSnapchat()


@pytest.fixture(scope="module")
def switchboard() -> Iterator[Switchboard]:
    yield from serve()


@pytest.fixture
def server(switchboard: Switchboard, fake: FakeSnapchat) -> Iterator[str]:
    switchboard.fake = fake
    yield switchboard.url
    switchboard.fake = None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def refreshed() -> list[TokenSet]:
    return []


@pytest.fixture
def make_connector(
    server: str, fake: FakeSnapchat, clock: FakeClock, refreshed: list[TokenSet]
) -> Callable[..., SnapchatConnector]:
    def make(token: TokenSet | None = None, timeout: float = 2.0) -> SnapchatConnector:
        url = server
        config = PlatformConfig(
            platform="snapchat",
            api_base=url,
            oauth_base=url,
            api_version="v1",
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            timeout=timeout,
        )
        if token is None:
            token = TokenSet(
                access_token="snap-access-AAA",
                refresh_token="snap-refresh-RRR",
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50),
            )
        return SnapchatConnector(
            config=config,
            token=token,
            on_token_refreshed=refreshed.append,
            sleep=clock.sleep,
            rate_limiter=clock.limiter(),
        )

    return make


@pytest.fixture
def connector(make_connector: Callable[..., SnapchatConnector]) -> SnapchatConnector:
    return make_connector()
