"""The Meta (Facebook) connector: ad accounts, campaigns, ad sets, ads and insights.

Meta has no refresh grant: a still-valid token is extended with `fb_exchange_token`
(about 60 days); an expired one means the user logs in again (AuthExpired). Servers
should prefer system-user tokens, which do not expire.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any, ClassVar

from integrations.clients.errors import AuthExpired, InvalidRequest
from integrations.clients.paging import unique_by
from integrations.connector import AdsConnector
from integrations.providers.meta import mapping
from integrations.providers.meta.client import MetaClient
from integrations.records import (
    AudienceDimension,
    CampaignSpec,
    CampaignUpdate,
    MetricLevel,
    RemoteAccount,
    RemoteAd,
    RemoteAdGroup,
    RemoteCampaign,
    RemoteDailyMetric,
    RemoteSegmentMetric,
    SegmentDimension,
    TargetingChange,
    TokenSet,
    widen_age_range,
)
from integrations.registry import register_connector
from integrations.vocabulary import BidStrategy, DeliveryStatus, Objective

ACCOUNT_FIELDS = ["id", "account_id", "name", "currency", "timezone_name", "account_status"]
CAMPAIGN_FIELDS = [
    "id",
    "name",
    "status",
    "effective_status",
    "objective",
    "daily_budget",
    "lifetime_budget",
    "bid_strategy",
    "start_time",
    "stop_time",
]
AD_SET_FIELDS = [
    "id",
    "name",
    "campaign_id",
    "status",
    "effective_status",
    "daily_budget",
    "lifetime_budget",
    "bid_amount",
    "bid_strategy",
    "targeting",
]
AD_FIELDS = [
    "id",
    "name",
    "adset_id",
    "campaign_id",
    "status",
    "effective_status",
    "creative{id,name,title,body,call_to_action_type,image_url,thumbnail_url,video_id,"
    "object_type,object_story_spec}",
]
INSIGHT_FIELDS = [
    "campaign_id",
    "adset_id",
    "ad_id",
    "date_start",
    "date_stop",
    "impressions",
    "clicks",
    "spend",
    "reach",
    "frequency",
    "actions",
    "action_values",
]
CAMPAIGN_INSIGHT_FIELDS = [name for name in INSIGHT_FIELDS if name not in ("adset_id", "ad_id")]
# Without a filter Graph leaves out archived objects; we want everything but deleted.
CAMPAIGN_STATUSES = ["ACTIVE", "PAUSED", "ARCHIVED", "IN_PROCESS", "WITH_ISSUES"]
AD_SET_STATUSES = [*CAMPAIGN_STATUSES, "CAMPAIGN_PAUSED"]
AD_STATUSES = [*AD_SET_STATUSES, "ADSET_PAUSED", "DISAPPROVED", "PENDING_REVIEW"]

DEFAULT_CONVERSION_ACTION = "purchase"


@register_connector("meta")
class MetaConnector(AdsConnector):
    segment_dimensions: ClassVar[frozenset[SegmentDimension]] = frozenset(SegmentDimension)
    # A lookalike's ratio is fixed when Meta builds the lookalike audience: no ad-set field.
    audience_dimensions: ClassVar[frozenset[AudienceDimension]] = frozenset(
        {AudienceDimension.AGE_RANGE, AudienceDimension.INTERESTS}
    )
    client_class: ClassVar[type[MetaClient]] = MetaClient
    scopes: ClassVar[tuple[str, ...]] = (
        "ads_management",
        "ads_read",
        "business_management",
        "pages_show_list",
        "pages_read_engagement",
    )
    # Breakdowns added to every insights call (Instagram adds publisher_platform).
    platform_breakdowns: ClassVar[tuple[str, ...]] = ()

    @cached_property
    def client(self) -> MetaClient:
        return self.client_class(
            config=self.config,
            access_token=self._access_token,
            session=self.session,
            rate_limiter=self.rate_limiter,
            sleep=self.sleep,
        )

    def _access_token(self) -> str:
        if self.token is None or not self.token.access_token:
            raise AuthExpired("no access token; connect the account", platform=self.platform)
        return self.token.access_token

    @property
    def conversion_action_type(self) -> str:
        """Which `actions` entry counts as a conversion (e.g. purchase, lead)."""
        return self.extra.get("conversion_action_type") or DEFAULT_CONVERSION_ACTION

    # --- OAuth ---------------------------------------------------------------------------
    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        return self.client.authorization_url(
            state=state, redirect_uri=redirect_uri, scopes=list(self.scopes)
        )

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        """Code -> short-lived token -> long-lived token (two calls, as Meta requires)."""
        short = self.client.exchange_code(code=code, redirect_uri=redirect_uri)
        long_lived = self.client.exchange_long_lived(str(short["access_token"]))
        self.token = self._token_set(long_lived)
        return self.token

    def refresh_token(self) -> TokenSet:
        """Extend a still-valid token; Meta refuses an expired one (AuthExpired)."""
        current = self._access_token()
        self.token = self._token_set(self.client.exchange_long_lived(current))
        if self.on_token_refreshed is not None:
            self.on_token_refreshed(self.token)
        return self.token

    @staticmethod
    def _token_set(payload: Mapping[str, Any]) -> TokenSet:
        expires_in = payload.get("expires_in")
        expires_at = (
            dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(expires_in))
            if expires_in
            else None  # system-user and some page tokens never expire
        )
        return TokenSet(access_token=str(payload["access_token"]), expires_at=expires_at)

    # --- Accounts ------------------------------------------------------------------------
    def list_accounts(self) -> list[RemoteAccount]:
        accounts = (mapping.account(raw) for raw in self.client.ad_accounts(ACCOUNT_FIELDS))
        return list(unique_by(accounts, lambda item: item.external_id))

    def get_account(self, account_id: str) -> RemoteAccount:
        found = mapping.account(self.client.ad_account(account_id, ACCOUNT_FIELDS))
        self._currencies[found.external_id] = found.currency
        return found

    @cached_property
    def _currencies(self) -> dict[str, str]:
        return {}

    def _currency(self, account_id: str) -> str:
        """The account's currency, which budgets' minor units depend on (cached)."""
        plain = account_id.removeprefix("act_")
        if plain not in self._currencies:
            self.get_account(plain)
        return self._currencies[plain]

    # --- Structure -----------------------------------------------------------------------
    def _raw_ad_sets(self, account_id: str) -> Iterator[dict[str, Any]]:
        return unique_by(
            self.client.ad_sets(account_id, AD_SET_FIELDS, AD_SET_STATUSES),
            lambda raw: raw.get("id"),
        )

    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        currency = self._currency(account_id)
        plain = account_id.removeprefix("act_")
        raws = self.client.campaigns(account_id, CAMPAIGN_FIELDS, CAMPAIGN_STATUSES)
        for raw in unique_by(raws, lambda raw: raw.get("id")):
            yield mapping.campaign(raw, account_id=plain, currency=currency)

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        currency = self._currency(account_id)
        for raw in self._raw_ad_sets(account_id):
            yield mapping.ad_group(raw, currency=currency)

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        raws = self.client.ads(account_id, AD_FIELDS, AD_STATUSES)
        for raw in unique_by(raws, lambda raw: raw.get("id")):
            yield mapping.ad(raw)

    def get_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        """One campaign as Meta reports it now, with the bid its ad sets share."""
        currency = self._currency(account_id)
        raw = self.client.get_node(account_id, campaign_id, CAMPAIGN_FIELDS)
        ad_sets = list(self.client.campaign_ad_sets(account_id, campaign_id, ["id", "bid_amount"]))
        return mapping.campaign(
            raw,
            account_id=account_id.removeprefix("act_"),
            currency=currency,
            bid_amount=mapping.uniform_bid(ad_sets, currency),
        )

    # --- Changes -------------------------------------------------------------------------
    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        currency = self._currency(account_id)
        try:
            objective = mapping.OBJECTIVE_TO_META[Objective(spec.objective)]
        except (KeyError, ValueError):
            raise InvalidRequest(
                f"Meta has no objective for {spec.objective!r}", platform=self.platform
            ) from None
        if spec.bid_amount is not None:
            raise InvalidRequest(
                "Meta sets bids on ad sets; create the campaign without a bid amount",
                platform=self.platform,
            )
        has_budget = spec.daily_budget is not None or spec.lifetime_budget is not None
        params: dict[str, Any] = {
            "name": spec.name,
            "objective": objective,
            "status": self._meta_status(spec.status),
            # Required on every create; none of the special categories applies by default.
            "special_ad_categories": [],
        }
        if has_budget:
            params["bid_strategy"] = self._meta_bid_strategy(spec.bid_strategy)
        else:
            # Ad-set budgets: Meta asks explicitly whether ad sets may share their budget.
            params["is_adset_budget_sharing_enabled"] = False
        if spec.daily_budget is not None:
            params["daily_budget"] = mapping.to_minor(spec.daily_budget, currency)
        if spec.lifetime_budget is not None:
            params["lifetime_budget"] = mapping.to_minor(spec.lifetime_budget, currency)
        if spec.start_date is not None:
            params["start_time"] = spec.start_date.isoformat()
        if spec.end_date is not None:
            params["stop_time"] = spec.end_date.isoformat()
        campaign_id = self.client.create_campaign(account_id, params)
        return self.get_campaign(account_id, campaign_id)

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        """Status, name and budgets on the campaign; a bid goes to each of its ad sets."""
        currency = self._currency(account_id)
        params: dict[str, Any] = {}
        if update.status is not None:
            params["status"] = self._meta_status(update.status)
        if update.name is not None:
            params["name"] = update.name
        if update.daily_budget is not None:
            params["daily_budget"] = mapping.to_minor(update.daily_budget, currency)
        if update.lifetime_budget is not None:
            params["lifetime_budget"] = mapping.to_minor(update.lifetime_budget, currency)
        if params:
            self.client.update_node(account_id, campaign_id, params)
        if update.bid_amount is not None:
            bid = mapping.to_minor(update.bid_amount, currency)
            for ad_set in list(self.client.campaign_ad_sets(account_id, campaign_id, ["id"])):
                self.client.update_node(account_id, str(ad_set["id"]), {"bid_amount": bid})
        return self.get_campaign(account_id, campaign_id)

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        self.client.update_node(account_id, campaign_id, {"status": "ARCHIVED"})
        return self.get_campaign(account_id, campaign_id)

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        """`POST /{ad_id}` with `status` ACTIVE or PAUSED, then the ad as Meta reports it."""
        self.ad_status_wire(status)
        self.client.update_node(account_id, ad_id, {"status": self._meta_status(status)})
        return mapping.ad(self.client.get_node(account_id, ad_id, AD_FIELDS))

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        """Read the ad set's `targeting`, widen `age_min`/`age_max` or switch on Advantage+
        audience (`targeting_automation.advantage_audience = 1`), and post the whole spec
        back: Graph replaces `targeting` as a unit, so the rest is sent as it was read."""
        if change.dimension == AudienceDimension.LOOKALIKE:
            raise self.unsupported_targeting(
                change, "Meta fixes a lookalike's ratio when it creates the lookalike audience"
            )
        currency = self._currency(account_id)
        raw = self.client.get_node(account_id, ad_group_id, AD_SET_FIELDS)
        targeting = dict(raw.get("targeting") or {})
        if change.dimension == AudienceDimension.AGE_RANGE:
            targeting["age_min"], targeting["age_max"] = widen_age_range(
                targeting.get("age_min"), targeting.get("age_max"), change.step
            )
        else:
            automation = dict(targeting.get("targeting_automation") or {})
            automation["advantage_audience"] = 1
            targeting["targeting_automation"] = automation
        self.client.update_node(account_id, ad_group_id, {"targeting": targeting})
        return mapping.ad_group(
            self.client.get_node(account_id, ad_group_id, AD_SET_FIELDS), currency=currency
        )

    def _meta_status(self, status: str) -> str:
        try:
            return mapping.STATUS_TO_META[DeliveryStatus(status)]
        except (KeyError, ValueError):
            raise InvalidRequest(f"Meta has no status {status!r}", platform=self.platform) from None

    def _meta_bid_strategy(self, strategy: str) -> str:
        try:
            return mapping.BID_STRATEGY_TO_META[BidStrategy(strategy)]
        except (KeyError, ValueError):
            raise InvalidRequest(
                f"Meta has no bid strategy {strategy!r}", platform=self.platform
            ) from None

    # --- Metrics -------------------------------------------------------------------------
    def _insights(
        self,
        account_id: str,
        *,
        start: dt.date,
        end: dt.date,
        level: str,
        breakdowns: tuple[str, ...] = (),
    ) -> Iterator[dict[str, Any]]:
        all_breakdowns = list(dict.fromkeys((*self.platform_breakdowns, *breakdowns)))
        params: dict[str, Any] = {
            "level": level,
            "fields": ",".join(INSIGHT_FIELDS if level == "ad" else CAMPAIGN_INSIGHT_FIELDS),
            "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()}),
            "time_increment": 1,
            "use_account_attribution_setting": "true",
        }
        if all_breakdowns:
            params["breakdowns"] = ",".join(all_breakdowns)
        for row in self.client.insights(account_id, params):
            if self.keep_insight_row(row):
                yield row

    def keep_insight_row(self, row: Mapping[str, Any]) -> bool:
        """Whether an insights row belongs to this connector (Instagram keeps its own)."""
        return True

    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        rows = self._insights(account_id, start=start, end=end, level=str(level))
        metrics = (
            mapping.daily_metric(
                row, level=level, conversion_action_type=self.conversion_action_type
            )
            for row in rows
        )
        yield from unique_by(
            metrics,
            lambda m: (m.campaign_external_id, m.ad_external_id, m.date),
        )

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        if dimension not in self.segment_dimensions:
            return super().segment_metrics(account_id, start=start, end=end, dimension=dimension)
        return self._segment_metrics(account_id, start=start, end=end, dimension=dimension)

    def _segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        rows = self._insights(
            account_id,
            start=start,
            end=end,
            level="campaign",
            breakdowns=mapping.SEGMENT_BREAKDOWNS[dimension],
        )
        metrics = (
            mapping.segment_metric(
                row,
                dimension=dimension,
                value=mapping.segment_value(row, dimension),
                conversion_action_type=self.conversion_action_type,
            )
            for row in rows
        )
        yield from unique_by(metrics, lambda m: (m.campaign_external_id, m.date, m.value))
