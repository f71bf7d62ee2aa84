"""The scaffolding the LinkedIn, Snapchat, Pinterest and X connectors share.

Each holds one API client built once from the platform config with the transport seams
(limiter, sleep, wall clock); the three OAuth 2.0 platforms adopt a token answer the same
way; all four map our campaign status onto their word, list raw entities once each, and
refuse a status they have no word for before calling.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast
from urllib.parse import urlencode

from integrations.clients.errors import InvalidRequest
from integrations.clients.ratelimit import RateLimiter
from integrations.config import PlatformConfig
from integrations.connector import AdsConnector, TokenCallback
from integrations.providers.bearer_client import BearerTokenClient, token_set_from_oauth
from integrations.providers.toolkit import unique_by, utcnow
from integrations.records import TokenSet

ClientT = TypeVar("ClientT")
BearerClientT = TypeVar("BearerClientT", bound=BearerTokenClient)


class ClientConnector(AdsConnector, Generic[ClientT]):
    client: ClientT

    def __init__(
        self,
        *,
        config: PlatformConfig,
        token: TokenSet | None = None,
        on_token_refreshed: TokenCallback | None = None,
        extra: dict[str, str] | None = None,
        sleep: Callable[[float], None] | None = None,
        rate_limiter: RateLimiter | None = None,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(
            config=config, token=token, on_token_refreshed=on_token_refreshed, extra=extra
        )
        # Only the seams a test (or a worker) sets; the client's defaults stand otherwise.
        options: dict[str, Any] = {"rate_limiter": rate_limiter}
        if sleep is not None:
            options["sleep"] = sleep
        if wall_clock is not None:
            options["wall_clock"] = wall_clock
        self.client = self.build_client(options)

    @abc.abstractmethod
    def build_client(self, options: dict[str, Any]) -> ClientT:
        """The platform's API client from `self.config`, passing `options` on."""

    def status_wire(self, status: str, table: Mapping[str, str]) -> str:
        """The platform's word for our campaign `status`; refused before any call if none."""
        wire = table.get(status)
        if wire is None:
            raise InvalidRequest(f"cannot set status {status}", platform=self.platform)
        return wire

    @staticmethod
    def unique_raw(raws: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Raw entities by id, once each (a page served twice yields no duplicate)."""
        return unique_by(raws, lambda raw: str(raw["id"]))


class BearerConnector(ClientConnector[BearerClientT]):
    """An OAuth 2.0 platform whose client sends the token as a bearer and refreshes it."""

    def refresh_token_to_use(self) -> str:
        if self.token is None or not self.token.refresh_token:
            raise InvalidRequest("no refresh token to use", platform=self.platform)
        return self.token.refresh_token

    def adopt_token(self, payload: Mapping[str, Any] | None, *, refreshed: bool) -> TokenSet:
        """The token of an answer of the token endpoint, now the connector's and the
        client's; a refreshed one is reported to `on_token_refreshed` (to be stored)."""
        token = token_set_from_oauth(
            payload or {}, now=utcnow(), previous=self.token if refreshed else None
        )
        self.token = token
        self.client.token = token
        if refreshed and self.on_token_refreshed is not None:
            self.on_token_refreshed(token)
        return token


class FormTokenClient(Protocol):
    def token_call(self, token_url: str, form: Mapping[str, str]) -> Any: ...


class FormGrantConnector(BearerConnector[BearerClientT]):
    """The OAuth 2.0 code flow with the client's id and secret in the token form's body
    (LinkedIn, Snapchat): the platform names its two paths and its scope."""

    authorize_path: ClassVar[str]
    token_path: ClassVar[str]
    scope: ClassVar[str]

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.scope,
                "state": state,
            }
        )
        return f"{self.config.oauth_base}{self.authorize_path}?{query}"

    def _token_form(self, grant: dict[str, str]) -> Any:
        client = cast(FormTokenClient, self.client)
        form = {
            **grant,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
        }
        return client.token_call(f"{self.config.oauth_base}{self.token_path}", form)

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        payload = self._token_form(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )
        return self.adopt_token(payload, refreshed=False)

    def refresh_token(self) -> TokenSet:
        payload = self._token_form(
            {"grant_type": "refresh_token", "refresh_token": self.refresh_token_to_use()}
        )
        return self.adopt_token(payload, refreshed=True)
