"""X (Twitter) Ads API v12: OAuth 1.0a-signed calls, cursor paging, micros.

Every call is signed with HMAC-SHA1 over the consumer secret and the user's token secret
(requests-oauthlib `OAuth1`). Tokens do not expire, so there is nothing to refresh: a 401
means the user revoked access. X reports its limits in `x-rate-limit-*` (per user) and
`x-account-rate-limit-*` (per ad account) headers; the client slows down as `remaining`
runs low and stops until `reset` when it hits zero.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote

import requests
from requests_oauthlib import OAuth1

from integrations.clients.base import HttpApiClient, Json
from integrations.clients.errors import (
    AuthExpired,
    InvalidRequest,
    PermissionDenied,
    PlatformUnavailable,
    RateLimited,
)
from integrations.providers.toolkit import fingerprint, scrub
from integrations.records import TokenSet

# oauthlib and requests-oauthlib log the signed Authorization header (with the token) at
# DEBUG; keep them quiet so no credential reaches a log, whatever the root level.
for _name in ("oauthlib", "requests_oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)

PERMISSION_CODES = {
    "UNAUTHORIZED_CLIENT_APPLICATION",
    "READONLY_CLIENT_APPLICATION",
    "ACCOUNT_NOT_FOUND",
}


class XClient(HttpApiClient):
    platform = "x"
    # Sync stats allow 250 calls / 15 min per user; the headers steer the rest.
    rate_per_second = 5.0
    burst = 10
    page_size: ClassVar[int] = 1000
    # Slow down once fewer than this share of the window's calls remain.
    slow_down_below: ClassVar[float] = 0.1

    def __init__(
        self,
        *,
        version: str,
        consumer_key: str,
        consumer_secret: str,
        token: TokenSet | None,
        wall_clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.version = version
        self.consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self.token = token
        self._wall_clock = wall_clock
        self._handshake_auth: OAuth1 | None = None

    # --- signing --------------------------------------------------------------------------
    def request_auth(self) -> Any:
        if self._handshake_auth is not None:
            return self._handshake_auth
        if self.token is None or not self.token.token_secret:
            raise AuthExpired("no token: connect the account first", platform=self.platform)
        return OAuth1(
            self.consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=self.token.access_token,
            resource_owner_secret=self.token.token_secret,
            signature_type="AUTH_HEADER",
        )

    def rate_limit_key(self) -> str:
        label = fingerprint(self.token.access_token) if self.token else "anonymous"
        return f"{self.platform}:{label}"

    def secrets(self) -> Iterable[str]:
        if self.token is not None:
            yield from (self.token.access_token, self.token.token_secret)
        yield self._consumer_secret

    # --- rate limits --------------------------------------------------------------------
    def _limit_headers(self, response: requests.Response) -> tuple[int, int, float] | None:
        # The account family is the tighter, more specific one when present.
        for family in ("x-account-rate-limit", "x-rate-limit"):
            remaining = response.headers.get(f"{family}-remaining")
            reset = response.headers.get(f"{family}-reset")
            if remaining is None or reset is None:
                continue
            try:
                limit = int(response.headers.get(f"{family}-limit") or 0)
                return int(remaining), limit, max(0.0, float(reset) - self._wall_clock())
            except ValueError:
                return None
        return None

    def observe_rate_limits(self, response: requests.Response) -> None:
        seen = self._limit_headers(response)
        if seen is None or response.status_code == 429:
            return
        remaining, limit, until_reset = seen
        if remaining <= 0:
            self.rate_limiter.block(self.rate_limit_key(), seconds=until_reset)
        elif limit and remaining < max(2, limit * self.slow_down_below):
            # Spread what is left over the rest of the window instead of bursting into a wall.
            self.rate_limiter.block(self.rate_limit_key(), seconds=until_reset / (remaining + 1))

    # --- errors ---------------------------------------------------------------------------
    def _decode(self, response: requests.Response) -> Json:
        # The OAuth handshake answers form-encoded, not JSON.
        if self._handshake_auth is not None and response.status_code < 400:
            return dict(parse_qsl(response.text))
        return super()._decode(response)

    def raise_for_error(self, response: requests.Response, payload: Json) -> None:
        status = response.status_code
        if status < 400:
            return
        errors = payload.get("errors") if isinstance(payload, dict) else None
        first = (
            errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        )
        code = first.get("code")
        message = str(first.get("message") or f"HTTP {status}")
        if first.get("parameter"):
            message += f" (parameter {first['parameter']})"
        message = scrub(message, self.secrets())
        kwargs: dict[str, Any] = {"platform": self.platform, "status_code": status, "code": code}
        if status == 401:
            raise AuthExpired(message, **kwargs)
        if status == 429:
            seen = self._limit_headers(response)
            retry_after = seen[2] if seen else None
            raise RateLimited(message, retry_after=retry_after, **kwargs)
        if status >= 500 or status in (408, 423):
            # 408 CANCELLED_REQUEST and 423 LOCK_ACQUISITION_TIMEOUT are transient.
            raise PlatformUnavailable(message, **kwargs)
        if status == 403 or code in PERMISSION_CODES:
            raise PermissionDenied(message, **kwargs)
        raise InvalidRequest(message, **kwargs)

    # --- OAuth 1.0a handshake -----------------------------------------------------------
    @contextmanager
    def _signing_with(self, auth: OAuth1) -> Iterator[None]:
        self._handshake_auth = auth
        try:
            yield
        finally:
            self._handshake_auth = None

    def request_token(self, oauth_base: str, callback: str) -> dict[str, str]:
        """POST /oauth/request_token (step 1 of 3).

        https://docs.x.com/fundamentals/authentication/oauth-1-0a/obtaining-user-access-tokens
        """
        auth = OAuth1(self.consumer_key, client_secret=self._consumer_secret, callback_uri=callback)
        with self._signing_with(auth):
            return self.request("POST", f"{oauth_base}/oauth/request_token", idempotent=False) or {}

    def access_token(
        self, oauth_base: str, request_token: str, request_secret: str, verifier: str
    ) -> dict[str, str]:
        """POST /oauth/access_token with the verifier (step 3 of 3).

        https://docs.x.com/fundamentals/authentication/oauth-1-0a/obtaining-user-access-tokens
        """
        auth = OAuth1(
            self.consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=request_token,
            resource_owner_secret=request_secret,
            verifier=verifier,
        )
        with self._signing_with(auth):
            return self.request("POST", f"{oauth_base}/oauth/access_token", idempotent=False) or {}

    # --- reads ----------------------------------------------------------------------------
    def _path(self, template: str, *ids: str) -> str:
        return f"/{self.version}" + template.format(*(quote(i, safe="") for i in ids))

    def _cursor_pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Follow `next_cursor` until null (or repeated: a server loop)."""

        def pages() -> Iterator[Json]:
            cursor: str | None = None
            seen: set[str] = set()
            while True:
                query = {**params, "count": self.page_size}
                if cursor:
                    query["cursor"] = cursor
                page = self.request("GET", path, params=query) or {}
                yield page
                cursor = page.get("next_cursor")
                if not cursor or cursor in seen:
                    return
                seen.add(cursor)

        for page in self.paginate_pages(pages()):
            yield from page.get("data") or []

    def accounts(self) -> Iterator[dict[str, Any]]:
        """GET /12/accounts

        https://docs.x.com/x-ads-api/campaign-management#accounts
        """
        return self._cursor_pages(self._path("/accounts"), {})

    def account(self, account_id: str) -> dict[str, Any]:
        """GET /12/accounts/:account_id

        https://docs.x.com/x-ads-api/campaign-management#accounts
        """
        return (self.request("GET", self._path("/accounts/{}", account_id)) or {}).get("data") or {}

    def funding_instruments(self, account_id: str) -> list[dict[str, Any]]:
        """GET /12/accounts/:account_id/funding_instruments (currency lives here)

        https://docs.x.com/x-ads-api/campaign-management#funding-instruments
        """
        return list(
            self._cursor_pages(self._path("/accounts/{}/funding_instruments", account_id), {})
        )

    def entities(self, account_id: str, kind: str) -> Iterator[dict[str, Any]]:
        """GET /12/accounts/:account_id/{campaigns|line_items|promoted_tweets}, deleted included.

        https://docs.x.com/x-ads-api/campaign-management#campaigns
        """
        return self._cursor_pages(
            self._path("/accounts/{}/" + kind, account_id), {"with_deleted": "true"}
        )

    def campaign(self, account_id: str, campaign_id: str) -> dict[str, Any]:
        """GET /12/accounts/:account_id/campaigns/:campaign_id

        https://docs.x.com/x-ads-api/campaign-management#campaigns
        """
        path = self._path("/accounts/{}/campaigns/{}", account_id, campaign_id)
        return (self.request("GET", path, params={"with_deleted": "true"}) or {}).get("data") or {}

    def tweets(self, account_id: str, tweet_ids: list[str]) -> list[dict[str, Any]]:
        """GET /12/accounts/:account_id/tweets?tweet_ids=... (text of promoted posts)

        https://docs.x.com/x-ads-api/creatives#tweets
        """
        path = self._path("/accounts/{}/tweets", account_id)
        params = {"tweet_ids": ",".join(tweet_ids), "tweet_type": "PUBLISHED"}
        return list(self._cursor_pages(path, params))

    def active_entities(
        self, account_id: str, entity: str, start_time: str, end_time: str
    ) -> list[dict[str, Any]]:
        """GET /12/stats/accounts/:account_id/active_entities

        https://docs.x.com/x-ads-api/analytics#active-entities
        """
        path = self._path("/stats/accounts/{}/active_entities", account_id)
        params = {"entity": entity, "start_time": start_time, "end_time": end_time}
        return list((self.request("GET", path, params=params) or {}).get("data") or [])

    def stats(
        self,
        account_id: str,
        *,
        entity: str,
        entity_ids: list[str],
        start_time: str,
        end_time: str,
        placement: str,
        metric_groups: str,
    ) -> list[dict[str, Any]]:
        """GET /12/stats/accounts/:account_id (sync: ≤20 ids, ≤7 days, whole hours)

        https://docs.x.com/x-ads-api/analytics#synchronous-analytics
        """
        if len(entity_ids) > 20:
            raise InvalidRequest("at most 20 entity_ids per stats call", platform=self.platform)
        params = {
            "entity": entity,
            "entity_ids": ",".join(entity_ids),
            "start_time": start_time,
            "end_time": end_time,
            "granularity": "DAY",
            "metric_groups": metric_groups,
            "placement": placement,
        }
        path = self._path("/stats/accounts/{}", account_id)
        return list((self.request("GET", path, params=params) or {}).get("data") or [])

    # --- writes ---------------------------------------------------------------------------
    def create_campaign(self, account_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """POST /12/accounts/:account_id/campaigns. Not retried: X has no idempotency key.

        https://docs.x.com/x-ads-api/campaign-management#campaigns
        """
        path = self._path("/accounts/{}/campaigns", account_id)
        payload = self.request("POST", path, params=dict(params), idempotent=False) or {}
        return payload.get("data") or {}

    def update_entity(
        self, account_id: str, kind: str, entity_id: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PUT /12/accounts/:account_id/{campaigns|line_items|promoted_tweets}/:id (sets
        fields: idempotent)

        https://docs.x.com/x-ads-api/campaign-management#campaigns
        """
        path = self._path("/accounts/{}/" + kind + "/{}", account_id, entity_id)
        return (self.request("PUT", path, params=dict(params)) or {}).get("data") or {}

    def entity(self, account_id: str, kind: str, entity_id: str) -> dict[str, Any]:
        """GET /12/accounts/:account_id/{line_items|promoted_tweets}/:id"""
        path = self._path("/accounts/{}/" + kind + "/{}", account_id, entity_id)
        return (self.request("GET", path, params={"with_deleted": "true"}) or {}).get("data") or {}

    def targeting_criteria(self, account_id: str, line_item_id: str) -> list[dict[str, Any]]:
        """GET /12/accounts/:account_id/targeting_criteria?line_item_ids=...

        https://docs.x.com/x-ads-api/campaign-management#targeting-criteria
        """
        path = self._path("/accounts/{}/targeting_criteria", account_id)
        return list(self._cursor_pages(path, {"line_item_ids": line_item_id}))

    def batch_targeting_criteria(
        self, account_id: str, operations: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """POST /12/batch/accounts/:account_id/targeting_criteria: Create / Delete operations
        applied together (a line item never goes without its criterion in between). Deleting
        an id and creating the same value again are both harmless to repeat, so retried.

        https://docs.x.com/x-ads-api/campaign-management#batch-targeting-criteria
        """
        path = self._path("/batch/accounts/{}/targeting_criteria", account_id)
        payload = self.request("POST", path, json_body=operations, idempotent=True) or {}
        return list(payload.get("data") or [])

    def delete_campaign(self, account_id: str, campaign_id: str) -> dict[str, Any]:
        """DELETE /12/accounts/:account_id/campaigns/:campaign_id (permanent; stats remain)

        https://docs.x.com/x-ads-api/campaign-management#campaigns
        """
        path = self._path("/accounts/{}/campaigns/{}", account_id, campaign_id)
        return (self.request("DELETE", path) or {}).get("data") or {}
