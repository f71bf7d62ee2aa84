"""LinkedIn Marketing API (Rest.li 2.0 under /rest, monthly `LinkedIn-Version`).

Rest.li wants its structural characters `(`, `)`, `:` and `,` literal in the query string
while the URNs inside `List(...)` are percent-encoded, so this client builds query strings
itself instead of letting requests encode a params dict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
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

ACCOUNT_URN = "urn:li:sponsoredAccount:{}"
GROUP_URN = "urn:li:sponsoredCampaignGroup:{}"
CAMPAIGN_URN = "urn:li:sponsoredCampaign:{}"
CREATIVE_URN = "urn:li:sponsoredCreative:{}"

GROUP_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "CANCELED", "DRAFT", "PENDING_DELETION")
CAMPAIGN_STATUSES = (
    "ACTIVE",
    "PAUSED",
    "ARCHIVED",
    "COMPLETED",
    "CANCELED",
    "DRAFT",
    "PENDING_DELETION",
)


def urn_id(urn: str | int) -> str:
    """`urn:li:sponsoredCampaign:123` -> `123` (ids arrive as bare ints too)."""
    return str(urn).rsplit(":", 1)[-1]


def restli_list(values: Iterable[str]) -> str:
    return "List(" + ",".join(quote(str(v), safe="") for v in values) + ")"


def restli_date(day: dt.date) -> str:
    return f"(year:{day.year},month:{day.month},day:{day.day})"


def query_string(pairs: Sequence[tuple[str, str]]) -> str:
    """Join already Rest.li-encoded values; only the keys are encoded here."""
    return "&".join(f"{quote(key, safe='')}={value}" for key, value in pairs)


class LinkedInClient(BearerTokenClient):
    platform = "linkedin"
    # LinkedIn publishes no per-second limit (only daily quotas, reset 00:00 UTC); stay gentle.
    rate_per_second = 5.0
    burst = 10
    backoff_base = 2.0
    page_size: ClassVar[int] = 100

    def __init__(self, *, version: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.version = version
        self.last_headers: Mapping[str, str] = {}

    def default_headers(self) -> Mapping[str, str]:
        return {
            "Accept": "application/json",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    # --- errors -------------------------------------------------------------------------
    def raise_for_error(self, response: requests.Response, payload: Json) -> None:
        # Kept for calls whose answer is a header (the id of a created entity).
        self.last_headers = response.headers
        status = response.status_code
        if status < 400:
            return
        body = payload if isinstance(payload, dict) else {}
        code = body.get("code") or body.get("serviceErrorCode") or body.get("error")
        message = str(body.get("message") or body.get("error_description") or f"HTTP {status}")
        message = self.scrub(message)
        kwargs: dict[str, Any] = {"platform": self.platform, "status_code": status, "code": code}
        if body.get("error") == "invalid_grant":
            raise AuthExpired(message, **kwargs)
        if status == 401:
            raise AuthExpired(message, **kwargs)
        if status == 429:
            # LinkedIn sends no Retry-After: back off with jitter; daily quotas reset 00:00 UTC.
            raise RateLimited(message, retry_after=None, **kwargs)
        if status >= 500:
            raise PlatformUnavailable(message, **kwargs)
        if status == 403:
            raise PermissionDenied(message, **kwargs)
        if status == 414:
            raise InvalidRequest("request URL too long; narrow the request", **kwargs)
        raise InvalidRequest(message, **kwargs)

    # --- OAuth ----------------------------------------------------------------------------
    def token_call(self, token_url: str, form: Mapping[str, str]) -> Json:
        """POST /oauth/v2/accessToken (code or refresh_token grant).

        https://learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow
        https://learn.microsoft.com/linkedin/shared/authentication/programmatic-refresh-tokens
        """
        return self.request(
            "POST",
            token_url,
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            authenticated=False,
            idempotent=False,  # a code is single-use; a refresh may rotate
        )

    # --- reads ----------------------------------------------------------------------------
    def _get(self, path: str, pairs: Sequence[tuple[str, str]] = (), **kwargs: Any) -> Json:
        url = f"{path}?{query_string(pairs)}" if pairs else path
        return self.request("GET", url, **kwargs)

    def _search(
        self,
        path: str,
        pairs: Sequence[tuple[str, str]],
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Follow `metadata.nextPageToken` until it is absent (or repeats: a server loop)."""

        def pages() -> Iterator[Json]:
            token: str | None = None
            seen: set[str] = set()
            while True:
                page_pairs = [*pairs, ("pageSize", str(self.page_size))]
                if token:
                    page_pairs.append(("pageToken", quote(token, safe="")))
                page = self._get(path, page_pairs, headers=headers) or {}
                yield page
                token = (page.get("metadata") or {}).get("nextPageToken")
                if not token or token in seen:
                    return
                seen.add(token)

        for page in self.paginate_pages(pages()):
            yield from page.get("elements") or []

    def search_ad_accounts(self) -> Iterator[dict[str, Any]]:
        """GET /rest/adAccounts?q=search

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-accounts
        """
        return self._search("/rest/adAccounts", [("q", "search")])

    def get_ad_account(self, account_id: str) -> dict[str, Any]:
        """GET /rest/adAccounts/{id}

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-accounts
        """
        return self._get(f"/rest/adAccounts/{quote(account_id, safe='')}") or {}

    def search_campaign_groups(self, account_id: str) -> Iterator[dict[str, Any]]:
        """GET /rest/adAccounts/{id}/adCampaignGroups?q=search

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-campaign-groups
        """
        search = f"(status:(values:List({','.join(GROUP_STATUSES)})))"
        return self._search(
            f"/rest/adAccounts/{quote(account_id, safe='')}/adCampaignGroups",
            [("q", "search"), ("search", search)],
        )

    def get_campaign_group(self, account_id: str, group_id: str) -> dict[str, Any]:
        """GET /rest/adAccounts/{id}/adCampaignGroups/{groupId}

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-campaign-groups
        """
        path = f"/rest/adAccounts/{quote(account_id, safe='')}/adCampaignGroups/{quote(group_id, safe='')}"
        return self._get(path) or {}

    def search_campaigns(self, account_id: str) -> Iterator[dict[str, Any]]:
        """GET /rest/adAccounts/{id}/adCampaigns?q=search

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-campaigns
        """
        search = f"(status:(values:List({','.join(CAMPAIGN_STATUSES)})))"
        return self._search(
            f"/rest/adAccounts/{quote(account_id, safe='')}/adCampaigns",
            [("q", "search"), ("search", search)],
        )

    def find_creatives(self, account_id: str) -> Iterator[dict[str, Any]]:
        """GET /rest/adAccounts/{id}/creatives?q=criteria (a FINDER)

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-creatives
        """
        return self._search(
            f"/rest/adAccounts/{quote(account_id, safe='')}/creatives",
            [("q", "criteria")],
            headers={"X-RestLi-Method": "FINDER"},
        )

    def ad_analytics(
        self,
        *,
        finder: str,
        pivots: Sequence[str],
        start: dt.date,
        end: dt.date,
        filter_name: str,
        filter_urns: Sequence[str],
        fields: Sequence[str],
    ) -> list[dict[str, Any]]:
        """GET /rest/adAnalytics?q=analytics|statistics, daily; unpaged, at most 20 fields.

        https://learn.microsoft.com/linkedin/marketing/integrations/ads-reporting/ads-reporting
        """
        if len(fields) > 20:
            raise InvalidRequest("adAnalytics takes at most 20 fields", platform=self.platform)
        pairs: list[tuple[str, str]] = [("q", finder)]
        if finder == "analytics":
            pairs.append(("pivot", f"(value:{pivots[0]})"))
        else:
            pairs.append(("pivots", f"List({','.join(pivots)})"))
        pairs += [
            ("timeGranularity", "(value:DAILY)"),
            ("dateRange", f"(start:{restli_date(start)},end:{restli_date(end)})"),
            (filter_name, restli_list(filter_urns)),
            ("fields", ",".join(fields)),
        ]
        payload = self._get("/rest/adAnalytics", pairs) or {}
        return list(payload.get("elements") or [])

    # --- writes ---------------------------------------------------------------------------
    def create_campaign_group(self, account_id: str, body: Mapping[str, Any]) -> str:
        """POST /rest/adAccounts/{id}/adCampaignGroups -> 201, new id in `x-restli-id`.

        Not retried: LinkedIn has no idempotency key, a retry could create a twin.
        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-campaign-groups
        """
        self.request(
            "POST",
            f"/rest/adAccounts/{quote(account_id, safe='')}/adCampaignGroups",
            json_body=dict(body),
            idempotent=False,
        )
        new_id = self.last_headers.get("x-restli-id") or self.last_headers.get("x-linkedin-id")
        if not new_id:
            location = self.last_headers.get("Location", "")
            new_id = location.rstrip("/").rsplit("/", 1)[-1] if location else ""
        if not new_id:
            raise InvalidRequest(
                "LinkedIn created the campaign group but sent no id", platform=self.platform
            )
        return urn_id(new_id)

    def _partial_update(self, path: str, fields: Mapping[str, Any]) -> None:
        # `$set` is idempotent: sending it twice leaves the same state, so retrying is safe.
        self.request(
            "POST",
            path,
            json_body={"patch": {"$set": dict(fields)}},
            headers={"X-RestLi-Method": "PARTIAL_UPDATE"},
            idempotent=True,
        )

    def update_campaign_group(
        self, account_id: str, group_id: str, fields: Mapping[str, Any]
    ) -> None:
        """POST .../adCampaignGroups/{id} with X-RestLi-Method: PARTIAL_UPDATE -> 204.

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-campaign-groups
        """
        self._partial_update(
            f"/rest/adAccounts/{quote(account_id, safe='')}/adCampaignGroups/{quote(group_id, safe='')}",
            fields,
        )

    def update_campaign(self, account_id: str, campaign_id: str, fields: Mapping[str, Any]) -> None:
        """POST .../adCampaigns/{id} with X-RestLi-Method: PARTIAL_UPDATE -> 204.

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-campaigns
        """
        self._partial_update(
            f"/rest/adAccounts/{quote(account_id, safe='')}/adCampaigns/{quote(campaign_id, safe='')}",
            fields,
        )

    def update_creative(self, account_id: str, creative_id: str, fields: Mapping[str, Any]) -> None:
        """POST .../creatives/{encoded creative URN} with X-RestLi-Method: PARTIAL_UPDATE -> 204
        (e.g. `intendedStatus` ACTIVE / PAUSED).

        https://learn.microsoft.com/linkedin/marketing/integrations/ads/account-structure/create-and-manage-creatives
        """
        urn = quote(f"urn:li:sponsoredCreative:{urn_id(creative_id)}", safe="")
        self._partial_update(
            f"/rest/adAccounts/{quote(account_id, safe='')}/creatives/{urn}", fields
        )

    def get_creative(self, account_id: str, creative_id: str) -> dict[str, Any]:
        """GET .../creatives/{encoded creative URN}"""
        urn = quote(f"urn:li:sponsoredCreative:{urn_id(creative_id)}", safe="")
        return self._get(f"/rest/adAccounts/{quote(account_id, safe='')}/creatives/{urn}") or {}

    def get_campaign(self, account_id: str, campaign_id: str) -> dict[str, Any]:
        """GET .../adCampaigns/{id} (a LinkedIn campaign: our ad group)."""
        path = f"/rest/adAccounts/{quote(account_id, safe='')}/adCampaigns/{quote(campaign_id, safe='')}"
        return self._get(path) or {}
