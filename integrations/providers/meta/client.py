"""Meta Marketing API (Graph API) over HTTP: one method per remote call.

Paths are exactly the Graph host's (`/v25.0/act_123/campaigns`). The token goes in the
`Authorization: Bearer` header, never in the query string, so URLs in logs and errors
carry no secret. Meta's usage headers are read on every response and block the shared
limiter before Meta itself starts refusing calls.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator, Mapping
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

logger = logging.getLogger("integrations.meta")

# Graph error codes (https://developers.facebook.com/docs/graph-api/guides/error-handling
# and https://developers.facebook.com/docs/marketing-api/overview/rate-limiting).
AUTH_CODES = frozenset({102, 190})
TRANSIENT_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
APP_RATE_CODES = frozenset({4})
RATE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})


def act_id(account_id: str) -> str:
    """Meta's ad-account node id: `act_<digits>` whichever form we were given."""
    return account_id if account_id.startswith("act_") else f"act_{account_id}"


def graph_form(params: Mapping[str, Any]) -> dict[str, str]:
    """Form-encode Graph POST parameters: lists and objects travel as JSON strings."""
    form: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | dict | tuple):
            form[name] = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, bool):
            form[name] = "true" if value else "false"
        else:
            form[name] = str(value)
    return form


class MetaClient(HttpApiClient):
    platform: ClassVar[str] = "meta"
    # Steady pace per ad account; Meta's real budget is the usage headers, read below.
    rate_per_second: ClassVar[float] = 5.0
    burst: ClassVar[int] = 10
    page_size: ClassVar[int] = 200
    # Some Graph edges (the Ad Library) also end a listing with an empty `data` page.
    ends_on_empty_page: ClassVar[bool] = False
    # Slow down when any usage figure passes this percentage...
    usage_threshold: ClassVar[float] = 90.0
    # ...for this long, unless Meta names its own regain time.
    usage_pause: ClassVar[float] = 60.0
    # A 4/17/613 without a regain time: pause this long before trying again.
    default_rate_limit_pause: ClassVar[float] = 60.0

    def __init__(
        self,
        *,
        config: PlatformConfig,
        access_token: Callable[[], str],
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self._access_token = access_token
        super().__init__(
            base_url=f"{config.api_base}/{config.api_version}",
            timeout=config.timeout,
            session=session,
            rate_limiter=rate_limiter,
            sleep=sleep,
        )

    # --- Rate-limit keys: one per ad account, one for the app -------------------------
    @staticmethod
    def account_key(account_id: str) -> str:
        # Instagram is served by the same Graph accounts and limits, so it shares keys.
        return f"meta:{act_id(account_id)}"

    def rate_limit_key(self) -> str:
        return "meta"

    def shared_rate_limit_keys(self) -> tuple[str, ...]:
        return ("meta:app",)

    # --- Hooks ---------------------------------------------------------------------------
    def secret_values(self) -> list[str]:
        try:
            token = self._access_token()
        except AuthExpired:
            token = ""
        return [token, self.config.client_secret]

    def auth_headers(
        self, method: str, url: str, params: Mapping[str, Any] | None
    ) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self._access_token()}"}

    def observe_rate_limits(self, response: requests.Response) -> None:
        """Block the limiter before Meta's hard limit (docs: marketing-api/overview/rate-limiting).

        X-App-Usage is app-wide; X-Ad-Account-Usage is the ad account of this call;
        X-Business-Use-Case-Usage is keyed by the object (ad account) id and names
        `estimated_time_to_regain_access` in minutes once a quota is spent.
        """
        app_usage = _header_json(response, "X-App-Usage")
        if isinstance(app_usage, dict) and _max_pct(app_usage) >= self.usage_threshold:
            self._slow_down("meta:app", self.usage_pause, "app usage", _max_pct(app_usage))

        account_usage = _header_json(response, "X-Ad-Account-Usage")
        if isinstance(account_usage, dict):
            pct = _number(account_usage.get("acc_id_util_pct"))
            if pct >= self.usage_threshold:
                reset = _number(account_usage.get("reset_time_duration"))
                self._slow_down(
                    self.current_rate_limit_key, reset or self.usage_pause, "ad account", pct
                )

        for object_id, seconds, pct in self._business_usage(response):
            if seconds > 0 or pct >= self.usage_threshold:
                self._slow_down(
                    self.account_key(object_id), seconds or self.usage_pause, "business use", pct
                )

    def _business_usage(self, response: requests.Response) -> Iterator[tuple[str, float, float]]:
        """(object id, seconds to regain access, highest usage %) per BUC entry."""
        usage = _header_json(response, "X-Business-Use-Case-Usage")
        if not isinstance(usage, dict):
            return
        for object_id, entries in usage.items():
            if not isinstance(entries, list):
                continue
            for entry in entries:
                if isinstance(entry, dict):
                    minutes = _number(entry.get("estimated_time_to_regain_access"))
                    yield str(object_id), minutes * 60, _max_pct(entry)

    def _slow_down(self, key: str, seconds: float, what: str, pct: float) -> None:
        logger.warning(
            "meta %s usage at %.0f%%: pausing %s for %.0fs",
            what,
            pct,
            key,
            seconds,
            extra={"platform": self.platform, "rate_limit_key": key, "pause_s": seconds},
        )
        self.rate_limiter.block(key, seconds=seconds)

    def raise_for_error(self, response: requests.Response, payload: Json) -> None:
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict):
            super().raise_for_error(response, payload)
            return
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        message = self.scrub(str(error.get("message") or "Graph API error"))[:300]
        if subcode:
            message = f"{message} (subcode {subcode})"
        kwargs: dict[str, Any] = {
            "platform": self.platform,
            "status_code": response.status_code,
            "code": code,
        }
        if code in AUTH_CODES:
            raise AuthExpired(message, **kwargs)
        if code in RATE_CODES:
            if code in APP_RATE_CODES:
                self.rate_limiter.block("meta:app", seconds=self.default_rate_limit_pause)
            regain = max((seconds for _, seconds, _ in self._business_usage(response)), default=0)
            if regain > 0:
                raise QuotaExhausted(
                    message,
                    resume_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=regain),
                    retry_after=regain,
                    **kwargs,
                )
            raise RateLimited(message, retry_after=self.default_rate_limit_pause, **kwargs)
        if error.get("is_transient") or code in TRANSIENT_CODES:
            raise PlatformUnavailable(message, **kwargs)
        if code in PERMISSION_CODES:
            raise PermissionDenied(message, **kwargs)
        if response.status_code >= 500:
            raise PlatformUnavailable(message, **kwargs)
        raise InvalidRequest(message, **kwargs)

    # --- Paging --------------------------------------------------------------------------
    def iter_edge(
        self, path: str, params: Mapping[str, Any], *, account_id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a Graph edge, page by page (cursor pagination).

        https://developers.facebook.com/docs/graph-api/results
        """
        key = self.account_key(account_id) if account_id else None

        def pages() -> Iterator[Json]:
            query: dict[str, Any] = {"limit": self.page_size, **params}
            seen_cursors: set[str] = set()
            while True:
                page = self.request("GET", path, params=query, rate_limit_key=key)
                yield page
                paging = page.get("paging") if isinstance(page, dict) else None
                paging = paging if isinstance(paging, dict) else {}
                # Meta sends cursors.after on the last page too; stop when "next" is missing.
                if not paging.get("next") or (self.ends_on_empty_page and not page.get("data")):
                    return
                after = (paging.get("cursors") or {}).get("after")
                if not after or after in seen_cursors:
                    # A cursor seen before would replay pages forever; fail the listing.
                    raise MalformedResponse(
                        "paging returned a cursor it had returned before", platform=self.platform
                    )
                seen_cursors.add(after)
                query = {**query, "after": after}

        for page in self.paginate_pages(pages()):
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise MalformedResponse("page without a data list", platform=self.platform)
            for item in data:
                if isinstance(item, dict):
                    yield item

    # --- OAuth ---------------------------------------------------------------------------
    def authorization_url(self, *, state: str, redirect_uri: str, scopes: list[str]) -> str:
        """The login dialog.

        https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
        """
        query = urlencode(
            {
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": ",".join(scopes),
                "response_type": "code",
            }
        )
        return f"{self.config.oauth_base}/{self.config.api_version}/dialog/oauth?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> dict[str, Any]:
        """Trade the dialog's code for a (short-lived) user token.

        https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#confirm
        """
        params = {
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        }
        return self._token_call(params)

    def exchange_long_lived(self, token: str) -> dict[str, Any]:
        """A ~60-day token for a still-valid one (`fb_exchange_token`); no refresh grant exists.

        https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
        """
        params = {
            "grant_type": "fb_exchange_token",
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "fb_exchange_token": token,
        }
        return self._token_call(params, extra_secret=token)

    def _token_call(self, params: dict[str, str], extra_secret: str = "") -> dict[str, Any]:
        try:
            payload = self.request("GET", "/oauth/access_token", params=params, authenticated=False)
        except InvalidRequest as exc:
            # An invalid or used code, or an expired token to exchange: the user must log in.
            message = self.scrub(exc.message)
            if extra_secret:
                message = message.replace(extra_secret, "[redacted]")
            raise AuthExpired(
                message, platform=self.platform, status_code=exc.status_code, code=exc.code
            ) from None
        if not isinstance(payload, dict) or not payload.get("access_token"):
            raise MalformedResponse("token response without access_token", platform=self.platform)
        return payload

    # --- Accounts ------------------------------------------------------------------------
    def ad_accounts(self, fields: list[str]) -> Iterator[dict[str, Any]]:
        """Ad accounts of the token's user.

        https://developers.facebook.com/docs/graph-api/reference/user/adaccounts/
        """
        return self.iter_edge("/me/adaccounts", {"fields": ",".join(fields)})

    def ad_account(self, account_id: str, fields: list[str]) -> dict[str, Any]:
        """One ad account. https://developers.facebook.com/docs/marketing-api/reference/ad-account/"""
        return self._object(
            self.request(
                "GET",
                f"/{act_id(account_id)}",
                params={"fields": ",".join(fields)},
                rate_limit_key=self.account_key(account_id),
            )
        )

    # --- Structure -----------------------------------------------------------------------
    def campaigns(
        self, account_id: str, fields: list[str], effective_status: list[str]
    ) -> Iterator[dict[str, Any]]:
        """https://developers.facebook.com/docs/marketing-api/reference/ad-account/campaigns/"""
        params = {
            "fields": ",".join(fields),
            "effective_status": json.dumps(effective_status, separators=(",", ":")),
        }
        return self.iter_edge(f"/{act_id(account_id)}/campaigns", params, account_id=account_id)

    def ad_sets(
        self, account_id: str, fields: list[str], effective_status: list[str]
    ) -> Iterator[dict[str, Any]]:
        """https://developers.facebook.com/docs/marketing-api/reference/ad-account/adsets/"""
        params = {
            "fields": ",".join(fields),
            "effective_status": json.dumps(effective_status, separators=(",", ":")),
        }
        return self.iter_edge(f"/{act_id(account_id)}/adsets", params, account_id=account_id)

    def campaign_ad_sets(
        self, account_id: str, campaign_id: str, fields: list[str]
    ) -> Iterator[dict[str, Any]]:
        """Ad sets of one campaign.

        https://developers.facebook.com/docs/marketing-api/reference/ad-campaign-group/adsets/
        """
        return self.iter_edge(
            f"/{campaign_id}/adsets", {"fields": ",".join(fields)}, account_id=account_id
        )

    def ads(
        self, account_id: str, fields: list[str], effective_status: list[str]
    ) -> Iterator[dict[str, Any]]:
        """https://developers.facebook.com/docs/marketing-api/reference/ad-account/ads/"""
        params = {
            "fields": ",".join(fields),
            "effective_status": json.dumps(effective_status, separators=(",", ":")),
        }
        return self.iter_edge(f"/{act_id(account_id)}/ads", params, account_id=account_id)

    def get_node(self, account_id: str, node_id: str, fields: list[str]) -> dict[str, Any]:
        """Read one campaign, ad set or ad.

        https://developers.facebook.com/docs/marketing-api/reference/ad-campaign-group/
        """
        return self._object(
            self.request(
                "GET",
                f"/{node_id}",
                params={"fields": ",".join(fields)},
                rate_limit_key=self.account_key(account_id),
            )
        )

    # --- Changes -------------------------------------------------------------------------
    def create_campaign(self, account_id: str, params: Mapping[str, Any]) -> str:
        """Create a campaign; returns its id. Never retried (a retry could create two).

        https://developers.facebook.com/docs/marketing-api/reference/ad-account/campaigns/#Creating
        """
        payload = self.request(
            "POST",
            f"/{act_id(account_id)}/campaigns",
            data=graph_form(params),
            idempotent=False,
            rate_limit_key=self.account_key(account_id),
        )
        created = self._object(payload).get("id")
        if not created:
            raise MalformedResponse("create answered without an id", platform=self.platform)
        return str(created)

    def update_node(self, account_id: str, node_id: str, params: Mapping[str, Any]) -> None:
        """Set fields on a campaign or ad set. Setting a value twice is harmless, so retried.

        https://developers.facebook.com/docs/marketing-api/reference/ad-campaign-group/#Updating
        """
        self.request(
            "POST",
            f"/{node_id}",
            data=graph_form(params),
            idempotent=True,
            rate_limit_key=self.account_key(account_id),
        )

    # --- Reporting -----------------------------------------------------------------------
    def insights(self, account_id: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Synchronous insights of an ad account at a level, paged like any edge.

        https://developers.facebook.com/docs/marketing-api/insights/
        """
        return self.iter_edge(f"/{act_id(account_id)}/insights", params, account_id=account_id)

    def _object(self, payload: Json) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise MalformedResponse("expected a JSON object", platform=self.platform)
        return payload


def _header_json(response: requests.Response, name: str) -> Any:
    raw = response.headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        logger.debug("meta sent an unreadable %s header", name)
        return None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _max_pct(entry: Mapping[str, Any]) -> float:
    return max(
        _number(entry.get("call_count")),
        _number(entry.get("total_cputime")),
        _number(entry.get("total_time")),
    )
