"""TikTok API for Business (Marketing API v1.3) over HTTP: one method per remote call.

TikTok answers HTTP 200 even for errors: the body's `code` is 0 for success and anything
else is an error (40100 = too many requests). The token travels in the `Access-Token`
header (no "Bearer"). List parameters of GET calls are JSON strings
(`dimensions=["campaign_id","stat_time_day"]`).
https://business-api.tiktok.com/portal/docs?id=1738373164380162
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests

from integrations.clients.base import HttpApiClient, Json
from integrations.clients.errors import (
    AuthExpired,
    InvalidRequest,
    MalformedResponse,
    PermissionDenied,
    PlatformUnavailable,
    RateLimited,
)
from integrations.clients.ratelimit import RateLimiter
from integrations.config import PlatformConfig

logger = logging.getLogger("integrations.tiktok")

RATE_LIMITED = 40100
# Only 0 and 40100 are confirmed by TikTok's SDKs; the rest follow its published error
# table as third parties report it.
AUTH_CODES = frozenset({40102, 40104, 40105})
PERMISSION_CODES = frozenset({40001, 40101, 40103})
AUTH_CODE_INVALID = frozenset({40110})


def json_param(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class TikTokClient(HttpApiClient):
    platform: ClassVar[str] = "tiktok"
    rate_per_second: ClassVar[float] = 5.0
    burst: ClassVar[int] = 10
    page_size: ClassVar[int] = 1000
    # After a 40100 every worker of this app holds back this long (limits are per app).
    rate_limit_pause: ClassVar[float] = 2.0

    def __init__(
        self,
        *,
        config: PlatformConfig,
        access_token: Callable[[], str],
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self._access_token = access_token
        super().__init__(
            base_url=f"{config.api_base}/open_api/{config.api_version}",
            timeout=config.timeout,
            session=session,
            rate_limiter=rate_limiter,
            sleep=sleep,
        )

    # --- Hooks ---------------------------------------------------------------------------
    def rate_limit_key(self) -> str:
        return "tiktok"

    @staticmethod
    def advertiser_key(advertiser_id: str) -> str:
        return f"tiktok:advertiser:{advertiser_id}"

    def shared_rate_limit_keys(self) -> tuple[str, ...]:
        return ("tiktok",)

    def secret_values(self) -> list[str]:
        try:
            token = self._access_token()
        except AuthExpired:
            token = ""
        return [token, self.config.client_secret]

    def auth_headers(
        self, method: str, url: str, params: Mapping[str, Any] | None
    ) -> Mapping[str, str]:
        return {"Access-Token": self._access_token()}

    def raise_for_error(self, response: requests.Response, payload: Json) -> None:
        if not isinstance(payload, dict) or "code" not in payload:
            super().raise_for_error(response, payload)
            if response.status_code < 400:
                raise MalformedResponse("answer without a code", platform=self.platform)
            return
        try:
            code = int(payload["code"])
        except (TypeError, ValueError):
            raise MalformedResponse(
                "answer with a non-numeric code", platform=self.platform
            ) from None
        if code == 0:
            if response.status_code >= 400:
                super().raise_for_error(response, payload)
            return
        message = self.scrub(str(payload.get("message") or "TikTok API error"))[:300]
        request_id = payload.get("request_id")
        if request_id:
            message = f"{message} (request_id {request_id})"
        kwargs: dict[str, Any] = {
            "platform": self.platform,
            "status_code": response.status_code,
            "code": code,
        }
        if code == RATE_LIMITED:
            self.rate_limiter.block("tiktok", seconds=self.rate_limit_pause)
            raise RateLimited(message, **kwargs)
        if code in AUTH_CODES:
            raise AuthExpired(message, **kwargs)
        if code in PERMISSION_CODES:
            raise PermissionDenied(message, **kwargs)
        if code in AUTH_CODE_INVALID:
            raise AuthExpired(message, **kwargs)
        if code >= 50000 or response.status_code >= 500:
            raise PlatformUnavailable(message, **kwargs)
        raise InvalidRequest(message, **kwargs)

    def _data(self, payload: Json) -> dict[str, Any]:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise MalformedResponse("answer without a data object", platform=self.platform)
        return data

    def iter_pages(
        self, path: str, params: Mapping[str, Any], *, advertiser_id: str
    ) -> Iterator[dict[str, Any]]:
        """Every `data.list` item over `page`/`page_size`, stopping at `page_info.total_page`."""

        def pages() -> Iterator[Json]:
            page = 1
            while True:
                query = {**params, "page": page, "page_size": self.page_size}
                data = self._data(
                    self.request(
                        "GET", path, params=query, rate_limit_key=self.advertiser_key(advertiser_id)
                    )
                )
                yield data
                info = data.get("page_info")
                info = info if isinstance(info, dict) else {}
                try:
                    total_pages = int(info.get("total_page") or 0)
                except (TypeError, ValueError):
                    total_pages = 0
                if page >= total_pages or not data.get("list"):
                    return
                page += 1

        for data in self.paginate_pages(pages()):
            items = data.get("list", [])
            if not isinstance(items, list):
                raise MalformedResponse("data.list is not a list", platform=self.platform)
            for item in items:
                if isinstance(item, dict):
                    yield item

    # --- OAuth ---------------------------------------------------------------------------
    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        """Advertiser authorization page. https://business-api.tiktok.com/portal/docs?id=1738373141733378"""
        query = urlencode(
            {"app_id": self.config.client_id, "state": state, "redirect_uri": redirect_uri}
        )
        return f"{self.config.oauth_base}/portal/auth?{query}"

    def exchange_auth_code(self, auth_code: str) -> dict[str, Any]:
        """auth_code (1 h, single use) -> long-term access token. Never retried.

        https://business-api.tiktok.com/portal/docs?id=1739965703387137
        """
        payload = self.request(
            "POST",
            "/oauth2/access_token/",
            json_body={
                "app_id": self.config.client_id,
                "secret": self.config.client_secret,
                "auth_code": auth_code,
            },
            authenticated=False,
            idempotent=False,
        )
        data = self._data(payload)
        if not data.get("access_token"):
            raise MalformedResponse("token answer without access_token", platform=self.platform)
        return data

    def authorized_advertisers(self) -> list[dict[str, Any]]:
        """Advertisers the token may manage. https://business-api.tiktok.com/portal/docs?id=1738455508553729"""
        payload = self.request(
            "GET",
            "/oauth2/advertiser/get/",
            params={"app_id": self.config.client_id, "secret": self.config.client_secret},
        )
        items = self._data(payload).get("list", [])
        return [item for item in items if isinstance(item, dict)]

    # --- Accounts and structure ----------------------------------------------------------
    def advertiser_info(self, advertiser_ids: list[str], fields: list[str]) -> list[dict[str, Any]]:
        """https://business-api.tiktok.com/portal/docs?id=1739593083610113"""
        payload = self.request(
            "GET",
            "/advertiser/info/",
            params={"advertiser_ids": json_param(advertiser_ids), "fields": json_param(fields)},
        )
        items = self._data(payload).get("list", [])
        return [item for item in items if isinstance(item, dict)]

    def campaigns(
        self, advertiser_id: str, fields: list[str], filtering: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """https://business-api.tiktok.com/portal/docs?id=1739315828649986"""
        return self._listing("/campaign/get/", advertiser_id, fields, filtering)

    def ad_groups(
        self, advertiser_id: str, fields: list[str], filtering: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """https://business-api.tiktok.com/portal/docs?id=1739314558673922"""
        return self._listing("/adgroup/get/", advertiser_id, fields, filtering)

    def ads(
        self, advertiser_id: str, fields: list[str], filtering: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """https://business-api.tiktok.com/portal/docs?id=1735735588640770"""
        return self._listing("/ad/get/", advertiser_id, fields, filtering)

    def _listing(
        self,
        path: str,
        advertiser_id: str,
        fields: list[str],
        filtering: Mapping[str, Any] | None,
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"advertiser_id": advertiser_id, "fields": json_param(fields)}
        if filtering:
            params["filtering"] = json_param(filtering)
        return self.iter_pages(path, params, advertiser_id=advertiser_id)

    # --- Changes -------------------------------------------------------------------------
    def _post(self, path: str, body: Mapping[str, Any], *, idempotent: bool) -> dict[str, Any]:
        advertiser_id = str(body.get("advertiser_id", ""))
        return self._data(
            self.request(
                "POST",
                path,
                json_body=dict(body),
                idempotent=idempotent,
                rate_limit_key=self.advertiser_key(advertiser_id),
            )
        )

    def create_campaign(self, body: Mapping[str, Any]) -> str:
        """Returns the new campaign id. Never retried (a retry could create two).

        https://business-api.tiktok.com/portal/docs?id=1739318962329602
        """
        campaign_id = self._post("/campaign/create/", body, idempotent=False).get("campaign_id")
        if not campaign_id:
            raise MalformedResponse("create answered without campaign_id", platform=self.platform)
        return str(campaign_id)

    def update_campaign(self, body: Mapping[str, Any]) -> None:
        """Name and budget. https://business-api.tiktok.com/portal/docs?id=1739320422086657"""
        self._post("/campaign/update/", body, idempotent=True)

    def update_campaign_status(
        self, advertiser_id: str, campaign_ids: list[str], status: str
    ) -> None:
        """ENABLE / DISABLE / DELETE. https://business-api.tiktok.com/portal/docs?id=1739320994354178"""
        self._post(
            "/campaign/status/update/",
            {
                "advertiser_id": advertiser_id,
                "campaign_ids": campaign_ids,
                "operation_status": status,
            },
            idempotent=True,
        )

    def update_ad_status(self, advertiser_id: str, ad_ids: list[str], status: str) -> None:
        """ENABLE / DISABLE ads. https://business-api.tiktok.com/portal/docs?id=1735735588640770"""
        self._post(
            "/ad/status/update/",
            {"advertiser_id": advertiser_id, "ad_ids": ad_ids, "operation_status": status},
            idempotent=True,
        )

    def update_ad_group(self, body: Mapping[str, Any]) -> None:
        """Bid and budget of an ad group. https://business-api.tiktok.com/portal/docs?id=1739586761631745"""
        self._post("/adgroup/update/", body, idempotent=True)

    # --- Reporting -----------------------------------------------------------------------
    def report(self, advertiser_id: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Synchronous report rows (`{"dimensions": {...}, "metrics": {...}}`), all pages.

        https://business-api.tiktok.com/portal/docs?id=1740302848100353
        """
        query = {"advertiser_id": advertiser_id, **params}
        return self.iter_pages("/report/integrated/get/", query, advertiser_id=advertiser_id)
