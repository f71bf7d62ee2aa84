"""A loopback X Ads API v12 that checks every OAuth 1.0a signature (HMAC-SHA1 over the
consumer secret and token secret, computed here with oauthlib), pages with next_cursor,
enforces the sync-stats limits (≤20 ids, ≤7 days, whole hours) and sends both
rate-limit header families."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from oauthlib.oauth1.rfc5849 import signature, utils
from werkzeug import Request, Response

from tests.integrations.loopback import FakePlatform, json_response

ACCOUNT = "18ce54d4x5t"


def x_error(status: int, code: str, message: str, parameter: str | None = None) -> Response:
    item: dict[str, Any] = {"code": code, "message": message}
    if parameter:
        item["parameter"] = parameter
    return json_response({"errors": [item], "request": {"params": {}}}, status)


# What a PUT may set per entity (others: anything, as before).
PUT_FIELDS = {"promoted_tweets": {"entity_status"}}


class FakeX(FakePlatform):
    page_size = 2

    def __init__(self) -> None:
        super().__init__()
        self.consumer_key = "x-consumer-key"
        self.consumer_secret = "x-consumer-secret-CCC"
        self.tokens = {"x-access-AAA": "x-token-secret-SSS"}
        self.request_tokens: dict[str, str] = {}
        self.verifiers: dict[str, str] = {}
        self.callbacks: dict[str, str] = {}
        self.remaining = 250
        self.account_remaining: int | None = None
        self.bad_signatures = 0
        self.next_id = 100
        self.accounts = [
            {
                "id": ACCOUNT,
                "name": "Acme on X",
                "timezone": "America/Los_Angeles",
                "approval_status": "ACCEPTED",
                "deleted": False,
            },
            {
                "id": "gq1a2b",
                "name": "Acme review",
                "timezone": "Europe/Berlin",
                "approval_status": "UNDER_REVIEW",
                "deleted": False,
            },
            {
                "id": "zz9old",
                "name": "Closed",
                "timezone": "UTC",
                "approval_status": "ACCEPTED",
                "deleted": True,
            },
        ]
        self.funding = {
            ACCOUNT: [{"id": "fi1", "currency": "USD", "deleted": False, "cancelled": False}],
            "gq1a2b": [{"id": "fi2", "currency": "EUR", "deleted": False, "cancelled": False}],
            "zz9old": [],
        }
        self.campaigns = {
            "c1": {
                "id": "c1",
                "name": "Launch",
                "entity_status": "ACTIVE",
                "funding_instrument_id": "fi1",
                "daily_budget_amount_local_micro": 50_000_000,
                "total_budget_amount_local_micro": 1_000_000_000,
                "currency": "USD",
                "deleted": False,
                "start_time": "2026-01-05T08:00:00Z",
            },
            "c2": {
                "id": "c2",
                "name": "Always on",
                "entity_status": "PAUSED",
                "funding_instrument_id": "fi1",
                "daily_budget_amount_local_micro": 20_000_000,
                "total_budget_amount_local_micro": None,
                "currency": "USD",
                "deleted": False,
            },
            "c3": {
                "id": "c3",
                "name": "Gone",
                "entity_status": "PAUSED",
                "funding_instrument_id": "fi1",
                "daily_budget_amount_local_micro": 10_000_000,
                "currency": "USD",
                "deleted": True,
            },
        }
        self.line_items = {
            "l1": {
                "id": "l1",
                "campaign_id": "c1",
                "name": "Clicks US",
                "entity_status": "ACTIVE",
                "objective": "WEBSITE_CLICKS",
                "bid_amount_local_micro": 1_500_000,
                "deleted": False,
            },
            "l2": {
                "id": "l2",
                "campaign_id": "c1",
                "name": "Clicks CA",
                "entity_status": "PAUSED",
                "objective": "WEBSITE_CLICKS",
                "bid_amount_local_micro": 1_200_000,
                "deleted": False,
            },
            "l3": {
                "id": "l3",
                "campaign_id": "c2",
                "name": "Reach",
                "entity_status": "ACTIVE",
                "objective": "REACH",
                "bid_amount_local_micro": None,
                "deleted": False,
            },
        }
        self.promoted_tweets = {
            "p1": {
                "id": "p1",
                "line_item_id": "l1",
                "tweet_id": "111",
                "entity_status": "ACTIVE",
                "deleted": False,
            },
            "p2": {
                "id": "p2",
                "line_item_id": "l3",
                "tweet_id": "222",
                "entity_status": "ACTIVE",
                "deleted": False,
            },
        }
        self.tweets = {"111": "Spring is here", "222": "Always on, always there"}
        self.targeting_criteria: dict[str, dict[str, Any]] = {
            "t1": {"id": "t1", "line_item_id": "l1", "targeting_type": "AGE",
                   "targeting_value": "AGE_25_TO_49", "deleted": False},
            "t2": {"id": "t2", "line_item_id": "l1", "targeting_type": "LOCATION",
                   "targeting_value": "96683cc9126741d1", "deleted": False},
        }  # fmt: skip
        self.batches: list[list[dict[str, Any]]] = []

    # --- OAuth 1.0a verification ----------------------------------------------------------
    def verify(
        self, request: Request, token_secret_of: dict[str, str] | None
    ) -> tuple[dict[str, str], str | None]:
        """Recompute the signature; returns the oauth params or an error string."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            return {}, "missing OAuth header"
        oauth = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        if oauth.get("oauth_consumer_key") != self.consumer_key:
            return oauth, "unknown consumer"
        token_secret = ""
        if token_secret_of is not None:
            token = oauth.get("oauth_token", "")
            if token not in token_secret_of:
                return oauth, "unknown token"
            token_secret = token_secret_of[token]
        params = signature.collect_parameters(
            uri_query=request.query_string.decode(),
            body=None,
            headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
        base = signature.signature_base_string(
            request.method,
            signature.base_string_uri(f"http://{request.host}{request.path}"),
            signature.normalize_parameters(params),
        )
        expected = signature._sign_hmac("SHA-1", base, self.consumer_secret, token_secret)
        if oauth.get("oauth_signature") != expected:
            self.bad_signatures += 1
            return oauth, "bad signature"
        return oauth, None

    def headers(self) -> dict[str, str]:
        reset = str(int(time.time()) + 900)
        self.remaining = max(0, self.remaining - 1)
        headers = {
            "x-rate-limit-limit": "250",
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": reset,
        }
        if self.account_remaining is not None:
            self.account_remaining = max(0, self.account_remaining - 1)
            headers.update(
                {
                    "x-account-rate-limit-limit": "100",
                    "x-account-rate-limit-remaining": str(self.account_remaining),
                    "x-account-rate-limit-reset": reset,
                }
            )
        return headers

    def ok(self, body: Any) -> Response:
        return json_response(body, 200, self.headers())

    # --- routing ---------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/oauth/request_token":
            oauth, problem = self.verify(request, None)
            if problem or not oauth.get("oauth_callback"):
                return x_error(401, "32", "Could not authenticate you.")
            self.next_id += 1
            token, secret = f"req-{self.next_id}", f"req-secret-{self.next_id}"
            self.request_tokens[token] = secret
            self.callbacks[token] = oauth["oauth_callback"]
            body = urlencode(
                {
                    "oauth_token": token,
                    "oauth_token_secret": secret,
                    "oauth_callback_confirmed": "true",
                }
            )
            return Response(body, content_type="text/html; charset=utf-8")
        if path == "/oauth/access_token":
            oauth, problem = self.verify(request, self.request_tokens)
            token = oauth.get("oauth_token", "")
            if problem or self.verifiers.get(token) != oauth.get("oauth_verifier"):
                return x_error(401, "32", "Could not authenticate you.")
            del self.request_tokens[token]
            self.tokens["x-access-NEW"] = "x-token-secret-NEW"
            body = urlencode(
                {
                    "oauth_token": "x-access-NEW",
                    "oauth_token_secret": "x-token-secret-NEW",
                    "user_id": "42",
                    "screen_name": "acme",
                }
            )
            return Response(body, content_type="text/html; charset=utf-8")
        if not path.startswith("/12/"):
            return x_error(404, "NOT_FOUND", "unknown version or path")
        _, problem = self.verify(request, self.tokens)
        if problem:
            return x_error(
                401,
                "UNAUTHORIZED_ACCESS",
                f"This request is not properly authenticated ({problem})",
            )
        return self.api(request)

    def approve(self, request_token: str) -> dict[str, str]:
        """What the user's browser brings back after granting access."""
        self.verifiers[request_token] = "verifier-777"
        callback = self.callbacks[request_token]
        sep = "&" if "?" in callback else "?"
        query = dict(parse_qsl(callback.split("?", 1)[1])) if "?" in callback else {}
        query.update({"oauth_token": request_token, "oauth_verifier": "verifier-777"})
        return query | {"_callback": callback.split(sep)[0]}

    def paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        query = dict(parse_qsl(request.query_string.decode()))
        size = min(int(query.get("count", "200")), self.page_size)
        offset = int(query["cursor"].removeprefix("cur")) if query.get("cursor") else 0
        chunk = items[offset : offset + size]
        next_cursor = f"cur{offset + size}" if offset + size < len(items) else None
        return self.ok(
            {
                "request": {"params": query},
                "data": chunk,
                "data_type": "list",
                "total_count": len(items),
                "next_cursor": next_cursor,
            }
        )

    def api(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")[1:]  # drop the version
        query = dict(parse_qsl(request.query_string.decode()))
        method = request.method
        if parts == ["accounts"]:
            return self.paged(request, self.accounts)
        if parts[:2] == ["stats", "accounts"]:
            return self.stats(request, parts[2:], query)
        if parts[:2] == ["batch", "accounts"] and parts[3:] == ["targeting_criteria"]:
            return self.batch_criteria(request, parts[2])
        if parts[0] != "accounts" or len(parts) < 2:
            return x_error(404, "NOT_FOUND", "not found")
        account_id = parts[1]
        account = next((a for a in self.accounts if a["id"] == account_id), None)
        if account is None:
            return x_error(404, "ACCOUNT_NOT_FOUND", "account not found")
        if len(parts) == 2:
            return self.ok({"data": account, "request": {}})
        kind = parts[2]
        if kind == "targeting_criteria" and method == "GET":
            if "line_item_ids" not in query:
                return x_error(400, "MISSING_PARAMETER", "line_item_ids is required")
            wanted = set(query["line_item_ids"].split(","))
            return self.paged(
                request,
                [c for c in self.targeting_criteria.values()
                 if c["line_item_id"] in wanted and not c["deleted"]],
            )  # fmt: skip
        if kind == "funding_instruments":
            return self.paged(request, self.funding[account_id])
        if kind == "tweets":
            ids = query.get("tweet_ids", "").split(",")
            return self.paged(
                request,
                [
                    {"tweet_id": i, "id_str": i, "full_text": self.tweets[i]}
                    for i in ids
                    if i in self.tweets
                ],
            )
        store = {
            "campaigns": self.campaigns,
            "line_items": self.line_items,
            "promoted_tweets": self.promoted_tweets,
        }.get(kind)
        if store is None or account_id != ACCOUNT:
            return x_error(404, "NOT_FOUND", "not found")
        with_deleted = query.get("with_deleted") == "true"
        if len(parts) == 3 and method == "GET":
            items = [v for v in store.values() if with_deleted or not v.get("deleted")]
            return self.paged(request, items)
        if len(parts) == 3 and method == "POST" and kind == "campaigns":
            if not query.get("name") or not query.get("funding_instrument_id"):
                return x_error(
                    400, "MISSING_PARAMETER", "name and funding_instrument_id are required"
                )
            self.next_id += 1
            new = {
                "id": f"c{self.next_id}",
                "name": query["name"],
                "entity_status": query.get("entity_status", "ACTIVE"),
                "funding_instrument_id": query["funding_instrument_id"],
                "currency": "USD",
                "deleted": False,
                "daily_budget_amount_local_micro": int(query["daily_budget_amount_local_micro"])
                if "daily_budget_amount_local_micro" in query
                else None,
                "total_budget_amount_local_micro": int(query["total_budget_amount_local_micro"])
                if "total_budget_amount_local_micro" in query
                else None,
            }
            self.campaigns[new["id"]] = new
            return self.ok({"data": new, "request": {}})
        entity_id = parts[3] if len(parts) > 3 else ""
        entity = store.get(entity_id)
        if entity is None or (entity.get("deleted") and not with_deleted and method == "GET"):
            return x_error(404, "NOT_FOUND", "entity not found")
        if method == "GET":
            return self.ok({"data": entity, "request": {}})
        if method == "PUT":
            allowed = PUT_FIELDS.get(kind)
            if allowed is not None and set(query) - allowed:
                return x_error(
                    400, "INVALID_PARAMETER", f"{kind} cannot set {sorted(set(query) - allowed)}"
                )
            if query.get("entity_status", "ACTIVE") not in ("ACTIVE", "PAUSED", "DRAFT"):
                return x_error(400, "INVALID_PARAMETER", "entity_status", "entity_status")
            if query.get("audience_expansion", "DEFINED") not in ("DEFINED", "EXPANDED", "BROAD"):
                return x_error(400, "INVALID_PARAMETER", "audience_expansion", "audience_expansion")
            for key, value in query.items():
                entity[key] = int(value) if key.endswith("_local_micro") else value
            return self.ok({"data": entity, "request": {}})
        if method == "DELETE":
            entity["deleted"] = True
            return self.ok({"data": entity, "request": {}})
        return x_error(405, "INVALID_PARAMETER", "method not allowed")

    def batch_criteria(self, request: Request, account_id: str) -> Response:
        """All operations or none, as X's batch endpoints do; one AGE criterion per line item."""
        if account_id != ACCOUNT or request.headers.get("Content-Type") != "application/json":
            return x_error(400, "INVALID_PARAMETER", "a JSON array of operations is required")
        operations = json.loads(request.get_data() or b"[]")
        self.batches.append(operations)
        staged = {k: dict(v) for k, v in self.targeting_criteria.items()}
        for operation in operations:
            params = operation.get("params") or {}
            if operation.get("operation_type") == "Delete":
                criterion = staged.get(str(params.get("targeting_criterion_id")))
                if criterion is None:
                    return x_error(404, "NOT_FOUND", "targeting criterion not found")
                criterion["deleted"] = True
            elif operation.get("operation_type") == "Create":
                if params.get("targeting_type") == "AGE" and not str(
                    params.get("targeting_value", "")
                ).startswith("AGE_"):
                    return x_error(400, "INVALID_TARGETING_VALUE", "bad age", "targeting_value")
                self.next_id += 1
                new_id = f"t{self.next_id}"
                staged[new_id] = {"id": new_id, **params, "deleted": False}
            else:
                return x_error(400, "INVALID_PARAMETER", "operation_type", "operation_type")
        live_ages = [
            c for c in staged.values() if c["targeting_type"] == "AGE" and not c["deleted"]
        ]
        if len({c["line_item_id"] for c in live_ages}) != len(live_ages):
            return x_error(400, "DUPLICATE_TARGETING", "one AGE criterion per line item")
        self.targeting_criteria = staged
        return self.ok({"data": [], "request": {}})

    def stats(self, request: Request, rest: list[str], query: dict[str, str]) -> Response:
        try:
            start = dt.datetime.fromisoformat(query["start_time"].replace("Z", "+00:00"))
            end = dt.datetime.fromisoformat(query["end_time"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return x_error(400, "INVALID_PARAMETER", "Expected time", "start_time")
        if start.minute or start.second or end.minute or end.second:
            return x_error(400, "INVALID_PARAMETER", "times must be whole hours", "start_time")
        if end <= start or end - start > dt.timedelta(days=7):
            return x_error(400, "INVALID_TIME_WINDOW", "range must be at most 7 days")
        entity = query.get("entity")
        if rest[1:] == ["active_entities"]:
            if entity == "CAMPAIGN":
                data = [
                    {"entity_id": "c1", "placements": ["ALL_ON_TWITTER", "PUBLISHER_NETWORK"]},
                    {"entity_id": "c2", "placements": ["ALL_ON_TWITTER"]},
                ]
            else:
                data = [
                    {"entity_id": "p1", "placements": ["ALL_ON_TWITTER"]},
                    {"entity_id": "p2", "placements": ["ALL_ON_TWITTER"]},
                ]
            return self.ok({"data": data, "request": {}})
        ids = [i for i in query.get("entity_ids", "").split(",") if i]
        if len(ids) > 20:
            return x_error(400, "INVALID_PARAMETER", "too many entity_ids", "entity_ids")
        placement = query.get("placement")
        groups = set(query.get("metric_groups", "").split(","))
        if placement == "PUBLISHER_NETWORK" and "WEB_CONVERSION" in groups:
            return x_error(
                400,
                "INVALID_PARAMETER",
                "WEB_CONVERSION is not valid for PUBLISHER_NETWORK",
                "metric_groups",
            )
        if query.get("granularity") != "DAY":
            return x_error(400, "INVALID_PARAMETER", "granularity", "granularity")
        days = round((end - start).total_seconds() / 86400)
        data = []
        for entity_id in ids:
            scale = 1 if placement == "ALL_ON_TWITTER" else 0
            metrics: dict[str, Any] = {
                "impressions": [1000 * scale + 10 for _ in range(days)],
                "clicks": [20 * scale + 1 for _ in range(days)],
                "billed_charge_local_micro": [2_500_000 * scale + 500_000 for _ in range(days)],
                "video_total_views": None,
            }
            if "WEB_CONVERSION" in groups:
                metrics["conversion_purchases"] = {
                    "metric": [3] * days,
                    "sale_amount": [45_000_000] * days,
                    "order_quantity": [3] * days,
                }
                metrics["conversion_sign_ups"] = {"metric": [1] * days, "sale_amount": None}
            data.append({"id": entity_id, "id_data": [{"segment": None, "metrics": metrics}]})
        return self.ok(
            {
                "data_type": "stats",
                "time_series_length": days,
                "data": data,
                "request": {"params": query},
            }
        )
