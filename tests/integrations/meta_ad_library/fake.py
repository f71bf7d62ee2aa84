"""A fake Ad Library API (`GET /{version}/ads_archive`) on loopback, in Meta's wire format.

Answers as graph.facebook.com does: `{"data": [...], "paging": {"cursors": {"before",
"after"}, "next": url}}`; when the ads run out exactly at a page boundary it still sends a
`next` whose page has an empty `data` (the documented end of results). Errors use the Graph
envelope `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`: 100 for a
missing or bad parameter, 190 for a bad token, 613 when rate-limited.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.integrations.fakes import FakeServer, json_response

VERSION = "v25.0"
TOKEN = "ad-library-token-3c9e"
FIELDS_ALLOWED = {
    "id", "page_id", "page_name", "ad_creative_bodies", "ad_creative_link_titles",
    "ad_creative_link_captions", "ad_creative_link_descriptions", "ad_delivery_start_time",
    "ad_delivery_stop_time", "ad_snapshot_url", "publisher_platforms", "languages",
    "ad_creation_time", "currency", "bylines", "spend", "impressions",
}  # fmt: skip


def graph_error(
    code: int, message: str, *, subcode: int | None = None, status: int = 400
) -> Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                             "fbtrace_id": "A1b2C3d4E5"}  # fmt: skip
    if subcode is not None:
        error["error_subcode"] = subcode
    return json_response({"error": error}, status)


def rate_limited() -> Response:
    return graph_error(613, "Calls to this api have exceeded the rate limit.", subcode=1487742)


@dataclass
class FakeAd:
    id: str
    page_id: str
    page_name: str
    bodies: list[str]
    titles: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    start: dt.date = dt.date(2026, 3, 1)
    stop: dt.date | None = None
    platforms: list[str] = field(default_factory=lambda: ["facebook", "instagram"])
    countries: list[str] = field(default_factory=lambda: ["DE"])
    media: str = "IMAGE"

    def wire(self, fields: set[str]) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": self.id,
            "page_id": self.page_id,
            "page_name": self.page_name,
            "ad_creative_bodies": self.bodies,
            "ad_creative_link_titles": self.titles,
            "ad_creative_link_descriptions": self.descriptions,
            "ad_delivery_start_time": self.start.isoformat(),
            "ad_snapshot_url": f"https://www.facebook.com/ads/archive/render_ad/?id={self.id}",
            "publisher_platforms": self.platforms,
            "languages": ["en"],
        }
        if self.stop is not None:
            full["ad_delivery_stop_time"] = self.stop.isoformat()
        # Meta leaves empty fields out of the answer.
        return {k: v for k, v in full.items() if k in fields and v not in ([], None, "")}


def _cursor(index: int) -> str:
    return base64.b64encode(f"ads:{index}".encode()).decode()


def _index(cursor: str) -> int:
    return int(base64.b64decode(cursor).decode().split(":", 1)[1])


class FakeAdLibrary:
    def __init__(self, server: HTTPServer, *, page_size: int = 2) -> None:
        self.http = FakeServer(server)
        self.page_size = page_size
        self.ads: list[FakeAd] = []
        self.http.route("GET", f"/{VERSION}/ads_archive", self.ads_archive)

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def add(self, ad: FakeAd) -> FakeAd:
        self.ads.append(ad)
        return ad

    def searches(self) -> list[Request]:
        return self.http.calls("GET", f"/{VERSION}/ads_archive")

    def ads_archive(self, request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        token = token or request.args.get("access_token", "")
        if token != TOKEN:
            return graph_error(
                190, "Invalid OAuth access token - Cannot parse access token", status=401
            )
        args = request.args
        try:
            countries = json.loads(args["ad_reached_countries"])
        except (KeyError, ValueError):
            return graph_error(100, "(#100) The parameter ad_reached_countries is required")
        page_ids = json.loads(args.get("search_page_ids", "[]"))
        terms = args.get("search_terms", "").lower().split()
        if not page_ids and not terms:
            return graph_error(100, "(#100) search_terms or search_page_ids is required")
        if len(page_ids) > 10:
            return graph_error(100, "(#100) search_page_ids can have at most 10 ids")
        fields = set(args.get("fields", "id").split(","))
        if fields - FIELDS_ALLOWED:
            bad = sorted(fields - FIELDS_ALLOWED)[0]
            return graph_error(100, f"(#100) Tried accessing nonexisting field ({bad})")
        status = args.get("ad_active_status", "ACTIVE")
        media = args.get("media_type", "ALL")
        since = args.get("ad_delivery_date_min")
        matched = []
        for ad in self.ads:
            text = " ".join([*ad.bodies, *ad.titles, *ad.descriptions]).lower()
            if page_ids and ad.page_id not in page_ids:
                continue
            if terms and not all(term in text for term in terms):
                continue
            if "ALL" not in countries and not set(countries) & set(ad.countries):
                continue
            if status == "ACTIVE" and ad.stop is not None:
                continue
            if status == "INACTIVE" and ad.stop is None:
                continue
            if media != "ALL" and ad.media != media:
                continue
            if since and (ad.stop or dt.date.max) < dt.date.fromisoformat(since):
                continue
            matched.append(ad)
        limit = int(args.get("limit", 25))
        start = _index(args["after"]) if args.get("after") else 0
        chunk = matched[start : start + min(limit, self.page_size)]
        end = start + len(chunk)
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(end)}}
        if chunk:
            query = {k: v for k, v in args.items() if k != "after"} | {"after": _cursor(end)}
            paging["next"] = f"{self.base_url}{request.path}?" + "&".join(
                f"{k}={v}" for k, v in query.items()
            )
        return json_response({"data": [ad.wire(fields) for ad in chunk], "paging": paging})
