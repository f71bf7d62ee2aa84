"""What the OAuth 2.0 bearer-token providers (LinkedIn, Snapchat, Pinterest) share.

A client holds the current `TokenSet`, sends it as `Authorization: Bearer`, refreshes it
ahead of expiry and once more when the platform answers 401, and scrubs every secret it
knows from the messages of the errors it raises. The token call itself lives in the
connector (each platform authenticates it differently); the client only calls back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from integrations.clients.base import HttpApiClient
from integrations.clients.errors import AuthExpired, PlatformError
from integrations.providers.toolkit import fingerprint, scrub, utcnow
from integrations.records import TokenSet


def token_set_from_oauth(
    payload: Mapping[str, Any], *, now: dt.datetime, previous: TokenSet | None = None
) -> TokenSet:
    """A `TokenSet` from an RFC 6749 token response.

    A refresh response may omit `refresh_token` (the old one stays valid), so the previous
    one is kept then.
    """
    access = payload.get("access_token")
    if not isinstance(access, str) or not access:
        raise AuthExpired("the token response carried no access_token")
    expires_in = payload.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float | str) and str(expires_in).isdigit():
        expires_at = now + dt.timedelta(seconds=int(expires_in))
    refresh = payload.get("refresh_token") or (previous.refresh_token if previous else "")
    scope = payload.get("scope") or (previous.scope if previous else "")
    if isinstance(scope, list):
        scope = ",".join(str(s) for s in scope)
    return TokenSet(
        access_token=access,
        refresh_token=str(refresh or ""),
        expires_at=expires_at,
        scope=str(scope),
    )


class BearerTokenClient(HttpApiClient):
    """HttpApiClient with a bearer token that refreshes itself through `refresher`."""

    # Refresh this long before the platform's expiry so a listing does not straddle it.
    refresh_margin_seconds: ClassVar[float] = 300.0

    def __init__(
        self,
        *,
        token: TokenSet | None,
        refresher: Callable[[], TokenSet] | None = None,
        client_secret: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.token = token
        self._refresher = refresher
        self._client_secret = client_secret

    # --- token handling ---------------------------------------------------------------
    def auth_headers(
        self, method: str, url: str, params: Mapping[str, Any] | None
    ) -> Mapping[str, str]:
        if self.token is None:
            raise AuthExpired("no token: connect the account first", platform=self.platform)
        if self.can_refresh() and self.token.expires_within(
            self.refresh_margin_seconds, now=utcnow()
        ):
            self.refresh_auth()
        return {"Authorization": f"Bearer {self.token.access_token}"}

    def can_refresh(self) -> bool:
        return self._refresher is not None and bool(self.token and self.token.refresh_token)

    def refresh_auth(self) -> None:
        if self._refresher is None:
            raise AuthExpired("token expired and cannot be refreshed", platform=self.platform)
        self.token = self._refresher()

    def rate_limit_key(self) -> str:
        # Platforms count per app and token; a hash names the token without exposing it.
        label = fingerprint(self.token.access_token) if self.token else "anonymous"
        return f"{self.platform}:{label}"

    # --- secrets never leave in messages -----------------------------------------------
    def secrets(self) -> Iterable[str]:
        if self.token is not None:
            yield from (self.token.access_token, self.token.refresh_token, self.token.token_secret)
        yield self._client_secret

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets())

    def error(self, cls: type[PlatformError], message: str, **kwargs: Any) -> PlatformError:
        return cls(self.scrub(message), platform=self.platform, **kwargs)
