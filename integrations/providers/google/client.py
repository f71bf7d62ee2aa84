"""Google Ads API over REST (JSON): GAQL through searchStream, mutates, OAuth 2.0.

REST speaks camelCase and sends int64 values as strings. Every call carries the
`developer-token` header, and `login-customer-id` (the manager account, digits only) when
the account is reached through a manager.
https://developers.google.com/google-ads/api/rest/overview
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
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
    QuotaExhausted,
    RateLimited,
)
from integrations.clients.ratelimit import RateLimiter
from integrations.config import PlatformConfig

SCOPE = "https://www.googleapis.com/auth/adwords"

# authenticationError values that no token refresh can fix.
NOT_TOKEN_PROBLEMS = frozenset(
    {"DEVELOPER_TOKEN_INVALID", "NOT_ADS_USER", "CUSTOMER_NOT_FOUND", "GOOGLE_ACCOUNT_DELETED"}
)
RETRYABLE_STATUSES = frozenset(
    {"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNKNOWN", "ABORTED"}
)
# The daily operations quota of the developer token; waiting minutes will not help.
DAILY_QUOTA_ERRORS = frozenset({"RESOURCE_EXHAUSTED"})


def digits(customer_id: str) -> str:
    """Google writes customer ids as 123-456-7890; the API wants 1234567890."""
    return re.sub(r"\D", "", customer_id)


class GoogleAdsClient(HttpApiClient):
    platform: ClassVar[str] = "google"
    rate_per_second: ClassVar[float] = 5.0
    burst: ClassVar[int] = 10
    # When a daily quota error names no retryDelay: try again in an hour.
    daily_quota_pause: ClassVar[float] = 3600.0

    def __init__(
        self,
        *,
        config: PlatformConfig,
        access_token: Callable[[], str],
        refresh: Callable[[], None] | None = None,
        can_refresh: Callable[[], bool] = lambda: False,
        secrets: Callable[[], list[str]] = list,
        login_customer_id: str = "",
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self._access_token = access_token
        self._refresh = refresh
        self._can_refresh = can_refresh
        self._secrets = secrets
        self.login_customer_id = digits(login_customer_id)
        super().__init__(
            base_url=f"{config.api_base}/{config.api_version}",
            timeout=config.timeout,
            session=session,
            rate_limiter=rate_limiter,
            sleep=sleep,
        )

    # --- Hooks ---------------------------------------------------------------------------
    def rate_limit_key(self) -> str:
        return "google"

    @staticmethod
    def customer_key(customer_id: str) -> str:
        return f"google:customer:{digits(customer_id)}"

    def shared_rate_limit_keys(self) -> tuple[str, ...]:
        # Quotas belong to the developer token, shared by every customer we call.
        return ("google",)

    def secret_values(self) -> list[str]:
        return [*self._secrets(), self.config.client_secret, self.config.developer_token]

    def auth_headers(
        self, method: str, url: str, params: Mapping[str, Any] | None
    ) -> Mapping[str, str]:
        headers = {
            "Authorization": f"Bearer {self._access_token()}",
            "developer-token": self.config.developer_token,
        }
        if self.login_customer_id:
            headers["login-customer-id"] = self.login_customer_id
        return headers

    def can_refresh(self) -> bool:
        return self._refresh is not None and self._can_refresh()

    def refresh_auth(self) -> None:
        if self._refresh is None:
            super().refresh_auth()
            return
        self._refresh()

    def raise_for_error(self, response: requests.Response, payload: Json) -> None:
        # searchStream wraps its error in an array, and may end a 200 stream with one.
        if isinstance(payload, list):
            for item in payload:
                if isinstance(item, dict) and isinstance(item.get("error"), dict):
                    self._raise_api_error(response, item["error"])
            if response.status_code >= 400:
                super().raise_for_error(response, payload)
            return
        if not isinstance(payload, dict) or "error" not in payload:
            super().raise_for_error(response, payload)
            return
        error = payload["error"]
        if isinstance(error, str):
            self._raise_oauth_error(response, payload)
        if isinstance(error, dict):
            self._raise_api_error(response, error)
        super().raise_for_error(response, payload)

    def _raise_oauth_error(self, response: requests.Response, payload: Mapping[str, Any]) -> None:
        """The token endpoint's RFC 6749 errors: invalid_grant means re-authorize."""
        code = str(payload.get("error"))
        message = self.scrub(f"{code}: {payload.get('error_description', '')}".strip(": "))
        kwargs: dict[str, Any] = {
            "platform": self.platform,
            "status_code": response.status_code,
            "code": code,
        }
        if code == "invalid_grant":
            raise AuthExpired(message, **kwargs)
        if code in {"invalid_client", "unauthorized_client"}:
            raise PermissionDenied(message, **kwargs)
        if response.status_code >= 500:
            raise PlatformUnavailable(message, **kwargs)
        raise InvalidRequest(message, **kwargs)

    def _raise_api_error(self, response: requests.Response, error: Mapping[str, Any]) -> None:
        status = str(error.get("status", ""))
        failures = _ads_failures(error)
        first = failures[0] if failures else {}
        category, value = _error_code(first)
        text = str(first.get("message") or error.get("message") or status or "Google Ads error")
        message = self.scrub(f"{category} {value}: {text}" if category else text)[:300]
        kwargs: dict[str, Any] = {
            "platform": self.platform,
            "status_code": response.status_code,
            "code": value or status,
        }
        if status == "UNAUTHENTICATED" or response.status_code == 401:
            if value in NOT_TOKEN_PROBLEMS:
                raise PermissionDenied(message, **kwargs)
            raise AuthExpired(message, **kwargs)
        if status == "PERMISSION_DENIED":
            raise PermissionDenied(message, **kwargs)
        if status == "RESOURCE_EXHAUSTED" or response.status_code == 429:
            retry_after = _retry_delay(first)
            if value in DAILY_QUOTA_ERRORS:
                wait = retry_after or self.daily_quota_pause
                raise QuotaExhausted(
                    message,
                    resume_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait),
                    retry_after=wait,
                    **kwargs,
                )
            raise RateLimited(message, retry_after=retry_after, **kwargs)
        if status in RETRYABLE_STATUSES or response.status_code >= 500:
            raise PlatformUnavailable(message, **kwargs)
        raise InvalidRequest(message, **kwargs)

    # --- OAuth ---------------------------------------------------------------------------
    @property
    def token_url(self) -> str:
        # accounts.google.com/o/oauth2/token is the client library's default token URI.
        return f"{self.config.oauth_base}/o/oauth2/token"

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        """Consent screen; offline access and prompt=consent so Google returns a refresh token.

        https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient
        """
        query = urlencode(
            {
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": SCOPE,
                "access_type": "offline",
                "prompt": "consent",
                "include_granted_scopes": "true",
                "state": state,
            }
        )
        return f"{self.config.oauth_base}/o/oauth2/v2/auth?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> dict[str, Any]:
        """authorization_code grant. A code is single-use, so this call is never retried.

        https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code
        """
        return self._token_call(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
            },
            idempotent=False,
        )

    def refresh_access_token(self, refresh_token: str) -> dict[str, Any]:
        """refresh_token grant. https://developers.google.com/identity/protocols/oauth2/web-server#offline"""
        return self._token_call(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
            },
            idempotent=True,
        )

    def _token_call(self, data: dict[str, str], *, idempotent: bool) -> dict[str, Any]:
        payload = self.request(
            "POST", self.token_url, data=data, authenticated=False, idempotent=idempotent
        )
        if not isinstance(payload, dict) or not payload.get("access_token"):
            raise MalformedResponse("token response without access_token", platform=self.platform)
        return payload

    # --- Calls ---------------------------------------------------------------------------
    def list_accessible_customers(self) -> list[str]:
        """Customer ids the token's user can reach directly.

        https://developers.google.com/google-ads/api/rest/reference/rest/v25/customers/listAccessibleCustomers
        """
        payload = self.request("GET", "/customers:listAccessibleCustomers")
        names = payload.get("resourceNames") if isinstance(payload, dict) else None
        if not isinstance(names, list):
            raise MalformedResponse("no resourceNames in the answer", platform=self.platform)
        return [str(name).rsplit("/", 1)[-1] for name in names]

    def search_stream(
        self, customer_id: str, query: str, *, login_customer_id: str | None = None
    ) -> list[dict[str, Any]]:
        """All rows of a GAQL query (searchStream answers with an array of batches).

        A read, so retried like a GET although it is a POST.
        https://developers.google.com/google-ads/api/rest/reference/rest/v25/customers.googleAds/searchStream
        """
        headers = {"login-customer-id": digits(login_customer_id)} if login_customer_id else None
        payload = self.request(
            "POST",
            f"/customers/{digits(customer_id)}/googleAds:searchStream",
            json_body={"query": query},
            headers=headers,
            idempotent=True,
            rate_limit_key=self.customer_key(customer_id),
        )
        if not isinstance(payload, list):
            raise MalformedResponse("searchStream did not answer an array", platform=self.platform)
        rows: list[dict[str, Any]] = []
        for batch in payload:
            if not isinstance(batch, dict):
                raise MalformedResponse(
                    "searchStream batch is not an object", platform=self.platform
                )
            results = batch.get("results", [])  # a batch without rows omits the key
            if not isinstance(results, list):
                raise MalformedResponse(
                    "searchStream results is not a list", platform=self.platform
                )
            rows.extend(row for row in results if isinstance(row, dict))
        return rows

    def mutate(
        self,
        customer_id: str,
        service: str,
        operations: list[dict[str, Any]],
        *,
        idempotent: bool,
    ) -> list[dict[str, Any]]:
        """`{service}:mutate` (campaigns, campaignBudgets, adGroups); returns its results.

        Updates and removes are safe to repeat; creates are not (idempotent=False).
        https://developers.google.com/google-ads/api/rest/reference/rest/v25/customers.campaigns/mutate
        """
        payload = self.request(
            "POST",
            f"/customers/{digits(customer_id)}/{service}:mutate",
            json_body={"operations": operations},
            idempotent=idempotent,
            rate_limit_key=self.customer_key(customer_id),
        )
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise MalformedResponse("mutate answered without results", platform=self.platform)
        return results

    def mutate_all(
        self, customer_id: str, mutate_operations: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Several resources in one atomic call (googleAds:mutate), e.g. budget + campaign.

        Never retried: it creates. https://developers.google.com/google-ads/api/rest/reference/rest/v25/customers.googleAds/mutate
        """
        payload = self.request(
            "POST",
            f"/customers/{digits(customer_id)}/googleAds:mutate",
            json_body={"mutateOperations": mutate_operations},
            idempotent=False,
            rate_limit_key=self.customer_key(customer_id),
        )
        results = payload.get("mutateOperationResponses") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise MalformedResponse("mutate answered without responses", platform=self.platform)
        return results


def _ads_failures(error: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The GoogleAdsFailure errors inside `details` (identified by @type)."""
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("GoogleAdsFailure"):
            errors = detail.get("errors")
            if isinstance(errors, list):
                return [item for item in errors if isinstance(item, dict)]
    return []


def _error_code(failure: Mapping[str, Any]) -> tuple[str, str]:
    """{"errorCode": {"quotaError": "RESOURCE_EXHAUSTED"}} -> ("quotaError", "RESOURCE_EXHAUSTED")."""
    code = failure.get("errorCode")
    if isinstance(code, dict) and code:
        category, value = next(iter(code.items()))
        return str(category), str(value)
    return "", ""


def _retry_delay(failure: Mapping[str, Any]) -> float | None:
    """quotaErrorDetails.retryDelay, a protobuf Duration in JSON ("30s", "1.5s")."""
    details = failure.get("details")
    quota = details.get("quotaErrorDetails") if isinstance(details, dict) else None
    delay = quota.get("retryDelay") if isinstance(quota, dict) else None
    if isinstance(delay, str) and delay.endswith("s"):
        try:
            return float(delay[:-1])
        except ValueError:
            return None
    return None
