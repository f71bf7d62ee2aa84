"""Pinterest API v5 (ads): bookmark paging, batch writes with per-item exceptions, micros.

The token endpoint lives on the API host and authenticates the app with HTTP Basic.
Limits are per user, app and endpoint category (ads_read, ads_write, ads_analytics);
over them Pinterest answers 429 (or body code 8) and says when to come back in
`X-RateLimit-Reset`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from integrations.clients.base import Json
from integrations.clients.errors import (
    AuthExpired,
    InvalidRequest,
    PermissionDenied,
    PlatformUnavailable,
    RateLimited,
)
from integrations.providers.bearer_client import BearerTokenClient

# Analytics answers 400 for some passing troubles; these say "try again".
TRANSIENT_MARKERS = ("retry after", "something went wrong")


def item_errors(payload: Json) -> list[str]:
    """Messages of the items a batch write refused (`items[].exceptions`)."""
    out = []
    for item in (payload or {}).get("items") or []:
        for exception in item.get("exceptions") or []:
            out.append(f"{exception.get('message') or 'refused'} (code {exception.get('code')})")
    return out


class PinterestClient(BearerTokenClient):
    platform = "pinterest"
    # ads_analytics allows 300 calls a minute per user and app: 5 a second.
    rate_per_second = 5.0
    burst = 10
    page_size: ClassVar[int] = 250
    batch_size: ClassVar[int] = 30

    def __init__(self, *, wall_clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wall_clock = wall_clock

    def _retry_after(self, response: requests.Response) -> float | None:
        reset = response.headers.get("X-RateLimit-Reset")
        try:
            value = float(reset) if reset else None
        except ValueError:
            return None
        if value is None:
            return None
        # An epoch timestamp or a number of seconds: either way, seconds from now.
        return max(0.0, value - self._wall_clock()) if value > 1e9 else value

    def raise_for_error(self, response: requests.Response, payload: Json) -> None:
        status = response.status_code
        if status < 400:
            return
        body = payload if isinstance(payload, dict) else {}
        code = body.get("code") if "code" in body else body.get("error")
        message = str(body.get("message") or body.get("error_description") or f"HTTP {status}")
        kwargs: dict[str, Any] = {"status_code": status, "code": code}
        if body.get("error") == "invalid_grant" or status == 401:
            raise self.error(AuthExpired, message, **kwargs)
        if status == 429 or code == 8:
            raise RateLimited(
                self.scrub(message),
                retry_after=self._retry_after(response),
                platform=self.platform,
                **kwargs,
            )
        if status >= 500 or code == 12 or any(m in message.lower() for m in TRANSIENT_MARKERS):
            raise self.error(PlatformUnavailable, message, **kwargs)
        if status == 403:
            raise self.error(PermissionDenied, message, **kwargs)
        raise self.error(InvalidRequest, message, **kwargs)

    # --- OAuth ----------------------------------------------------------------------------
    def token_call(self, client_id: str, client_secret: str, form: Mapping[str, str]) -> Json:
        """POST /v5/oauth/token with HTTP Basic client auth (code or refresh_token grant).

        https://developers.pinterest.com/docs/getting-started/authentication-and-scopes/
        """
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        return self.request(
            "POST",
            "/v5/oauth/token",
            data=form,
            headers={"Authorization": f"Basic {basic}"},
            authenticated=False,
            idempotent=False,
        )

    # --- reads ----------------------------------------------------------------------------
    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Follow `bookmark` until null (or repeated: a server loop)."""

        def pages() -> Iterator[Json]:
            bookmark: str | None = None
            seen: set[str] = set()
            while True:
                query = {**params, "page_size": self.page_size}
                if bookmark:
                    query["bookmark"] = bookmark
                page = self.request("GET", path, params=query) or {}
                yield page
                bookmark = page.get("bookmark")
                if not bookmark or bookmark in seen:
                    return
                seen.add(bookmark)

        for page in self.paginate_pages(pages()):
            yield from page.get("items") or []

    def ad_accounts(self) -> Iterator[dict[str, Any]]:
        """GET /v5/ad_accounts

        https://developers.pinterest.com/docs/api/v5/ad_accounts-list
        """
        return self._pages("/v5/ad_accounts", {})

    def ad_account(self, account_id: str) -> dict[str, Any]:
        """GET /v5/ad_accounts/{ad_account_id}

        https://developers.pinterest.com/docs/api/v5/ad_accounts-get
        """
        return self.request("GET", f"/v5/ad_accounts/{quote(account_id, safe='')}") or {}

    def entities(self, account_id: str, kind: str) -> Iterator[dict[str, Any]]:
        """GET /v5/ad_accounts/{id}/{campaigns|ad_groups|ads}, every status.

        https://developers.pinterest.com/docs/api/v5/campaigns-list
        """
        statuses = "ACTIVE,PAUSED,ARCHIVED,DRAFT,DELETED_DRAFT"
        return self._pages(
            f"/v5/ad_accounts/{quote(account_id, safe='')}/{kind}", {"entity_statuses": statuses}
        )

    def campaign(self, account_id: str, campaign_id: str) -> dict[str, Any]:
        """GET /v5/ad_accounts/{id}/campaigns/{campaign_id}

        https://developers.pinterest.com/docs/api/v5/campaigns-get
        """
        path = (
            f"/v5/ad_accounts/{quote(account_id, safe='')}/campaigns/{quote(campaign_id, safe='')}"
        )
        return self.request("GET", path) or {}

    def entity(self, account_id: str, kind: str, entity_id: str) -> dict[str, Any]:
        """GET /v5/ad_accounts/{id}/{ad_groups|ads}/{entity_id}

        https://developers.pinterest.com/docs/api/v5/ad_groups-get
        """
        path = f"/v5/ad_accounts/{quote(account_id, safe='')}/{kind}/{quote(entity_id, safe='')}"
        return self.request("GET", path) or {}

    def analytics(
        self,
        account_id: str,
        kind: str,
        *,
        id_param: str,
        ids: list[str],
        start: str,
        end: str,
        columns: str,
    ) -> list[dict[str, Any]]:
        """GET /v5/ad_accounts/{id}/{campaigns|ads}/analytics (≤90 days, ≤250 ids, DAY)

        https://developers.pinterest.com/docs/api/v5/campaigns-analytics
        """
        params = {
            "start_date": start,
            "end_date": end,
            id_param: ",".join(ids),
            "columns": columns,
            "granularity": "DAY",
        }
        path = f"/v5/ad_accounts/{quote(account_id, safe='')}/{kind}/analytics"
        return list(self.request("GET", path, params=params) or [])

    def targeting_analytics(
        self,
        account_id: str,
        *,
        campaign_ids: list[str],
        start: str,
        end: str,
        targeting_type: str,
        columns: str,
    ) -> list[dict[str, Any]]:
        """GET /v5/ad_accounts/{id}/campaigns/targeting_analytics

        https://developers.pinterest.com/docs/api/v5/campaign_targeting_analytics-get
        """
        params = {
            "campaign_ids": ",".join(campaign_ids),
            "start_date": start,
            "end_date": end,
            "targeting_types": targeting_type,
            "columns": columns,
            "granularity": "DAY",
        }
        path = f"/v5/ad_accounts/{quote(account_id, safe='')}/campaigns/targeting_analytics"
        return list((self.request("GET", path, params=params) or {}).get("data") or [])

    # --- writes ---------------------------------------------------------------------------
    def _batch(
        self, method: str, path: str, items: list[dict[str, Any]], *, idempotent: bool
    ) -> list[dict[str, Any]]:
        if len(items) > self.batch_size:
            raise InvalidRequest(
                f"at most {self.batch_size} items per call", platform=self.platform
            )
        payload = self.request(method, path, json_body=items, idempotent=idempotent)
        refused = item_errors(payload)
        if refused:
            raise InvalidRequest(self.scrub("; ".join(refused)), platform=self.platform)
        return [item.get("data") or {} for item in (payload or {}).get("items") or []]

    def create_campaigns(
        self, account_id: str, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """POST /v5/ad_accounts/{id}/campaigns (array ≤30). Not retried: no idempotency key.

        https://developers.pinterest.com/docs/api/v5/campaigns-create
        """
        path = f"/v5/ad_accounts/{quote(account_id, safe='')}/campaigns"
        return self._batch("POST", path, items, idempotent=False)

    def update(
        self, account_id: str, kind: str, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """PATCH /v5/ad_accounts/{id}/{campaigns|ad_groups|ads} (array ≤30; sets fields).

        https://developers.pinterest.com/docs/api/v5/campaigns-update
        """
        path = f"/v5/ad_accounts/{quote(account_id, safe='')}/{kind}"
        return self._batch("PATCH", path, items, idempotent=True)
