from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from integrations.config import PlatformConfig
from integrations.providers.linkedin.connector import LinkedInConnector
from integrations.records import TokenSet
from tests.integrations.linkedin.fake import VERSION, FakeLinkedIn
from tests.integrations.loopback import FakeClock, Switchboard, serve


@pytest.fixture
def fake() -> FakeLinkedIn:
    return FakeLinkedIn()


@pytest.fixture(scope="module")
def switchboard() -> Iterator[Switchboard]:
    yield from serve()


@pytest.fixture
def server(switchboard: Switchboard, fake: FakeLinkedIn) -> Iterator[str]:
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
    server: str, fake: FakeLinkedIn, clock: FakeClock, refreshed: list[TokenSet]
) -> Callable[..., LinkedInConnector]:
    def make(
        token: TokenSet | None = None, version: str = VERSION, timeout: float = 2.0
    ) -> LinkedInConnector:
        url = server
        config = PlatformConfig(
            platform="linkedin",
            api_base=url,
            oauth_base=url,
            api_version=version,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            timeout=timeout,
        )
        if token is None:
            token = TokenSet(
                access_token="li-access-AAA",
                refresh_token="li-refresh-RRR",
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
            )
        return LinkedInConnector(
            config=config,
            token=token,
            on_token_refreshed=refreshed.append,
            sleep=clock.sleep,
            rate_limiter=clock.limiter(),
        )

    return make


@pytest.fixture
def connector(make_connector: Callable[..., LinkedInConnector]) -> LinkedInConnector:
    return make_connector()
