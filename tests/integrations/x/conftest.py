from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from integrations.config import PlatformConfig
from integrations.providers.x.connector import XConnector
from integrations.records import TokenSet
from tests.integrations.loopback import FakeClock, Switchboard, serve
from tests.integrations.x.fake import FakeX


@pytest.fixture(scope="module")
def switchboard() -> Iterator[Switchboard]:
    yield from serve()


@pytest.fixture
def fake() -> FakeX:
    return FakeX()


@pytest.fixture
def server(switchboard: Switchboard, fake: FakeX) -> Iterator[str]:
    switchboard.fake = fake
    yield switchboard.url
    switchboard.fake = None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_connector(server: str, fake: FakeX, clock: FakeClock) -> Callable[..., XConnector]:
    def make(
        token: TokenSet | None = None,
        secret: str | None = None,
        timeout: float = 2.0,
        extra: dict[str, str] | None = None,
    ) -> XConnector:
        config = PlatformConfig(
            platform="x",
            api_base=server,
            oauth_base=server,
            api_version="12",
            client_id=fake.consumer_key,
            client_secret=secret or fake.consumer_secret,
            timeout=timeout,
        )
        if token is None:
            token = TokenSet(access_token="x-access-AAA", token_secret="x-token-secret-SSS")
        return XConnector(
            config=config, token=token, extra=extra, sleep=clock.sleep, rate_limiter=clock.limiter()
        )

    return make


@pytest.fixture
def connector(make_connector: Callable[..., XConnector]) -> XConnector:
    return make_connector()
