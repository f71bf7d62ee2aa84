"""A fake Graph API (Meta Marketing API) on loopback: paths, paging, errors, usage headers.

It keeps ad accounts, campaigns, ad sets, ads and insights rows in memory and answers the
way graph.facebook.com does: `{"data": [...], "paging": {"cursors": {...}, "next": ...}}`
with `after` present on the last page too, errors as `{"error": {...}}`, budgets as
minor-unit strings, the token in `Authorization: Bearer`.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.integrations.fakes import FakeServer, json_response

VERSION = "v25.0"
APP_ID = "app-1234"
APP_SECRET = "meta-app-secret-5f1e"
GOOD_CODE = "code-from-dialog"
SHORT_TOKEN = "meta-short-token-a81c"
LONG_TOKEN = "meta-long-token-77d2"


def graph_error(
    code: int,
    message: str = "error",
    *,
    subcode: int | None = None,
    status: int = 400,
    transient: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    return json_response({"error": error}, status, headers)


def _cursor(index: int) -> str:
    return base64.b64encode(f"idx:{index}".encode()).decode()


def _index(cursor: str) -> int:
    return int(base64.b64decode(cursor).decode().split(":", 1)[1])


class FakeGraph:
    def __init__(self, server: HTTPServer, *, page_size: int = 2) -> None:
        self.http = FakeServer(server)
        self.page_size = page_size
        self.valid_tokens = {LONG_TOKEN}
        self.usage_headers: dict[str, str] = {}
        self.ids = itertools.count(9000)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.ad_sets: dict[str, dict[str, Any]] = {}
        self.ads: dict[str, dict[str, Any]] = {}
        # (level, breakdowns) -> rows, each with date_start/date_stop
        self.insights: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
        self.posts: list[dict[str, str]] = []
        v = VERSION
        self.http.route("GET", f"/{v}/oauth/access_token", self.token)
        self.http.route("GET", f"/{v}/me/adaccounts", self.list_accounts)
        self.http.route("GET", rf"/{v}/act_(?P<account>\d+)", self.get_account)
        self.http.route(
            "GET", rf"/{v}/act_(?P<account>\d+)/(?P<edge>campaigns|adsets|ads)", self.edge
        )
        self.http.route("GET", rf"/{v}/act_(?P<account>\d+)/insights", self.get_insights)
        self.http.route("POST", rf"/{v}/act_(?P<account>\d+)/campaigns", self.create_campaign)
        self.http.route("GET", rf"/{v}/(?P<node>\d+)/adsets", self.node_ad_sets)
        self.http.route("GET", rf"/{v}/(?P<node>\d+)", self.get_node)
        self.http.route("POST", rf"/{v}/(?P<node>\d+)", self.update_node)

    # --- Seeding -------------------------------------------------------------------------
    def add_account(self, account_id: str, *, currency: str = "USD", name: str = "") -> None:
        self.accounts[account_id] = {
            "id": f"act_{account_id}",
            "account_id": account_id,
            "name": name or f"Account {account_id}",
            "currency": currency,
            "timezone_name": "America/Los_Angeles",
            "account_status": 1,
        }

    def add_campaign(self, account_id: str, campaign_id: str, **fields: Any) -> dict[str, Any]:
        campaign = {
            "id": campaign_id,
            "account_id": account_id,
            "name": f"Campaign {campaign_id}",
            "status": "ACTIVE",
            "effective_status": "ACTIVE",
            "objective": "OUTCOME_SALES",
            "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
            "start_time": "2026-03-01T00:00:00-0800",
            **fields,
        }
        self.campaigns[campaign_id] = campaign
        return campaign

    def add_ad_set(self, account_id: str, ad_set_id: str, campaign_id: str, **fields: Any) -> None:
        self.ad_sets[ad_set_id] = {
            "id": ad_set_id,
            "account_id": account_id,
            "campaign_id": campaign_id,
            "name": f"Ad set {ad_set_id}",
            "status": "ACTIVE",
            "targeting": {"geo_locations": {"countries": ["US"]}},
            **fields,
        }

    def add_ad(self, account_id: str, ad_id: str, ad_set_id: str, **fields: Any) -> None:
        self.ads[ad_id] = {
            "id": ad_id,
            "account_id": account_id,
            "adset_id": ad_set_id,
            "campaign_id": self.ad_sets[ad_set_id]["campaign_id"],
            "name": f"Ad {ad_id}",
            "status": "ACTIVE",
            **fields,
        }

    # --- Helpers -------------------------------------------------------------------------
    def _respond(self, body: Any, status: int = 200) -> Response:
        return json_response(body, status, dict(self.usage_headers))

    def _authorized(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        if not header.startswith("Bearer ") or token not in self.valid_tokens:
            return graph_error(
                190,
                f"Error validating access token: the session for {token} has expired",
                subcode=463,
                status=401,
            )
        return None

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        after = request.args.get("after")
        start = _index(after) if after else 0
        chunk = items[start : start + self.page_size]
        end = start + len(chunk)
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(end)}}
        if end < len(items):
            paging["next"] = f"{self.http.base_url}{request.path}?after={_cursor(end)}"
        return self._respond({"data": chunk, "paging": paging})

    # --- Routes --------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != APP_ID or args.get("client_secret") != APP_SECRET:
            return graph_error(101, "Error validating application", status=400)
        if args.get("grant_type") == "fb_exchange_token":
            if args.get("fb_exchange_token") not in {SHORT_TOKEN, *self.valid_tokens}:
                return graph_error(190, "Error validating access token", subcode=463)
            self.valid_tokens.add(LONG_TOKEN)
            return json_response(
                {"access_token": LONG_TOKEN, "token_type": "bearer", "expires_in": 5183944}
            )
        if args.get("code") != GOOD_CODE:
            return graph_error(100, "Invalid verification code format.", subcode=36007)
        return json_response(
            {"access_token": SHORT_TOKEN, "token_type": "bearer", "expires_in": 3600}
        )

    def list_accounts(self, request: Request) -> Response:
        return self._authorized(request) or self._page(request, list(self.accounts.values()))

    def get_account(self, request: Request, account: str) -> Response:
        if denied := self._authorized(request):
            return denied
        if account not in self.accounts:
            return graph_error(100, "Unsupported get request.", subcode=33)
        return self._respond(self.accounts[account])

    def edge(self, request: Request, account: str, edge: str) -> Response:
        if denied := self._authorized(request):
            return denied
        table = {"campaigns": self.campaigns, "adsets": self.ad_sets, "ads": self.ads}[edge]
        wanted = json.loads(request.args.get("effective_status", "[]")) or None
        items = [
            item
            for item in table.values()
            if item["account_id"] == account and (wanted is None or item["status"] in wanted)
        ]
        return self._page(request, items)

    def node_ad_sets(self, request: Request, node: str) -> Response:
        if denied := self._authorized(request):
            return denied
        items = [item for item in self.ad_sets.values() if item["campaign_id"] == node]
        return self._page(request, items)

    def get_node(self, request: Request, node: str) -> Response:
        if denied := self._authorized(request):
            return denied
        for table in (self.campaigns, self.ad_sets, self.ads):
            if node in table:
                return self._respond(table[node])
        return graph_error(100, f"Object with ID '{node}' does not exist", subcode=33)

    def create_campaign(self, request: Request, account: str) -> Response:
        if denied := self._authorized(request):
            return denied
        form = request.form.to_dict()
        self.posts.append(form)
        if "special_ad_categories" not in form:
            return graph_error(100, "Invalid parameter", subcode=1885998)
        campaign_id = str(next(self.ids))
        fields = {
            k: v
            for k, v in form.items()
            if k
            in {
                "name",
                "status",
                "objective",
                "daily_budget",
                "lifetime_budget",
                "bid_strategy",
                "start_time",
                "stop_time",
            }
        }
        self.add_campaign(account, campaign_id, **fields)
        return self._respond({"id": campaign_id})

    def update_node(self, request: Request, node: str) -> Response:
        if denied := self._authorized(request):
            return denied
        form: dict[str, Any] = request.form.to_dict()
        self.posts.append({"node": node, **form})
        if "targeting" in form:
            # Graph takes the targeting spec as a JSON object and replaces it whole.
            form["targeting"] = json.loads(form["targeting"])
            if node not in self.ad_sets:
                return graph_error(100, "Invalid parameter: targeting is an ad set field")
            ages = form["targeting"]
            if not 13 <= int(ages.get("age_min", 18)) <= int(ages.get("age_max", 65)) <= 65:
                return graph_error(100, "Invalid parameter", subcode=1487079)
        if node in self.ads and set(form) - {"status", "name"}:
            return graph_error(100, f"Invalid parameter for an ad: {sorted(form)}")
        for table in (self.campaigns, self.ad_sets, self.ads):
            if node in table:
                table[node].update(form)
                if "status" in form:
                    table[node]["effective_status"] = form["status"]
                return self._respond({"success": True})
        return graph_error(100, f"Object with ID '{node}' does not exist", subcode=33)

    def get_insights(self, request: Request, account: str) -> Response:
        if denied := self._authorized(request):
            return denied
        args = request.args
        if args.get("time_increment") != "1":
            return graph_error(100, "this fake only serves daily rows")
        window = json.loads(args["time_range"])
        since = dt.date.fromisoformat(window["since"])
        until = dt.date.fromisoformat(window["until"])
        breakdowns = tuple(args.get("breakdowns", "").split(",")) if args.get("breakdowns") else ()
        rows = [
            row
            for row in self.insights.get((args["level"], breakdowns), [])
            if row.get("account_id", account) == account
            and since <= dt.date.fromisoformat(row["date_start"]) <= until
        ]
        return self._page(request, rows)
