"""A loopback LinkedIn Marketing API: /rest with a required LinkedIn-Version, Rest.li 2.0
query syntax, pageToken paging, PARTIAL_UPDATE -> 204, unpaged adAnalytics, and LinkedIn's
error bodies (429 with no headers)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from werkzeug import Request, Response

from tests.integrations.loopback import FakePlatform, json_response

VERSION = "202601"


def error(status: int, code: str, message: str, service_code: int = 0) -> Response:
    body = {"status": status, "serviceErrorCode": service_code, "code": code, "message": message}
    return json_response(body, status)


class FakeLinkedIn(FakePlatform):
    page_size = 2

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "li-client"
        self.client_secret = "li-client-secret-XYZ"
        self.codes = {"li-code-1": "https://app.example/callback/linkedin"}
        self.access_tokens = {"li-access-AAA"}
        self.refresh_tokens = {"li-refresh-RRR"}
        self.issued = 0
        self.page_overlap_once = False
        self.next_id = 900
        self.accounts = {
            "501": {
                "id": 501,
                "name": "Acme EU",
                "currency": "EUR",
                "status": "ACTIVE",
                "type": "BUSINESS",
                "test": False,
            },
            "502": {
                "id": 502,
                "name": "Acme US",
                "currency": "USD",
                "status": "CANCELED",
                "type": "BUSINESS",
                "test": False,
            },
            "503": {
                "id": 503,
                "name": "Acme UK",
                "currency": "GBP",
                "status": "ACTIVE",
                "type": "BUSINESS",
                "test": True,
            },
        }
        self.groups: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.creatives: dict[str, dict[str, Any]] = {}
        for gid, name, status in [
            ("601", "Spring launch", "ACTIVE"),
            ("602", "Hiring", "PAUSED"),
            ("603", "Old", "COMPLETED"),
        ]:
            self.groups[gid] = {
                "id": int(gid),
                "account": "urn:li:sponsoredAccount:501",
                "name": name,
                "status": status,
                "objectiveType": "WEBSITE_VISIT",
                "totalBudget": {"amount": "5000.00", "currencyCode": "EUR"},
                "runSchedule": {"start": 1767225600000},
            }
        for cid, gid, status in [
            ("701", "601", "ACTIVE"),
            ("702", "601", "PAUSED"),
            ("703", "602", "ACTIVE"),
            ("704", "603", "COMPLETED"),
        ]:
            self.campaigns[cid] = {
                "id": int(cid),
                "account": "urn:li:sponsoredAccount:501",
                "campaignGroup": f"urn:li:sponsoredCampaignGroup:{gid}",
                "name": f"Ad set {cid}",
                "status": status,
                "costType": "CPC",
                "dailyBudget": {"amount": "50.00", "currencyCode": "EUR"},
                "unitCost": {"amount": "3.10", "currencyCode": "EUR"},
                "targetingCriteria": {"include": {"and": []}},
            }
        for crid, cid in [("801", "701"), ("802", "701"), ("803", "703")]:
            self.creatives[crid] = {
                "id": f"urn:li:sponsoredCreative:{crid}",
                "campaign": f"urn:li:sponsoredCampaign:{cid}",
                "intendedStatus": "ACTIVE",
                "name": f"Creative {crid}",
                "content": {"textAd": {"headline": f"Headline {crid}", "description": "Body"}},
            }

    # --- helpers ---------------------------------------------------------------------------
    def issue(self) -> dict[str, Any]:
        self.issued += 1
        access = f"li-access-new-{self.issued}"
        refresh = f"li-refresh-new-{self.issued}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "expires_in": 5184000,
            "refresh_token": refresh,
            "refresh_token_expires_in": 31536000,
            "scope": "r_ads,rw_ads,r_ads_reporting",
        }

    def page(self, request: Request, elements: list[dict[str, Any]]) -> Response:
        raw = dict(parse_qsl(request.query_string.decode()))
        size = min(int(raw.get("pageSize", "10")), self.page_size)
        token = raw.get("pageToken")
        offset = int(token.removeprefix("tok-")) if token else 0
        if token and self.page_overlap_once:
            # Something was inserted meanwhile: the next page starts one element early.
            self.page_overlap_once = False
            offset -= 1
        chunk = elements[offset : offset + size]
        body: dict[str, Any] = {
            "elements": chunk,
            "paging": {"count": size, "links": []},
            "metadata": {},
        }
        if offset + size < len(elements):
            body["metadata"]["nextPageToken"] = f"tok-{offset + size}"
        return json_response(body)

    # --- routing ---------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/oauth/v2/accessToken" and request.method == "POST":
            return self.token(request)
        if not path.startswith("/rest/"):
            return error(404, "NOT_FOUND", "no such resource")
        if request.headers.get("LinkedIn-Version") != VERSION:
            return error(426, "NONEXISTENT_VERSION", "Requested version is not active")
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return error(400, "PROTOCOL_VERSION", "Rest.li protocol 2.0.0 is required")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
        return self.api(request)

    def token(self, request: Request) -> Response:
        form = request.form
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return json_response(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401,
            )
        grant = form.get("grant_type")
        if grant == "authorization_code":
            expected_redirect = self.codes.pop(form.get("code", ""), None)
            if expected_redirect is None or expected_redirect != form.get("redirect_uri"):
                return json_response(
                    {"error": "invalid_grant", "error_description": "code is invalid"}, 400
                )
            return json_response(self.issue())
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return json_response(
                    {"error": "invalid_grant", "error_description": "refresh token revoked"}, 400
                )
            return json_response(self.issue())
        return json_response({"error": "unsupported_grant_type"}, 400)

    def api(self, request: Request) -> Response:
        path, method = request.path, request.method
        query = dict(parse_qsl(request.query_string.decode()))
        if path == "/rest/adAccounts" and method == "GET":
            if query.get("q") != "search":
                return error(400, "ILLEGAL_ARGUMENT", "q=search required")
            return self.page(request, list(self.accounts.values()))
        if path == "/rest/adAnalytics" and method == "GET":
            return self.analytics(request)
        m = re.fullmatch(r"/rest/adAccounts/(\d+)(?:/(\w+))?(?:/([^/]+))?", path)
        if not m:
            return error(404, "NOT_FOUND", "no such resource")
        account_id, collection, item_id = m.groups()
        if item_id is not None and collection == "creatives":
            # Creatives are addressed by their URN, URL-encoded, never by a bare number.
            raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI") or ""
            encoded = raw.split("?")[0].rsplit("/", 1)[-1]
            urn = unquote(encoded)
            if ":" in encoded or not urn.startswith("urn:li:sponsoredCreative:"):
                return error(400, "ILLEGAL_ARGUMENT", "creative key must be an encoded URN")
            item_id = urn.rsplit(":", 1)[-1]
        elif item_id is not None and not item_id.isdigit():
            return error(404, "NOT_FOUND", "no such resource")
        if account_id not in self.accounts:
            return error(404, "NOT_FOUND", f"ad account {account_id} not found")
        if collection is None:
            return json_response(self.accounts[account_id])
        store = {
            "adCampaignGroups": self.groups,
            "adCampaigns": self.campaigns,
            "creatives": self.creatives,
        }.get(collection)
        if store is None:
            return error(404, "NOT_FOUND", "no such collection")
        owned = {
            k: v
            for k, v in store.items()
            if collection == "creatives"
            or v.get("account") == f"urn:li:sponsoredAccount:{account_id}"
        }
        if method == "GET" and item_id is None:
            if collection == "creatives":
                if (
                    query.get("q") != "criteria"
                    or request.headers.get("X-RestLi-Method") != "FINDER"
                ):
                    return error(400, "ILLEGAL_ARGUMENT", "creatives need q=criteria as a FINDER")
            else:
                if query.get("q") != "search":
                    return error(400, "ILLEGAL_ARGUMENT", "q=search required")
                raw_search = request.query_string.decode().split("search=", 1)[-1].split("&", 1)[0]
                if not raw_search.startswith("(status:(values:List("):
                    return error(
                        400, "ILLEGAL_ARGUMENT", "search must be Rest.li syntax, unencoded"
                    )
            return self.page(request, list(owned.values()))
        if method == "GET":
            if item_id not in owned:
                return error(404, "NOT_FOUND", "not found")
            return json_response(owned[item_id])
        if method == "POST" and item_id is None and collection == "adCampaignGroups":
            body = json.loads(request.get_data() or b"{}")
            if body.get("account") != f"urn:li:sponsoredAccount:{account_id}" or not body.get(
                "name"
            ):
                return error(422, "FIELD_VALUE_INVALID", "account and name are required")
            self.next_id += 1
            new = {**body, "id": self.next_id}
            self.groups[str(self.next_id)] = new
            return Response(status=201, headers={"x-restli-id": str(self.next_id)})
        if method == "POST" and item_id is not None:
            if request.headers.get("X-RestLi-Method") != "PARTIAL_UPDATE":
                return error(400, "ILLEGAL_ARGUMENT", "POST to an entity must be a PARTIAL_UPDATE")
            if item_id not in owned:
                return error(404, "NOT_FOUND", "not found")
            body = json.loads(request.get_data() or b"{}")
            changes = (body.get("patch") or {}).get("$set")
            if not isinstance(changes, dict):
                return error(400, "ILLEGAL_ARGUMENT", "patch.$set required")
            store[item_id].update(changes)
            return Response(status=204)
        return error(405, "METHOD_NOT_ALLOWED", "method not allowed")

    def analytics(self, request: Request) -> Response:
        raw = request.query_string.decode()
        query = dict(parse_qsl(raw))
        # Rest.li 2.0: structure literal, URNs encoded.
        if "%28" in raw or "%3A%28" in raw or "dateRange=(start:(" not in raw:
            return error(400, "ILLEGAL_ARGUMENT", "malformed Rest.li query")
        fields = query.get("fields", "").split(",")
        if len(fields) > 20:
            return error(400, "ILLEGAL_ARGUMENT", "at most 20 fields")
        m = re.search(
            r"dateRange=\(start:\(year:(\d+),month:(\d+),day:(\d+)\),end:\(year:(\d+),month:(\d+),day:(\d+)\)\)",
            raw,
        )
        if not m or query.get("timeGranularity") != "(value:DAILY)":
            return error(400, "ILLEGAL_ARGUMENT", "dateRange and DAILY granularity expected")
        y1, m1, d1, y2, m2, d2 = map(int, m.groups())
        start, end = dt.date(y1, m1, d1), dt.date(y2, m2, d2)
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        filters = {}
        for key in ("campaignGroups", "campaigns"):
            fm = re.search(key + r"=List\(([^)]*)\)", raw)
            if fm:
                items = fm.group(1).split(",")
                if any(":" in item for item in items):
                    return error(400, "ILLEGAL_ARGUMENT", "URNs inside List() must be encoded")
                filters[key] = [unquote(item).rsplit(":", 1)[-1] for item in items]
        elements = []
        if query.get("q") == "analytics" and query.get("pivot") == "(value:CAMPAIGN_GROUP)":
            for gid in filters.get("campaignGroups", []):
                if gid in ("603",) or gid not in self.groups:
                    continue  # no delivery: LinkedIn simply omits it
                for i, day in enumerate(days):
                    elements.append(
                        self.element(day, [f"urn:li:sponsoredCampaignGroup:{gid}"], int(gid) + i)
                    )
        elif query.get("q") == "statistics" and query.get("pivots") == "List(CAMPAIGN,CREATIVE)":
            for crid, creative in self.creatives.items():
                cid = creative["campaign"].rsplit(":", 1)[-1]
                if cid not in filters.get("campaigns", []):
                    continue
                for i, day in enumerate(days):
                    elements.append(
                        self.element(
                            day, [f"urn:li:sponsoredCampaign:{cid}", creative["id"]], int(crid) + i
                        )
                    )
        elif query.get("q") == "statistics" and query.get("pivots", "").startswith(
            "List(CAMPAIGN_GROUP,"
        ):
            for gid in filters.get("campaignGroups", []):
                if gid != "601":
                    continue
                for i, day in enumerate(days):
                    for device in ("DESKTOP_WEB", "MOBILE_APP"):
                        elements.append(
                            self.element(day, [f"urn:li:sponsoredCampaignGroup:{gid}", device], i)
                        )
        else:
            return error(400, "ILLEGAL_ARGUMENT", "unsupported finder/pivot")
        return json_response(
            {"elements": elements, "paging": {"count": 10, "start": 0, "links": []}}
        )

    @staticmethod
    def element(day: dt.date, pivots: list[str], seed: int) -> dict[str, Any]:
        return {
            "dateRange": {
                "start": {"year": day.year, "month": day.month, "day": day.day},
                "end": {"year": day.year, "month": day.month, "day": day.day},
            },
            "pivotValues": pivots,
            "impressions": 1000 + seed,
            "clicks": 10 + seed % 7,
            "costInLocalCurrency": "12.34",
            "externalWebsiteConversions": 2,
            "conversionValueInLocalCurrency": "40.5",
            "videoViews": 0,
        }
