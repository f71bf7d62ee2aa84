"""A loopback Snapchat Marketing API v1: wrapped arrays with sub_request_status,
paging.next_link as a full URL, whole-object PUTs, DAY stats in the account's zone,
1-hour tokens, and Snap's error bodies (429 without headers)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from tests.integrations.loopback import FakePlatform, json_response

ACCOUNT = "8adc3db7-8148-4fbf-999c-8d2266369d74"
ZONE = ZoneInfo("America/Los_Angeles")
REQUIRED_CAMPAIGN_FIELDS = ("name", "ad_account_id", "status", "start_time")


def snap_error(status: int, code: str, message: str) -> Response:
    return json_response(
        {
            "request_status": "ERROR",
            "request_id": "req-1",
            "debug_message": message,
            "display_message": message,
            "error_code": code,
        },
        status,
    )


def wrap(plural: str, singular: str, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "request_status": "SUCCESS",
        "request_id": "req-1",
        plural: [{"sub_request_status": "SUCCESS", singular: item} for item in items],
        **extra,
    }


class FakeSnapchat(FakePlatform):
    page_size = 2

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "snap-client"
        self.client_secret = "snap-client-secret-QQQ"
        self.codes = {"snap-code-1"}
        self.access_tokens = {"snap-access-AAA"}
        self.refresh_tokens = {"snap-refresh-RRR"}
        self.issued = 0
        self.next_id = 0
        self.accounts = {
            ACCOUNT: {
                "id": ACCOUNT,
                "name": "Acme Snap",
                "currency": "USD",
                "timezone": "America/Los_Angeles",
                "status": "ACTIVE",
                "organization_id": "org-1",
            },
            "acc-2": {
                "id": "acc-2",
                "name": "Acme Snap EU",
                "currency": "EUR",
                "timezone": "Europe/Paris",
                "status": "ACTIVE",
                "organization_id": "org-1",
            },
            "acc-3": {
                "id": "acc-3",
                "name": "Old",
                "currency": "USD",
                "timezone": "UTC",
                "status": "PAUSED",
                "organization_id": "org-1",
            },
        }
        self.campaigns: dict[str, dict[str, Any]] = {
            "camp-1": {
                "id": "camp-1",
                "ad_account_id": ACCOUNT,
                "name": "Summer",
                "status": "ACTIVE",
                "start_time": "2026-01-01T08:00:00.000Z",
                "daily_budget_micro": 40_000_000,
                "objective_v2_properties": {"objective_v2_type": "SALES"},
            },
            "camp-2": {
                "id": "camp-2",
                "ad_account_id": ACCOUNT,
                "name": "Brand",
                "status": "PAUSED",
                "start_time": "2026-01-01T08:00:00.000Z",
                "lifetime_spend_cap_micro": 900_000_000,
                "objective": "BRAND_AWARENESS",
            },
            "camp-3": {
                "id": "camp-3",
                "ad_account_id": ACCOUNT,
                "name": "Ended",
                "status": "ACTIVE",
                "start_time": "2025-01-01T08:00:00.000Z",
                "end_time": "2025-02-01T08:00:00.000Z",
            },
        }
        self.adsquads = {
            "sq-1": {
                "id": "sq-1",
                "campaign_id": "camp-1",
                "name": "US 18-34",
                "status": "ACTIVE",
                "bid_micro": 2_000_000,
                "daily_budget_micro": 20_000_000,
                "targeting": {"geos": [{"country_code": "us"}]},
            },
            "sq-2": {
                "id": "sq-2",
                "campaign_id": "camp-1",
                "name": "CA",
                "status": "ACTIVE",
                "bid_micro": 1_000_000,
            },
            "sq-3": {
                "id": "sq-3",
                "campaign_id": "camp-2",
                "name": "All",
                "status": "PAUSED",
                "bid_micro": 500_000,
            },
        }
        self.ads = {
            "ad-1": {
                "id": "ad-1",
                "ad_squad_id": "sq-1",
                "creative_id": "cr-1",
                "name": "Top snap",
                "status": "ACTIVE",
            },
            "ad-2": {
                "id": "ad-2",
                "ad_squad_id": "sq-3",
                "creative_id": "cr-2",
                "name": "Brand snap",
                "status": "PAUSED",
            },
        }
        self.creatives = {
            "cr-1": {
                "id": "cr-1",
                "name": "Sunglasses",
                "type": "WEB_VIEW",
                "headline": "Shades on",
                "brand_name": "Acme",
                "call_to_action": "SHOP_NOW",
                "web_view_properties": {"url": "https://acme.example"},
            },
            "cr-2": {
                "id": "cr-2",
                "name": "Logo",
                "type": "SNAP_AD",
                "headline": "Acme",
                "brand_name": "Acme",
            },
        }

    def issue(self) -> dict[str, Any]:
        self.issued += 1
        access, refresh = f"snap-access-new-{self.issued}", f"snap-refresh-new-{self.issued}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": "snapchat-marketing-api",
        }

    def route(self, request: Request) -> Response:
        if request.path == "/login/oauth2/access_token" and request.method == "POST":
            form = request.form
            if (
                form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret
            ):
                return json_response({"error": "invalid_client"}, 401)
            if form.get("grant_type") == "authorization_code" and form.get("code") in self.codes:
                self.codes.discard(form["code"])
                return json_response(self.issue())
            if (
                form.get("grant_type") == "refresh_token"
                and form.get("refresh_token") in self.refresh_tokens
            ):
                self.refresh_tokens.discard(form["refresh_token"])  # Snap rotates refresh tokens
                return json_response(self.issue())
            return json_response(
                {"error": "invalid_grant", "error_description": "Invalid code or refresh token"},
                400,
            )
        if not request.path.startswith("/v1/"):
            return snap_error(404, "E3003", "not found")
        auth = request.headers.get("Authorization", "")
        if auth[7:] not in self.access_tokens:
            return snap_error(401, "E3001", "Unauthorized: invalid or expired access token")
        return self.api(request)

    def paged(
        self, request: Request, plural: str, singular: str, items: list[dict[str, Any]]
    ) -> Response:
        query = dict(parse_qsl(request.query_string.decode()))
        if not 50 <= int(query.get("limit", "50")) <= 1000:
            return snap_error(400, "E1008", "limit must be between 50 and 1000")
        offset = int(query.get("cursor", "0"))
        chunk = items[offset : offset + self.page_size]
        extra: dict[str, Any] = {"paging": {}}
        if offset + self.page_size < len(items):
            next_query = urlencode(
                {"cursor": offset + self.page_size, "limit": query.get("limit", "50")}
            )
            extra["paging"]["next_link"] = (
                f"{request.host_url.rstrip('/')}{request.path}?{next_query}"
            )
        return json_response(wrap(plural, singular, chunk, **extra))

    def api(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/v1/me/organizations":
            return json_response(
                wrap("organizations", "organization", [{"id": "org-1", "name": "Acme"}])
            )
        if path == "/v1/organizations/org-1/adaccounts":
            return self.paged(request, "adaccounts", "adaccount", list(self.accounts.values()))
        m = re.fullmatch(r"/v1/campaigns/([\w-]+)(/stats)?", path)
        if m:
            campaign = self.campaigns.get(m.group(1))
            if campaign is None:
                return snap_error(404, "E3003", "campaign not found")
            if m.group(2):
                return self.stats(request, campaign)
            return json_response(wrap("campaigns", "campaign", [campaign]))
        m = re.fullmatch(r"/v1/(ads|adsquads|creatives)/([\w-]+)", path)
        if m and method == "GET":
            kind, entity_id = m.groups()
            singular = {"ads": "ad", "adsquads": "adsquad", "creatives": "creative"}[kind]
            store = {"ads": self.ads, "adsquads": self.adsquads, "creatives": self.creatives}[kind]
            if entity_id not in store:
                return snap_error(404, "E3003", f"{singular} not found")
            return json_response(wrap(kind, singular, [store[entity_id]]))
        m = re.fullmatch(r"/v1/adsquads/([\w-]+)/ads", path)
        if m and method == "PUT":
            return self.put_ads(request, m.group(1))
        m = re.fullmatch(r"/v1/adaccounts/([\w-]+)(?:/(\w+))?", path)
        if not m or m.group(1) not in self.accounts:
            return snap_error(404, "E3003", "not found")
        account_id, kind = m.groups()
        if kind is None:
            return json_response(wrap("adaccounts", "adaccount", [self.accounts[account_id]]))
        singular = {
            "campaigns": "campaign",
            "adsquads": "adsquad",
            "ads": "ad",
            "creatives": "creative",
        }.get(kind)
        store = {
            "campaigns": self.campaigns,
            "adsquads": self.adsquads,
            "ads": self.ads,
            "creatives": self.creatives,
        }.get(kind)
        if store is None or singular is None:
            return snap_error(404, "E3003", "not found")
        items = list(store.values()) if account_id == ACCOUNT else []
        if method == "GET":
            return self.paged(request, kind, singular, items)
        body = json.loads(request.get_data() or b"{}")
        sent = body.get(kind)
        if not isinstance(sent, list) or not sent:
            return snap_error(400, "E1001", f"{kind} must be a non-empty array")
        results = []
        for item in sent:
            if method == "POST" and kind == "campaigns":
                missing = [f for f in REQUIRED_CAMPAIGN_FIELDS if f not in item]
                if missing:
                    results.append(
                        {
                            "sub_request_status": "ERROR",
                            "sub_request_error_reason": f"missing {missing}",
                        }
                    )
                    continue
                self.next_id += 1
                new = {**item, "id": f"camp-new-{self.next_id}"}
                store[new["id"]] = new
                results.append({"sub_request_status": "SUCCESS", singular: new})
            elif method == "PUT":
                existing = store.get(item.get("id", ""))
                required = (
                    REQUIRED_CAMPAIGN_FIELDS
                    if kind == "campaigns"
                    else ("name", "campaign_id", "status")
                )
                if existing is None or any(f not in item for f in required):
                    results.append(
                        {
                            "sub_request_status": "ERROR",
                            "sub_request_error_reason": "PUT needs the whole object with its id",
                        }
                    )
                    continue
                existing.clear()
                existing.update(item)
                results.append({"sub_request_status": "SUCCESS", singular: existing})
            else:
                return snap_error(405, "E1000", "method not allowed")
        status = (
            "SUCCESS" if all(r["sub_request_status"] == "SUCCESS" for r in results) else "PARTIAL"
        )
        return json_response({"request_status": status, "request_id": "req-2", kind: results})

    def put_ads(self, request: Request, squad_id: str) -> Response:
        """PUT /v1/adsquads/{id}/ads: whole ads of that squad, answered item by item."""
        sent = json.loads(request.get_data() or b"{}").get("ads")
        if not isinstance(sent, list) or not sent:
            return snap_error(400, "E1001", "ads must be a non-empty array")
        results = []
        for item in sent:
            existing = self.ads.get(item.get("id", ""))
            whole = all(f in item for f in ("name", "ad_squad_id", "creative_id", "status"))
            if existing is None or not whole or item["ad_squad_id"] != squad_id:
                results.append({"sub_request_status": "ERROR",
                                "sub_request_error_reason": "PUT needs the whole ad of this squad"})  # fmt: skip
                continue
            if item["status"] not in ("ACTIVE", "PAUSED"):
                results.append({"sub_request_status": "ERROR",
                                "sub_request_error_reason": "status must be ACTIVE or PAUSED"})  # fmt: skip
                continue
            existing.clear()
            existing.update(item)
            results.append({"sub_request_status": "SUCCESS", "ad": existing})
        status = (
            "SUCCESS" if all(r["sub_request_status"] == "SUCCESS" for r in results) else "PARTIAL"
        )
        return json_response({"request_status": status, "request_id": "req-3", "ads": results})

    def stats(self, request: Request, campaign: dict[str, Any]) -> Response:
        query = dict(parse_qsl(request.query_string.decode()))
        try:
            start = dt.datetime.fromisoformat(query["start_time"])
            end = dt.datetime.fromisoformat(query["end_time"])
        except (KeyError, ValueError):
            return snap_error(
                400, "E1001", "start_time and end_time are required, ISO 8601 with offset"
            )
        if start.tzinfo is None or start.minute or end.minute or query.get("granularity") != "DAY":
            return snap_error(400, "E1001", "DAY stats need on-the-hour times with an offset")
        if end - start > dt.timedelta(days=31, hours=1) or end <= start:
            return snap_error(400, "E1001", "time range too long for DAY granularity")
        fields = query.get("fields", "").split(",")
        buckets = []
        cursor = start.astimezone(ZONE)
        while cursor < end:
            nxt = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time(), tzinfo=ZONE)
            buckets.append((cursor, nxt))
            cursor = nxt

        def series(seed: int) -> list[dict[str, Any]]:
            out = []
            for i, (b_start, b_end) in enumerate(buckets):
                stats = {
                    "impressions": 500 + seed + i,
                    "swipes": 7,
                    "spend": 1_250_000,
                    "video_views": 30,
                    "conversion_purchases": 2,
                    "conversion_purchases_value": 19_990_000,
                }
                out.append(
                    {
                        "start_time": b_start.isoformat(timespec="milliseconds"),
                        "end_time": b_end.isoformat(timespec="milliseconds"),
                        "stats": {k: v for k, v in stats.items() if k in fields},
                    }
                )
            return out

        stat: dict[str, Any] = {
            "id": campaign["id"],
            "type": "CAMPAIGN",
            "granularity": "DAY",
            "start_time": query["start_time"],
            "end_time": query["end_time"],
        }
        if query.get("breakdown") == "ad":
            squads = {sid for sid, s in self.adsquads.items() if s["campaign_id"] == campaign["id"]}
            stat["breakdown_stats"] = {
                "ad": [
                    {"id": aid, "type": "AD", "timeseries": series(1)}
                    for aid, ad in self.ads.items()
                    if ad["ad_squad_id"] in squads
                ]
            }
        else:
            stat["timeseries"] = series(0)
        return json_response(
            {
                "request_status": "SUCCESS",
                "request_id": "req-3",
                "timeseries_stats": [{"sub_request_status": "SUCCESS", "timeseries_stat": stat}],
            }
        )
