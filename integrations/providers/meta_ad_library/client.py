"""The Ad Library API over HTTP: `GET /{version}/ads_archive`.

https://developers.facebook.com/docs/graph-api/reference/ads_archive/

It is the Graph API, so it shares Meta's client: the bearer token header, the error
envelope (`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`, with 613
for this endpoint's rate limit and 10 when the token's owner has not confirmed their
identity), the usage headers and cursor paging. Only paging differs: the Ad Library ends a
listing with an empty `data` page as well as by leaving out `paging.next`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import ClassVar, cast

import requests
from django.conf import settings

from integrations.clients.ratelimit import RateLimiter
from integrations.config import PlatformConfig
from integrations.providers.meta.client import MetaClient
from integrations.providers.meta_ad_library.mapping import library_ad
from integrations.providers.meta_ad_library.records import LibraryAd, LibrarySearch

FIELDS = (
    "id", "page_id", "page_name", "ad_creative_bodies", "ad_creative_link_titles",
    "ad_creative_link_descriptions", "ad_delivery_start_time", "ad_delivery_stop_time",
    "publisher_platforms", "ad_snapshot_url", "languages",
)  # fmt: skip
MAX_PAGE_IDS = 10
MAX_SEARCH_TERMS = 100


def ad_library_config() -> PlatformConfig:
    """Host and version of the Ad Library: its own settings, Meta's by default."""
    return PlatformConfig(
        platform="meta_ad_library",
        api_base=settings.ADPLATFORM_META_AD_LIBRARY_BASE_URL.rstrip("/"),
        oauth_base="",
        api_version=settings.ADPLATFORM_META_AD_LIBRARY_VERSION,
        timeout=float(cast(float, settings.ADPLATFORM_PLATFORMS["meta"]["timeout"])),
    )


class AdLibraryClient(MetaClient):
    platform: ClassVar[str] = "meta_ad_library"
    # The Ad Library's own limit is undocumented; stay well under Meta's app-level pace.
    rate_per_second: ClassVar[float] = 2.0
    burst: ClassVar[int] = 4
    page_size: ClassVar[int] = 100
    ends_on_empty_page: ClassVar[bool] = True

    def __init__(
        self,
        *,
        access_token: Callable[[], str],
        config: PlatformConfig | None = None,
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(
            config=config or ad_library_config(),
            access_token=access_token,
            session=session,
            rate_limiter=rate_limiter,
            sleep=sleep,
        )

    def rate_limit_key(self) -> str:
        return "meta:ads_archive"

    def search(self, query: LibrarySearch, *, max_ads: int = 500) -> Iterator[LibraryAd]:
        """Archived ads matching `query`, page by page, at most `max_ads` of them.

        https://developers.facebook.com/docs/graph-api/reference/ads_archive/
        """
        yielded = 0
        for item in self.iter_edge("/ads_archive", search_params(query)):
            ad = library_ad(item)
            if ad is None:
                continue
            yield ad
            yielded += 1
            if yielded >= max_ads:
                return


def search_params(query: LibrarySearch) -> dict[str, str]:
    """The query string of one search; lists travel as JSON arrays, as Meta's examples do."""
    if not query.countries:
        raise ValueError("ad_reached_countries is required (ISO codes or ALL)")
    if not query.page_ids and not query.search_terms:
        raise ValueError("search by page ids or by search terms")
    if len(query.page_ids) > MAX_PAGE_IDS:
        raise ValueError(f"at most {MAX_PAGE_IDS} page ids per search")
    params: dict[str, str] = {
        "ad_reached_countries": json.dumps(list(query.countries)),
        "ad_active_status": query.active_status,
        "ad_type": "ALL",
        "fields": ",".join(FIELDS),
    }
    if query.page_ids:
        params["search_page_ids"] = json.dumps(list(query.page_ids))
    if query.search_terms:
        params["search_terms"] = query.search_terms[:MAX_SEARCH_TERMS]
    if query.delivery_date_min:
        params["ad_delivery_date_min"] = query.delivery_date_min.isoformat()
    if query.media_type:
        params["media_type"] = query.media_type
    return params
