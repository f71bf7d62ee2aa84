from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from integrations.config import PlatformConfig
from integrations.providers.pinterest.connector import PinterestConnector
from integrations.records import TokenSet
from tests.integrations.loopback import FakeClock, Switchboard, serve
from tests.integrations.pinterest.fake import FakePinterest


@pytest.fixture
def fake() -> FakePinterest:
    return FakePinterest()


@pytest.fixture(scope="module")
def switchboard() -> Iterator[Switchboard]:
    yield from serve()


@pytest.fixture
def server(switchboard: Switchboard, fake: FakePinterest) -> Iterator[str]:
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
    server: str, fake: FakePinterest, clock: FakeClock, refreshed: list[TokenSet]
) -> Callable[..., PinterestConnector]:
    def make(token: TokenSet | None = None, timeout: float = 2.0) -> PinterestConnector:
        url = server
        config = PlatformConfig(
            platform="pinterest",
            api_base=url,
            oauth_base=url,
            api_version="v5",
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            timeout=timeout,
        )
        if token is None:
            token = TokenSet(
                access_token="pina_AAA",
                refresh_token="pinr_RRR",
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=20),
            )
        return PinterestConnector(
            config=config,
            token=token,
            on_token_refreshed=refreshed.append,
            sleep=clock.sleep,
            rate_limiter=clock.limiter(),
        )

    return make


@pytest.fixture
def connector(make_connector: Callable[..., PinterestConnector]) -> PinterestConnector:
    return make_connector()
