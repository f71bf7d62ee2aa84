"""A fake Google Ads REST API (and OAuth token endpoint) on loopback.

It answers GAQL through `googleAds:searchStream` with a JSON array of batches, camelCase
fields and int64 values as strings; mutates through `<service>:mutate` and
`googleAds:mutate`; errors as `{"error": {code, message, status, details: [GoogleAdsFailure]}}`
(wrapped in an array for searchStream). It checks the `developer-token` and
`login-customer-id` headers like the real service does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.integrations.fakes import FakeServer, json_response

VERSION = "v25"
CLIENT_ID = "google-client-1.apps.googleusercontent.com"
CLIENT_SECRET = "google-client-secret-93kd"
DEVELOPER_TOKEN = "google-dev-token-Qx81"
GOOD_CODE = "4/google-auth-code"
REFRESH_TOKEN = "1//google-refresh-token-zz1"
FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.v25.errors.GoogleAdsFailure"


def ads_error(
    status: str,
    http: int,
    category: str,
    value: str,
    message: str = "error",
    *,
    retry_delay: str | None = None,
    stream: bool = False,
) -> Response:
    failure: dict[str, Any] = {"errorCode": {category: value}, "message": message}
    if retry_delay is not None:
        failure["details"] = {
            "quotaErrorDetails": {
                "rateScope": "DEVELOPER",
                "rateName": "Requests",
                "retryDelay": retry_delay,
            }
        }
    body: Any = {
        "error": {
            "code": http,
            "message": message,
            "status": status,
            "details": [{"@type": FAILURE_TYPE, "errors": [failure], "requestId": "req-1"}],
        }
    }
    return json_response([body] if stream else body, http)


class FakeGoogleAds:
    def __init__(self, server: HTTPServer, *, batch_size: int = 2) -> None:
        self.http = FakeServer(server)
        self.batch_size = batch_size
        self.valid_tokens: set[str] = {"ya29.initial-access-token"}
        self.refresh_tokens = {REFRESH_TOKEN}
        self.tokens = (f"ya29.access-{n}" for n in itertools.count(1))
        self.ids = itertools.count(7000)
        self.accessible: list[str] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.managed: dict[str, list[str]] = {}  # manager -> client customer ids
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.budgets: dict[str, dict[str, Any]] = {}
        self.ad_groups: dict[str, dict[str, Any]] = {}
        self.ads: list[dict[str, Any]] = []
        # Ad group criteria (age ranges): {"adGroup": id, "resourceName", "ageRange", "negative"}
        self.criteria: list[dict[str, Any]] = []
        self.report_rows: dict[str, list[dict[str, Any]]] = {}
        self.geo_constants: dict[str, str] = {}
        self.mutations: list[tuple[str, Any]] = []
        self.queries: list[tuple[str, str]] = []
        v = VERSION
        self.http.route("POST", "/o/oauth2/token", self.token)
        self.http.route("GET", f"/{v}/customers:listAccessibleCustomers", self.list_accessible)
        self.http.route(
            "POST", rf"/{v}/customers/(?P<cid>\d+)/googleAds:searchStream", self.search_stream
        )
        self.http.route("POST", rf"/{v}/customers/(?P<cid>\d+)/googleAds:mutate", self.mutate_all)
        self.http.route(
            "POST", rf"/{v}/customers/(?P<cid>\d+)/(?P<service>\w+):mutate", self.mutate
        )

    # --- Seeding -------------------------------------------------------------------------
    def add_customer(
        self, cid: str, *, manager: bool = False, under: str | None = None, currency: str = "USD"
    ) -> None:
        self.customers[cid] = {
            "resourceName": f"customers/{cid}",
            "id": cid,
            "descriptiveName": f"Customer {cid}",
            "currencyCode": currency,
            "timeZone": "Europe/Berlin",
            "manager": manager,
            "status": "ENABLED",
        }
        if under:
            self.managed.setdefault(under, []).append(cid)
        else:
            self.accessible.append(cid)

    def add_campaign(
        self, cid: str, campaign_id: str, *, budget_micros: str = "50000000", **fields: Any
    ) -> None:
        budget_id = str(next(self.ids))
        self.budgets[budget_id] = {
            "resourceName": f"customers/{cid}/campaignBudgets/{budget_id}",
            "amountMicros": budget_micros,
        }
        self.campaigns[campaign_id] = {
            "customer": cid,
            "resourceName": f"customers/{cid}/campaigns/{campaign_id}",
            "id": campaign_id,
            "name": f"Campaign {campaign_id}",
            "status": "ENABLED",
            "advertisingChannelType": "SEARCH",
            "biddingStrategyType": "MANUAL_CPC",
            "startDateTime": "2026-03-01 00:00:00",
            "campaignBudget": f"customers/{cid}/campaignBudgets/{budget_id}",
            **fields,
        }

    def add_ad_group(self, cid: str, ad_group_id: str, campaign_id: str, **fields: Any) -> None:
        self.ad_groups[ad_group_id] = {
            "customer": cid,
            "campaign": campaign_id,
            "resourceName": f"customers/{cid}/adGroups/{ad_group_id}",
            "id": ad_group_id,
            "name": f"Ad group {ad_group_id}",
            "status": "ENABLED",
            "cpcBidMicros": "1500000",
            **fields,
        }

    # --- Helpers -------------------------------------------------------------------------
    def _auth_error(self, request: Request, *, stream: bool) -> Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid_tokens:
            return ads_error(
                "UNAUTHENTICATED",
                401,
                "authenticationError",
                "OAUTH_TOKEN_EXPIRED",
                f"Request had invalid authentication credentials: {token}",
                stream=stream,
            )
        if request.headers.get("developer-token") != DEVELOPER_TOKEN:
            return ads_error(
                "UNAUTHENTICATED",
                401,
                "authenticationError",
                "DEVELOPER_TOKEN_INVALID",
                "The developer token is not valid.",
                stream=stream,
            )
        return None

    def _customer_error(self, request: Request, cid: str, *, stream: bool) -> Response | None:
        login = request.headers.get("login-customer-id")
        managers = [m for m, children in self.managed.items() if cid in children]
        if cid not in self.customers or (managers and login not in managers):
            # What Google says when the manager is not named as login-customer-id.
            return ads_error(
                "PERMISSION_DENIED",
                403,
                "authorizationError",
                "USER_PERMISSION_DENIED",
                "User doesn't have permission to access customer.",
                stream=stream,
            )
        return None

    def _campaign_row(self, campaign: dict[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in campaign.items() if k != "customer"}
        budget_id = campaign["campaignBudget"].rsplit("/", 1)[-1]
        return {"campaign": public, "campaignBudget": dict(self.budgets[budget_id])}

    # --- Routes --------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        form = request.form
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return json_response(
                {"error": "invalid_client", "error_description": "Unauthorized"}, 401
            )
        access = next(self.tokens)
        if form.get("grant_type") == "authorization_code" and form.get("code") == GOOD_CODE:
            self.valid_tokens.add(access)
            return json_response(
                {
                    "access_token": access,
                    "expires_in": 3599,
                    "refresh_token": REFRESH_TOKEN,
                    "scope": "https://www.googleapis.com/auth/adwords",
                    "token_type": "Bearer",
                }
            )
        if (
            form.get("grant_type") == "refresh_token"
            and form.get("refresh_token") in self.refresh_tokens
        ):
            self.valid_tokens.add(access)
            return json_response(
                {
                    "access_token": access,
                    "expires_in": 3599,
                    "scope": "https://www.googleapis.com/auth/adwords",
                    "token_type": "Bearer",
                }
            )
        return json_response(
            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
            400,
        )

    def list_accessible(self, request: Request) -> Response:
        if denied := self._auth_error(request, stream=False):
            return denied
        return json_response({"resourceNames": [f"customers/{cid}" for cid in self.accessible]})

    def search_stream(self, request: Request, cid: str) -> Response:
        if denied := self._auth_error(request, stream=True) or self._customer_error(
            request, cid, stream=True
        ):
            return denied
        query = json.loads(request.data)["query"]
        self.queries.append((cid, query))
        try:
            rows = self._run(cid, query)
        except ValueError as exc:
            return ads_error(
                "INVALID_ARGUMENT", 400, "queryError", "UNRECOGNIZED_FIELD", str(exc), stream=True
            )
        batches = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)] or [
            []
        ]
        body = []
        for batch in batches:
            item: dict[str, Any] = {"fieldMask": "campaign.id", "requestId": "req-2"}
            if batch:
                item["results"] = batch
            body.append(item)
        return json_response(body)

    def _run(self, cid: str, query: str) -> list[dict[str, Any]]:
        """Just enough GAQL for the connector's queries: FROM, id filters, date ranges."""
        resource = re.search(r"FROM (\w+)", query)
        if not resource or "campaign.start_date " in query:
            raise ValueError("Unrecognized field in the query")
        source = resource.group(1)
        only_campaign = re.search(r"campaign\.id = (\d+)", query)
        between = re.search(r"BETWEEN '([\d-]+)' AND '([\d-]+)'", query)
        if source == "customer":
            return [{"customer": self.customers[cid]}]
        if source == "customer_client":
            return [
                {"customerClient": self.customers[child]} for child in self.managed.get(cid, [])
            ]
        if source == "geo_target_constant":
            wanted = re.findall(r"\d+", query.split("IN", 1)[1])
            return [
                {"geoTargetConstant": {"id": gid, "countryCode": self.geo_constants[gid]}}
                for gid in wanted
                if gid in self.geo_constants
            ]
        if between:
            start, end = (dt.date.fromisoformat(value) for value in between.groups())
            key = source
            if "segments.device" in query:
                key = "campaign:device"
            elif "segments.ad_network_type" in query:
                key = "campaign:network"
            if source == "geographic_view" and "LOCATION_OF_PRESENCE" not in query:
                raise ValueError("fake wants a location_type filter")
            return [
                row
                for row in self.report_rows.get(key, [])
                if start <= dt.date.fromisoformat(row["segments"]["date"]) <= end
            ]
        if source == "campaign":
            return [
                self._campaign_row(c)
                for c in self.campaigns.values()
                if c["customer"] == cid and (not only_campaign or c["id"] == only_campaign.group(1))
            ]
        only_group = re.search(r"ad_group\.id = (\d+)", query)
        if source == "ad_group":
            return [
                {
                    "adGroup": {k: v for k, v in g.items() if k not in {"customer", "campaign"}},
                    "campaign": {"id": g["campaign"]},
                }
                for g in self.ad_groups.values()
                if g["customer"] == cid
                and (not only_campaign or g["campaign"] == only_campaign.group(1))
                and (not only_group or g["id"] == only_group.group(1))
                and g["status"] != "REMOVED"
            ]
        if source == "ad_group_ad":
            only_ad = re.search(r"ad_group_ad\.ad\.id = (\d+)", query)
            return [
                row
                for row in self.ads
                if (not only_group or row["adGroup"]["id"] == only_group.group(1))
                and (not only_ad or row["adGroupAd"]["ad"]["id"] == only_ad.group(1))
            ]
        if source == "ad_group_criterion":
            if "ad_group_criterion.type = 'AGE_RANGE'" not in query:
                raise ValueError("fake wants a criterion type filter")
            return [
                {"adGroupCriterion": {k: v for k, v in c.items() if k != "adGroup"}}
                for c in self.criteria
                if not only_group or c["adGroup"] == only_group.group(1)
            ]
        raise ValueError(f"fake does not know {source}")

    def mutate(self, request: Request, cid: str, service: str) -> Response:
        if denied := self._auth_error(request, stream=False) or self._customer_error(
            request, cid, stream=False
        ):
            return denied
        body = json.loads(request.data)
        self.mutations.append((service, body))
        results = []
        for operation in body["operations"]:
            if "remove" in operation and service == "adGroupCriteria":
                name = operation["remove"]
                if not any(c["resourceName"] == name for c in self.criteria):
                    return ads_error(
                        "INVALID_ARGUMENT", 400, "mutateError", "RESOURCE_NOT_FOUND", name
                    )
                self.criteria = [c for c in self.criteria if c["resourceName"] != name]
                results.append({"resourceName": name})
                continue
            if "remove" in operation:
                campaign_id = operation["remove"].rsplit("/", 1)[-1]
                self.campaigns[campaign_id]["status"] = "REMOVED"
                results.append({"resourceName": operation["remove"]})
                continue
            update = dict(operation["update"])
            name = update.pop("resourceName")
            object_id = name.rsplit("/", 1)[-1]
            if service == "adGroupAds":
                group_id, ad_id = object_id.split("~")
                row = next(
                    (r for r in self.ads if r["adGroup"]["id"] == group_id
                     and r["adGroupAd"]["ad"]["id"] == ad_id), None,
                )  # fmt: skip
                if row is None or operation["updateMask"] != "status":
                    return ads_error(
                        "INVALID_ARGUMENT", 400, "mutateError", "RESOURCE_NOT_FOUND", name
                    )
                row["adGroupAd"]["status"] = update["status"]
                results.append({"resourceName": name})
                continue
            table = {
                "campaigns": self.campaigns,
                "campaignBudgets": self.budgets,
                "adGroups": self.ad_groups,
            }[service]
            for path in operation["updateMask"].split(","):
                head = path.split(".", 1)[0]
                table[object_id][head] = update[head]
            results.append({"resourceName": name})
        return json_response({"results": results})

    def mutate_all(self, request: Request, cid: str) -> Response:
        if denied := self._auth_error(request, stream=False) or self._customer_error(
            request, cid, stream=False
        ):
            return denied
        body = json.loads(request.data)
        self.mutations.append(("googleAds", body))
        temporary: dict[str, str] = {}
        responses = []
        for operation in body["mutateOperations"]:
            if "campaignBudgetOperation" in operation:
                create = dict(operation["campaignBudgetOperation"]["create"])
                budget_id = str(next(self.ids))
                real = f"customers/{cid}/campaignBudgets/{budget_id}"
                temporary[create.pop("resourceName")] = real
                self.budgets[budget_id] = {**create, "resourceName": real}
                responses.append({"campaignBudgetResult": {"resourceName": real}})
            elif "campaignOperation" in operation:
                create = dict(operation["campaignOperation"]["create"])
                campaign_id = str(next(self.ids))
                create["campaignBudget"] = temporary[create["campaignBudget"]]
                strategy = next(
                    (
                        s
                        for key, s in (
                            ("manualCpc", "MANUAL_CPC"),
                            ("targetCpa", "TARGET_CPA"),
                            ("targetRoas", "TARGET_ROAS"),
                            ("maximizeConversions", "MAXIMIZE_CONVERSIONS"),
                        )
                        if key in create
                    ),
                    "UNSPECIFIED",
                )
                self.campaigns[campaign_id] = {
                    **create,
                    "customer": cid,
                    "id": campaign_id,
                    "biddingStrategyType": strategy,
                    "resourceName": f"customers/{cid}/campaigns/{campaign_id}",
                }
                responses.append(
                    {"campaignResult": {"resourceName": f"customers/{cid}/campaigns/{campaign_id}"}}
                )
        return json_response({"mutateOperationResponses": responses})
