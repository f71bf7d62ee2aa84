"""A loopback Pinterest API v5 (ads): Basic-authenticated token endpoint, bookmark paging,
batch POST/PATCH of ≤30 items answering per-item `exceptions`, UPPER_CASE analytics
columns with a 90-day window, and 429 with X-RateLimit-Reset."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from werkzeug import Request, Response

from tests.integrations.loopback import FakePlatform, json_response

ACCOUNT = "549755885175"


def p_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return json_response({"code": code, "message": message}, status, headers)


STATUSES = {"ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT"}
AGE_BUCKETS = {"18-24", "25-34", "35-44", "45-49", "50-54", "55-64", "65+"}


class FakePinterest(FakePlatform):
    page_size = 2

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "pin-app"
        self.client_secret = "pin-app-secret-PPP"
        self.codes = {"pin-code-1"}
        self.access_tokens = {"pina_AAA"}
        self.refresh_tokens = {"pinr_RRR"}
        self.issued = 0
        self.next_id = 0
        self.accounts = {
            ACCOUNT: {
                "id": ACCOUNT,
                "name": "Acme Pins",
                "currency": "USD",
                "country": "US",
                "owner": {"username": "acme"},
                "permissions": ["ADMIN"],
            },
            "549755885176": {
                "id": "549755885176",
                "name": "Acme Pins DE",
                "currency": "EUR",
                "country": "DE",
                "owner": {"username": "acme"},
                "permissions": ["ANALYST"],
            },
            "549755885177": {
                "id": "549755885177",
                "name": "Acme Pins UK",
                "currency": "GBP",
                "country": "GB",
                "owner": {"username": "acme"},
                "permissions": ["ADMIN"],
            },
        }
        self.campaigns = {
            "626735565838": {
                "id": "626735565838",
                "ad_account_id": ACCOUNT,
                "name": "Home decor",
                "status": "ACTIVE",
                "objective_type": "CONSIDERATION",
                "daily_spend_cap": 30_000_000,
                "lifetime_spend_cap": None,
                "start_time": 1767225600,
                "end_time": None,
            },
            "626735565839": {
                "id": "626735565839",
                "ad_account_id": ACCOUNT,
                "name": "Catalog",
                "status": "PAUSED",
                "objective_type": "CATALOG_SALES",
                "daily_spend_cap": None,
                "lifetime_spend_cap": 2_000_000_000,
                "start_time": 1767225600,
                "end_time": None,
            },
            "626735565840": {
                "id": "626735565840",
                "ad_account_id": ACCOUNT,
                "name": "Old",
                "status": "ARCHIVED",
                "objective_type": "AWARENESS",
                "daily_spend_cap": 5_000_000,
            },
        }
        self.ad_groups = {
            "2680059592705": {
                "id": "2680059592705",
                "campaign_id": "626735565838",
                "name": "Women 25-44",
                "status": "ACTIVE",
                "budget_in_micro_currency": 10_000_000,
                "budget_type": "DAILY",
                "bid_in_micro_currency": 800_000,
                "targeting_spec": {"AGE_BUCKET": ["25-34", "35-44"], "GENDER": ["female"]},
            },
            "2680059592706": {
                "id": "2680059592706",
                "campaign_id": "626735565838",
                "name": "All",
                "status": "PAUSED",
                "budget_in_micro_currency": None,
                "budget_type": "CBO_ADGROUP",
                "bid_in_micro_currency": 700_000,
            },
            "2680059592707": {
                "id": "2680059592707",
                "campaign_id": "626735565839",
                "name": "Shopping",
                "status": "ACTIVE",
                "bid_in_micro_currency": None,
                "budget_type": "CBO_ADGROUP",
            },
        }
        self.ads = {
            "687195905986": {
                "id": "687195905986",
                "ad_group_id": "2680059592705",
                "campaign_id": "626735565838",
                "pin_id": "394205773611545468",
                "name": "Lamp pin",
                "status": "ACTIVE",
                "creative_type": "REGULAR",
            },
            "687195905987": {
                "id": "687195905987",
                "ad_group_id": "2680059592707",
                "campaign_id": "626735565839",
                "pin_id": "394205773611545469",
                "name": "Sofa video",
                "status": "ACTIVE",
                "creative_type": "VIDEO",
            },
        }

    def issue(self, grant: str) -> dict[str, Any]:
        self.issued += 1
        access = f"pina_new_{self.issued}"
        self.access_tokens.add(access)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": 2592000,
            "scope": "ads:read,ads:write",
            "response_type": grant,
        }
        if grant == "authorization_code":
            refresh = f"pinr_new_{self.issued}"
            self.refresh_tokens.add(refresh)
            body |= {"refresh_token": refresh, "refresh_token_expires_in": 31536000}
        return body

    def route(self, request: Request) -> Response:
        if request.path == "/v5/oauth/token" and request.method == "POST":
            expected = (
                "Basic "
                + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            )
            if request.headers.get("Authorization") != expected:
                return p_error(401, 2, "Authentication failed.")
            form = request.form
            if form.get("grant_type") == "authorization_code" and form.get("code") in self.codes:
                self.codes.discard(form["code"])
                return json_response(self.issue("authorization_code"))
            if (
                form.get("grant_type") == "refresh_token"
                and form.get("refresh_token") in self.refresh_tokens
            ):
                return json_response(self.issue("refresh_token"))
            return json_response(
                {"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400
            )
        if not request.path.startswith("/v5/"):
            return p_error(404, 404, "Not found")
        if request.headers.get("Authorization", "")[7:] not in self.access_tokens:
            return p_error(401, 2, "Authentication failed.")
        return self.api(request)

    def paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        query = dict(parse_qsl(request.query_string.decode()))
        if int(query.get("page_size", "25")) > 250:
            return p_error(400, 1, "page_size must be at most 250")
        offset = int(query.get("bookmark", "0") or 0)
        chunk = items[offset : offset + self.page_size]
        bookmark = str(offset + self.page_size) if offset + self.page_size < len(items) else None
        return json_response({"items": chunk, "bookmark": bookmark})

    def api(self, request: Request) -> Response:
        path, method = request.path, request.method
        query = dict(parse_qsl(request.query_string.decode()))
        if path == "/v5/ad_accounts":
            return self.paged(request, list(self.accounts.values()))
        m = re.fullmatch(r"/v5/ad_accounts/(\d+)(?:/(campaigns|ad_groups|ads))?(?:/(\w+))?", path)
        if not m or m.group(1) not in self.accounts:
            return p_error(404, 2, "Advertiser not found.")
        account_id, kind, tail = m.groups()
        if kind is None:
            return json_response(self.accounts[account_id])
        store = {"campaigns": self.campaigns, "ad_groups": self.ad_groups, "ads": self.ads}[kind]
        owned = store if account_id == ACCOUNT else {}
        if tail == "analytics":
            return self.analytics(kind, query)
        if tail == "targeting_analytics":
            return self.targeting(query)
        if tail is not None:
            if method == "GET" and tail in owned:
                return json_response(owned[tail])
            return p_error(404, 2, "not found")
        if method == "GET":
            statuses = set(query.get("entity_statuses", "ACTIVE,PAUSED").split(","))
            return self.paged(request, [v for v in owned.values() if v.get("status") in statuses])
        items = json.loads(request.get_data() or b"[]")
        if not isinstance(items, list) or not 1 <= len(items) <= 30:
            return p_error(400, 1, "expected an array of 1 to 30 items")
        results = []
        for item in items:
            if method == "POST" and kind == "campaigns":
                if item.get("daily_spend_cap") and item.get("lifetime_spend_cap"):
                    results.append(
                        {
                            "data": None,
                            "exceptions": [
                                {"code": 2565, "message": "Only one of daily or lifetime spend cap"}
                            ],
                        }
                    )
                    continue
                self.next_id += 1
                new = {**item, "id": f"6267355659{self.next_id:02d}"}
                self.campaigns[new["id"]] = new
                results.append({"data": new, "exceptions": []})
            elif method == "PATCH":
                current = owned.get(str(item.get("id")))
                if current is None:
                    results.append(
                        {
                            "data": None,
                            "exceptions": [{"code": 2, "message": "Campaign not found."}],
                        }
                    )
                elif current.get("status") == "ARCHIVED" and "status" in item:
                    results.append(
                        {
                            "data": None,
                            "exceptions": [
                                {"code": 2702, "message": "Archived entities cannot change status."}
                            ],
                        }
                    )
                elif "status" in item and item["status"] not in STATUSES:
                    results.append({"data": None, "exceptions": [
                        {"code": 1, "message": f"Invalid status {item['status']}"}]})  # fmt: skip
                elif set((item.get("targeting_spec") or {}).get("AGE_BUCKET", [])) - AGE_BUCKETS:
                    results.append({"data": None, "exceptions": [
                        {"code": 1, "message": "Invalid AGE_BUCKET value"}]})  # fmt: skip
                else:
                    current.update(item)
                    results.append({"data": current, "exceptions": []})
            else:
                return p_error(405, 1, "method not allowed")
        return json_response({"items": results})

    def window(self, query: dict[str, str]) -> list[dt.date] | Response:
        try:
            start, end = (
                dt.date.fromisoformat(query["start_date"]),
                dt.date.fromisoformat(query["end_date"]),
            )
        except (KeyError, ValueError):
            return p_error(400, 1, "start_date and end_date are required")
        if end < start or (end - start).days + 1 > 90:
            return p_error(400, 1, "Date range must be at most 90 days.")
        if query.get("granularity") != "DAY":
            return p_error(400, 1, "granularity")
        columns = query.get("columns", "")
        if not columns or columns != columns.upper():
            return p_error(400, 1, "columns are UPPER_CASE")
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]

    @staticmethod
    def metrics(day: dt.date, seed: int) -> dict[str, Any]:
        return {
            "DATE": day.isoformat(),
            "SPEND_IN_MICRO_DOLLAR": 4_200_000,
            "PAID_IMPRESSION": 300 + seed,
            "CLICKTHROUGH_1": 9,
            "TOTAL_CONVERSIONS": 1.0,
            "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR": 35_500_000,
        }

    def analytics(self, kind: str, query: dict[str, str]) -> Response:
        days = self.window(query)
        if isinstance(days, Response):
            return days
        id_param, column = {
            "campaigns": ("campaign_ids", "CAMPAIGN_ID"),
            "ads": ("ad_ids", "AD_ID"),
        }[kind]
        ids = [i for i in query.get(id_param, "").split(",") if i]
        if not ids or len(ids) > 250:
            return p_error(400, 1, f"{id_param}: 1 to 250 ids")
        rows = []
        for entity_id in ids:
            if (
                kind == "campaigns"
                and self.campaigns.get(entity_id, {}).get("status") == "ARCHIVED"
            ):
                continue  # nothing delivered: no rows at all
            for day in days:
                rows.append({column: entity_id, **self.metrics(day, len(rows))})
        return json_response(rows)

    def targeting(self, query: dict[str, str]) -> Response:
        days = self.window(query)
        if isinstance(days, Response):
            return days
        kind = query.get("targeting_types")
        values = {
            "AGE_BUCKET": ["25-34", "35-44"],
            "GENDER": ["female", "male"],
            "APPTYPE": ["iphone", "web"],
            "COUNTRY": ["US"],
        }.get(kind or "")
        if values is None:
            return p_error(400, 1, "targeting_types")
        data = []
        for campaign_id in query.get("campaign_ids", "").split(","):
            if campaign_id != "626735565838":
                continue
            for day in days:
                for value in values:
                    data.append(
                        {
                            "targeting_type": kind,
                            "targeting_value": value,
                            "metrics": {"CAMPAIGN_ID": campaign_id, **self.metrics(day, 0)},
                        }
                    )
        return json_response({"data": data})
