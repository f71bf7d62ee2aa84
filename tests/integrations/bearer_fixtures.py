"""Fixtures shared by the OAuth 2.0 bearer platforms' tests (LinkedIn, Pinterest, Snapchat).

A platform's conftest imports these, defines `fake`, and builds `make_connector` with
`bearer_connector_factory`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from integrations.config import PlatformConfig
from integrations.connector import AdsConnector
from integrations.records import TokenSet
from tests.integrations.loopback import FakeClock, Switchboard, serve


@pytest.fixture(scope="module")
def switchboard() -> Iterator[Switchboard]:
    yield from serve()


@pytest.fixture
def server(switchboard: Switchboard, fake: Any) -> Iterator[str]:
    switchboard.fake = fake
    yield switchboard.url
    switchboard.fake = None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def refreshed() -> list[TokenSet]:
    return []


def bearer_connector_factory(
    connector_class: type[AdsConnector],
    *,
    platform: str,
    api_version: str,
    access_token: str,
    refresh_token: str,
    lifetime: dt.timedelta,
    server: str,
    fake: Any,
    clock: FakeClock,
    refreshed: list[TokenSet],
) -> Callable[..., Any]:
    """`make(token=None, version=api_version, timeout=2.0)` -> a connector on the fake."""

    def make(
        token: TokenSet | None = None, version: str = api_version, timeout: float = 2.0
    ) -> Any:
        config = PlatformConfig(
            platform=platform,
            api_base=server,
            oauth_base=server,
            api_version=version,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            timeout=timeout,
        )
        if token is None:
            token = TokenSet(
                access_token=access_token,
                refresh_token=refresh_token,
                expires_at=dt.datetime.now(dt.UTC) + lifetime,
            )
        return connector_class(
            config=config,
            token=token,
            on_token_refreshed=refreshed.append,
            sleep=clock.sleep,
            rate_limiter=clock.limiter(),
        )

    return make
