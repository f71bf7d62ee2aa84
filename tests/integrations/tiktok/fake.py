"""A fake TikTok API for Business (v1.3) on loopback.

Like the real one it answers HTTP 200 with `{"code", "message", "request_id", "data"}`
even for errors, wants `Access-Token` (not Bearer), takes list parameters as JSON strings,
pages with `page`/`page_size` and `data.page_info`, and refuses daily reports spanning
more than 30 days.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.integrations.fakes import FakeServer, json_response

BASE = "/open_api/v1.3"
APP_ID = "7100000000000000001"
APP_SECRET = "tiktok-app-secret-k2p9"
AUTH_CODE = "tiktok-auth-code-1h"
TOKEN = "tiktok-access-token-4ab7"


def tiktok_error(code: int, message: str = "error") -> Response:
    return json_response(
        {"code": code, "message": message, "request_id": "202603020101", "data": {}}
    )


def ok(data: Any) -> Response:
    return json_response({"code": 0, "message": "OK", "request_id": "202603020100", "data": data})


AGE_GROUPS = ("AGE_13_17", "AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_100")


class FakeTikTok:
    def __init__(self, server: HTTPServer, *, page_size: int = 2) -> None:
        self.http = FakeServer(server)
        self.page_size = page_size
        self.valid_tokens = {TOKEN}
        self.ids = itertools.count(1_800_000_000_000_000_000)
        self.advertisers: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.ad_groups: dict[str, dict[str, Any]] = {}
        self.ads: dict[str, dict[str, Any]] = {}
        # (report_type, data_level, dimensions) -> rows
        self.reports: dict[tuple[str, str, tuple[str, ...]], list[dict[str, Any]]] = {}
        self.posts: list[tuple[str, dict[str, Any]]] = []
        b = BASE
        self.http.route("POST", f"{b}/oauth2/access_token/", self.access_token)
        self.http.route("GET", f"{b}/oauth2/advertiser/get/", self.authorized_advertisers)
        self.http.route("GET", f"{b}/advertiser/info/", self.advertiser_info)
        self.http.route(
            "GET", f"{b}/campaign/get/", lambda r: self.listing(r, self.campaigns, "campaign_ids")
        )
        self.http.route(
            "GET", f"{b}/adgroup/get/", lambda r: self.listing(r, self.ad_groups, "adgroup_ids")
        )
        self.http.route("GET", f"{b}/ad/get/", lambda r: self.listing(r, self.ads, "ad_ids"))
        self.http.route("POST", f"{b}/campaign/create/", self.create_campaign)
        self.http.route("POST", f"{b}/campaign/update/", self.update_campaign)
        self.http.route("POST", f"{b}/campaign/status/update/", self.update_status)
        self.http.route("POST", f"{b}/adgroup/update/", self.update_ad_group)
        self.http.route("POST", f"{b}/ad/status/update/", self.update_ad_status)
        self.http.route("GET", f"{b}/report/integrated/get/", self.report)

    # --- Seeding -------------------------------------------------------------------------
    def add_advertiser(self, advertiser_id: str, *, currency: str = "USD") -> None:
        self.advertisers[advertiser_id] = {
            "advertiser_id": advertiser_id,
            "name": f"Advertiser {advertiser_id}",
            "currency": currency,
            "timezone": "America/New_York",
            "display_timezone": "America/New_York",
            "status": "STATUS_ENABLE",
        }

    def add_campaign(self, advertiser_id: str, campaign_id: str, **fields: Any) -> None:
        self.campaigns[campaign_id] = {
            "advertiser_id": advertiser_id,
            "campaign_id": campaign_id,
            "campaign_name": f"Campaign {campaign_id}",
            "objective_type": "TRAFFIC",
            "budget_mode": "BUDGET_MODE_DAY",
            "budget": 50.0,
            "operation_status": "ENABLE",
            "secondary_status": "CAMPAIGN_STATUS_ENABLE",
            **fields,
        }

    def add_ad_group(
        self, advertiser_id: str, ad_group_id: str, campaign_id: str, **fields: Any
    ) -> None:
        self.ad_groups[ad_group_id] = {
            "advertiser_id": advertiser_id,
            "adgroup_id": ad_group_id,
            "campaign_id": campaign_id,
            "adgroup_name": f"Ad group {ad_group_id}",
            "budget_mode": "BUDGET_MODE_INFINITE",
            "budget": 0.0,
            "bid_type": "BID_TYPE_CUSTOM",
            "bid_price": 1.2,
            "conversion_bid_price": 0.0,
            "operation_status": "ENABLE",
            "secondary_status": "ADGROUP_STATUS_DELIVERY_OK",
            "placements": ["PLACEMENT_TIKTOK"],
            **fields,
        }

    # --- Helpers -------------------------------------------------------------------------
    def _denied(self, request: Request) -> Response | None:
        if request.headers.get("Access-Token") not in self.valid_tokens:
            return tiktok_error(40105, "The access token is invalid or has been revoked.")
        return None

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        page = int(request.args.get("page", "1"))
        total_pages = max(1, -(-len(items) // self.page_size))
        chunk = items[(page - 1) * self.page_size : page * self.page_size]
        return ok(
            {
                "list": chunk,
                "page_info": {
                    "page": page,
                    "page_size": self.page_size,
                    "total_number": len(items),
                    "total_page": total_pages,
                },
            }
        )

    # --- Routes --------------------------------------------------------------------------
    def access_token(self, request: Request) -> Response:
        body = json.loads(request.data)
        if body.get("app_id") != APP_ID or body.get("secret") != APP_SECRET:
            return tiktok_error(40101, "app_id or secret is invalid")
        if body.get("auth_code") != AUTH_CODE:
            return tiktok_error(40110, "auth_code is invalid or expired")
        return ok(
            {"access_token": TOKEN, "advertiser_ids": list(self.advertisers), "scope": [4, 5, 6]}
        )

    def authorized_advertisers(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        if request.args.get("secret") != APP_SECRET:
            return tiktok_error(40101, "app_id or secret is invalid")
        return ok(
            {
                "list": [
                    {"advertiser_id": a, "advertiser_name": v["name"]}
                    for a, v in self.advertisers.items()
                ]
            }
        )

    def advertiser_info(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        ids = json.loads(request.args["advertiser_ids"])
        return ok({"list": [self.advertisers[i] for i in ids if i in self.advertisers]})

    def listing(self, request: Request, table: dict[str, dict[str, Any]], ids_key: str) -> Response:
        if denied := self._denied(request):
            return denied
        advertiser = request.args["advertiser_id"]
        filtering = json.loads(request.args.get("filtering", "{}"))
        include_deleted = filtering.get("secondary_status") == "CAMPAIGN_STATUS_ALL"
        items = [
            item
            for item in table.values()
            if item["advertiser_id"] == advertiser
            and (include_deleted or item.get("operation_status") != "DELETE")
            and (ids_key not in filtering or item[ids_key[:-1]] in filtering[ids_key])
            and (
                "campaign_ids" not in filtering or item["campaign_id"] in filtering["campaign_ids"]
            )
        ]
        return self._paged(request, items)

    def create_campaign(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        body = json.loads(request.data)
        self.posts.append(("campaign/create", body))
        campaign_id = str(next(self.ids))
        self.add_campaign(
            body["advertiser_id"],
            campaign_id,
            **{k: v for k, v in body.items() if k != "advertiser_id"},
        )
        return ok({"campaign_id": campaign_id})

    def update_campaign(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        body = json.loads(request.data)
        self.posts.append(("campaign/update", body))
        self.campaigns[body["campaign_id"]].update(
            {k: v for k, v in body.items() if k in {"campaign_name", "budget"}}
        )
        return ok({"campaign_id": body["campaign_id"]})

    def update_status(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        body = json.loads(request.data)
        self.posts.append(("campaign/status/update", body))
        for campaign_id in body["campaign_ids"]:
            self.campaigns[campaign_id]["operation_status"] = body["operation_status"]
            self.campaigns[campaign_id]["secondary_status"] = (
                f"CAMPAIGN_STATUS_{body['operation_status']}"
            )
        return ok({"campaign_ids": body["campaign_ids"]})

    def update_ad_status(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        body = json.loads(request.data)
        self.posts.append(("ad/status/update", body))
        if body.get("operation_status") not in {"ENABLE", "DISABLE", "DELETE"}:
            return tiktok_error(40002, "operation_status: invalid enum value")
        unknown = [i for i in body.get("ad_ids", []) if i not in self.ads]
        if unknown:
            return tiktok_error(40002, f"ad_ids {unknown} do not exist")
        for ad_id in body["ad_ids"]:
            self.ads[ad_id]["operation_status"] = body["operation_status"]
            self.ads[ad_id]["secondary_status"] = f"AD_STATUS_{body['operation_status']}"
        return ok({"ad_ids": body["ad_ids"]})

    def update_ad_group(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        body = json.loads(request.data)
        self.posts.append(("adgroup/update", body))
        ages = body.get("age_groups")
        if ages is not None and not set(ages) <= set(AGE_GROUPS):
            return tiktok_error(40002, "age_groups: invalid enum value")
        self.ad_groups[body["adgroup_id"]].update(
            {k: v for k, v in body.items() if k not in {"advertiser_id", "adgroup_id"}}
        )
        return ok({"adgroup_id": body["adgroup_id"]})

    def report(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        args = request.args
        dimensions = tuple(json.loads(args["dimensions"]))
        json.loads(args["metrics"])  # must be a JSON list, as TikTok wants
        start = dt.date.fromisoformat(args["start_date"])
        end = dt.date.fromisoformat(args["end_date"])
        if "stat_time_day" in dimensions and (end - start).days + 1 > 30:
            return tiktok_error(
                40002, "The time range can't exceed 30 days when stat_time_day is used."
            )
        rows = [
            row
            for row in self.reports.get((args["report_type"], args["data_level"], dimensions), [])
            if start <= dt.date.fromisoformat(row["dimensions"]["stat_time_day"][:10]) <= end
        ]
        return self._paged(request, rows)
