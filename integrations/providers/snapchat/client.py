"""Snapchat Marketing API v1: wrapped arrays, `paging.next_link`, micros, 1-hour tokens.

Every list answer wraps each entity (`{"campaigns": [{"sub_request_status": ...,
"campaign": {...}}]}`) and every write reports per item, so a 200 can still carry a
refused item. Snap allows 10 requests/s per token (20 per app) and says only 429 when over.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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


def unwrap(payload: Json, plural: str, singular: str) -> list[dict[str, Any]]:
    """The entities inside Snap's wrapper, refusing items that report an error."""
    items = (payload or {}).get(plural) or []
    out = []
    for item in items:
        if str(item.get("sub_request_status", "SUCCESS")).upper() == "ERROR":
            reason = item.get("sub_request_error_reason") or "refused"
            raise InvalidRequest(str(reason), platform="snapchat")
        if isinstance(item.get(singular), dict):
            out.append(item[singular])
    return out


class SnapchatClient(BearerTokenClient):
    platform = "snapchat"
    rate_per_second = 10.0  # per access token, as Snap documents
    burst = 10
    page_size: ClassVar[int] = 1000

    def raise_for_error(self, response: requests.Response, payload: Json) -> None:
        status = response.status_code
        body = payload if isinstance(payload, dict) else {}
        failed = str(body.get("request_status", "")).upper() == "ERROR"
        if status < 400 and not failed:
            return
        if body.get("error") == "invalid_grant":
            raise self.error(
                AuthExpired,
                str(body.get("error_description") or "invalid_grant"),
                status_code=status,
            )
        code = body.get("error_code")
        message = str(
            body.get("debug_message")
            or body.get("display_message")
            or body.get("msg")
            or body.get("error_description")
            or f"HTTP {status}"
        )
        kwargs: dict[str, Any] = {"status_code": status, "code": code}
        if status == 401:
            raise self.error(AuthExpired, message, **kwargs)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited(
                self.scrub(message),
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
                platform=self.platform,
                **kwargs,
            )
        if status >= 500:
            raise self.error(PlatformUnavailable, message, **kwargs)
        if status == 403:
            raise self.error(PermissionDenied, message, **kwargs)
        raise self.error(InvalidRequest, message, **kwargs)

    # --- OAuth ----------------------------------------------------------------------------
    def token_call(self, token_url: str, form: Mapping[str, str]) -> Json:
        """POST /login/oauth2/access_token (code or refresh_token grant).

        https://developers.snap.com/api/marketing-api/Ads-API/authentication
        """
        return self.request("POST", token_url, data=form, authenticated=False, idempotent=False)

    # --- reads ----------------------------------------------------------------------------
    def _list(
        self, path: str, plural: str, singular: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Follow `paging.next_link` (a full URL) until absent or repeated."""

        def pages() -> Iterator[Json]:
            url: str | None = path
            query: Mapping[str, Any] | None = {**(params or {}), "limit": self.page_size}
            seen: set[str] = set()
            while url:
                page = self.request("GET", url, params=query) or {}
                yield page
                url = ((page.get("paging") or {}).get("next_link")) or None
                query = None  # next_link carries its own query
                if url in seen:
                    return
                if url:
                    seen.add(url)

        for page in self.paginate_pages(pages()):
            yield from unwrap(page, plural, singular)

    def organizations(self) -> list[dict[str, Any]]:
        """GET /v1/me/organizations

        https://developers.snap.com/api/marketing-api/Ads-API/organizations
        """
        return unwrap(self.request("GET", "/v1/me/organizations"), "organizations", "organization")

    def ad_accounts(self, organization_id: str) -> Iterator[dict[str, Any]]:
        """GET /v1/organizations/{organization_id}/adaccounts

        https://developers.snap.com/api/marketing-api/Ads-API/ad-accounts
        """
        return self._list(
            f"/v1/organizations/{quote(organization_id, safe='')}/adaccounts",
            "adaccounts",
            "adaccount",
        )

    def ad_account(self, account_id: str) -> dict[str, Any]:
        """GET /v1/adaccounts/{ad_account_id}

        https://developers.snap.com/api/marketing-api/Ads-API/ad-accounts
        """
        found = unwrap(
            self.request("GET", f"/v1/adaccounts/{quote(account_id, safe='')}"),
            "adaccounts",
            "adaccount",
        )
        if not found:
            raise InvalidRequest("ad account not found", platform=self.platform)
        return found[0]

    def entities(self, account_id: str, plural: str, singular: str) -> Iterator[dict[str, Any]]:
        """GET /v1/adaccounts/{id}/{campaigns|adsquads|ads|creatives}

        https://developers.snap.com/api/marketing-api/Ads-API/campaigns
        """
        return self._list(f"/v1/adaccounts/{quote(account_id, safe='')}/{plural}", plural, singular)

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        """GET /v1/campaigns/{campaign_id}

        https://developers.snap.com/api/marketing-api/Ads-API/campaigns
        """
        found = unwrap(
            self.request("GET", f"/v1/campaigns/{quote(campaign_id, safe='')}"),
            "campaigns",
            "campaign",
        )
        if not found:
            raise InvalidRequest("campaign not found", platform=self.platform)
        return found[0]

    def campaign_stats(
        self,
        campaign_id: str,
        *,
        start_time: str,
        end_time: str,
        fields: str,
        breakdown: str | None = None,
    ) -> dict[str, Any]:
        """GET /v1/campaigns/{campaign_id}/stats?granularity=DAY (optionally breakdown=ad)

        https://developers.snap.com/api/marketing-api/Ads-API/measurement
        """
        params = {
            "granularity": "DAY",
            "fields": fields,
            "start_time": start_time,
            "end_time": end_time,
        }
        if breakdown:
            params["breakdown"] = breakdown
        payload = self.request(
            "GET", f"/v1/campaigns/{quote(campaign_id, safe='')}/stats", params=params
        )
        stats = unwrap(payload, "timeseries_stats", "timeseries_stat")
        return stats[0] if stats else {}

    # --- writes ---------------------------------------------------------------------------
    def create_campaigns(
        self, account_id: str, campaigns: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """POST /v1/adaccounts/{id}/campaigns. Not retried: a retry could create a twin.

        https://developers.snap.com/api/marketing-api/Ads-API/campaigns
        """
        payload = self.request(
            "POST",
            f"/v1/adaccounts/{quote(account_id, safe='')}/campaigns",
            json_body={"campaigns": campaigns},
            idempotent=False,
        )
        return unwrap(payload, "campaigns", "campaign")

    def update_entities(
        self, account_id: str, plural: str, singular: str, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """PUT /v1/adaccounts/{id}/{campaigns|adsquads} with whole objects (idempotent).

        https://developers.snap.com/api/marketing-api/Ads-API/campaigns
        """
        payload = self.request(
            "PUT",
            f"/v1/adaccounts/{quote(account_id, safe='')}/{plural}",
            json_body={plural: items},
        )
        return unwrap(payload, plural, singular)

    def entity(self, plural: str, singular: str, entity_id: str) -> dict[str, Any]:
        """GET /v1/{ads|adsquads}/{id}: one entity, unwrapped."""
        found = unwrap(
            self.request("GET", f"/v1/{plural}/{quote(entity_id, safe='')}"), plural, singular
        )
        if not found:
            raise InvalidRequest(f"{singular} not found", platform=self.platform)
        return found[0]

    def update_ads(self, ad_squad_id: str, ads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """PUT /v1/adsquads/{ad_squad_id}/ads with whole ad objects (idempotent).

        https://developers.snap.com/api/marketing-api/Ads-API/ads
        """
        payload = self.request(
            "PUT", f"/v1/adsquads/{quote(ad_squad_id, safe='')}/ads", json_body={"ads": ads}
        )
        return unwrap(payload, "ads", "ad")
