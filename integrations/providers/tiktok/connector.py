"""The TikTok connector: advertisers, campaigns, ad groups, ads and integrated reports.

TikTok's advertiser tokens are long-term and have no refresh grant: when TikTok stops
accepting one (revoked, or the user removed the app), the user authorizes again, so
`refresh_token` raises AuthExpired. Daily reports are limited to 30 days per request;
longer ranges are split.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cached_property
from typing import Any, ClassVar

from integrations.clients.errors import AuthExpired, InvalidRequest
from integrations.clients.paging import date_windows, unique_by
from integrations.connector import AdsConnector
from integrations.providers.tiktok import mapping
from integrations.providers.tiktok.client import TikTokClient, json_param
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
)
from integrations.registry import register_connector
from integrations.vocabulary import DeliveryStatus, Objective

ADVERTISER_FIELDS = ["advertiser_id", "name", "currency", "timezone", "display_timezone", "status"]
CAMPAIGN_FIELDS = [
    "campaign_id",
    "campaign_name",
    "advertiser_id",
    "objective_type",
    "budget",
    "budget_mode",
    "operation_status",
    "secondary_status",
]
AD_GROUP_FIELDS = [
    "adgroup_id",
    "adgroup_name",
    "campaign_id",
    "budget",
    "budget_mode",
    "bid_type",
    "bid_price",
    "conversion_bid_price",
    "operation_status",
    "secondary_status",
    "placements",
    "location_ids",
    "age_groups",
    "gender",
    "operating_systems",
    "smart_interest_behavior_enabled",
]
AD_FIELDS = [
    "ad_id",
    "ad_name",
    "adgroup_id",
    "campaign_id",
    "ad_text",
    "call_to_action",
    "display_name",
    "video_id",
    "image_ids",
    "landing_page_url",
    "operation_status",
    "secondary_status",
]
# Includes deleted campaigns so a sync learns about them.
ALL_CAMPAIGNS = {"secondary_status": "CAMPAIGN_STATUS_ALL"}
# Longest range report/integrated/get accepts with stat_time_day.
DAILY_WINDOW_DAYS = 30
DEFAULT_CONVERSION_METRIC = "conversion"
DEFAULT_VALUE_METRIC = "total_purchase_value"


@register_connector("tiktok")
class TikTokConnector(AdsConnector):
    segment_dimensions: ClassVar[frozenset[SegmentDimension]] = frozenset(
        mapping.SEGMENT_DIMENSIONS
    )

    @cached_property
    def client(self) -> TikTokClient:
        return TikTokClient(
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
    def conversion_metric(self) -> str:
        return self.extra.get("conversion_metric") or DEFAULT_CONVERSION_METRIC

    @property
    def value_metric(self) -> str:
        return self.extra.get("conversion_value_metric") or DEFAULT_VALUE_METRIC

    # --- OAuth ---------------------------------------------------------------------------
    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        return self.client.authorization_url(state=state, redirect_uri=redirect_uri)

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        """TikTok's own exchange: app_id + secret + auth_code (the redirect is not re-sent)."""
        data = self.client.exchange_auth_code(code)
        scope = data.get("scope") or []
        expires_in = data.get("expires_in")
        self.token = TokenSet(
            access_token=str(data["access_token"]),
            refresh_token=str(data.get("refresh_token") or ""),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(expires_in))
            if expires_in
            else None,
            scope=",".join(str(item) for item in scope) if isinstance(scope, list) else "",
        )
        return self.token

    def refresh_token(self) -> TokenSet:
        raise AuthExpired(
            "TikTok advertiser tokens cannot be refreshed; authorize the app again",
            platform=self.platform,
        )

    # --- Accounts ------------------------------------------------------------------------
    def list_accounts(self) -> list[RemoteAccount]:
        ids = [str(item["advertiser_id"]) for item in self.client.authorized_advertisers()]
        accounts: list[RemoteAccount] = []
        # advertiser/info takes up to 100 ids per call.
        for first in range(0, len(ids), 100):
            infos = self.client.advertiser_info(ids[first : first + 100], ADVERTISER_FIELDS)
            accounts.extend(mapping.account(info) for info in infos)
        return list(unique_by(accounts, lambda account: account.external_id))

    def get_account(self, account_id: str) -> RemoteAccount:
        infos = self.client.advertiser_info([account_id], ADVERTISER_FIELDS)
        if not infos:
            raise InvalidRequest(f"advertiser {account_id} not found", platform=self.platform)
        return mapping.account(infos[0])

    # --- Structure -----------------------------------------------------------------------
    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        raws = self.client.campaigns(account_id, CAMPAIGN_FIELDS, ALL_CAMPAIGNS)
        for raw in unique_by(raws, lambda raw: raw.get("campaign_id")):
            yield mapping.campaign(raw, account_id=account_id)

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        raws = self.client.ad_groups(account_id, AD_GROUP_FIELDS)
        for raw in unique_by(raws, lambda raw: raw.get("adgroup_id")):
            yield mapping.ad_group(raw)

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        raws = self.client.ads(account_id, AD_FIELDS)
        for raw in unique_by(raws, lambda raw: raw.get("ad_id")):
            yield mapping.ad(raw)

    def _campaign_raw(self, account_id: str, campaign_id: str) -> dict[str, Any]:
        filtering = {**ALL_CAMPAIGNS, "campaign_ids": [campaign_id]}
        for raw in self.client.campaigns(account_id, CAMPAIGN_FIELDS, filtering):
            if str(raw.get("campaign_id")) == str(campaign_id):
                return raw
        raise InvalidRequest(f"campaign {campaign_id} not found", platform=self.platform)

    def _ad_groups_of(self, account_id: str, campaign_id: str) -> list[dict[str, Any]]:
        raws = self.client.ad_groups(account_id, AD_GROUP_FIELDS, {"campaign_ids": [campaign_id]})
        return [
            raw
            for raw in unique_by(raws, lambda raw: raw.get("adgroup_id"))
            if str(raw.get("campaign_id")) == str(campaign_id)
        ]

    def get_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        """One campaign now, with the bid its ad groups share (TikTok bids per ad group)."""
        raw = self._campaign_raw(account_id, campaign_id)
        bid = mapping.uniform_bid(self._ad_groups_of(account_id, campaign_id))
        return mapping.campaign(raw, account_id=account_id, bid_amount=bid)

    # --- Changes -------------------------------------------------------------------------
    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        try:
            objective = mapping.OBJECTIVE_TO_TIKTOK[Objective(spec.objective)]
        except (KeyError, ValueError):
            raise InvalidRequest(
                f"TikTok has no objective for {spec.objective!r}", platform=self.platform
            ) from None
        body: dict[str, Any] = {
            "advertiser_id": account_id,
            "campaign_name": spec.name,
            "objective_type": objective,
            "operation_status": self._tiktok_status(spec.status),
        }
        if spec.daily_budget is not None:
            body.update(budget_mode="BUDGET_MODE_DAY", budget=mapping.money(spec.daily_budget))
        elif spec.lifetime_budget is not None:
            body.update(budget_mode="BUDGET_MODE_TOTAL", budget=mapping.money(spec.lifetime_budget))
        else:
            body["budget_mode"] = "BUDGET_MODE_INFINITE"
        campaign_id = self.client.create_campaign(body)
        return self.get_campaign(account_id, campaign_id)

    def _tiktok_status(self, status: str) -> str:
        try:
            return mapping.STATUS_TO_TIKTOK[DeliveryStatus(status)]
        except (KeyError, ValueError):
            raise InvalidRequest(
                f"TikTok cannot set status {status!r}", platform=self.platform
            ) from None

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        if update.status in (DeliveryStatus.ARCHIVED, DeliveryStatus.DELETED):
            return self.archive_campaign(account_id, campaign_id)
        if update.status is not None:
            self.client.update_campaign_status(
                account_id, [campaign_id], self._tiktok_status(update.status)
            )
        body: dict[str, Any] = {}
        if update.name is not None:
            body["campaign_name"] = update.name
        if update.daily_budget is not None or update.lifetime_budget is not None:
            body["budget"] = self._budget_for_mode(account_id, campaign_id, update)
        if body:
            self.client.update_campaign(
                {"advertiser_id": account_id, "campaign_id": campaign_id, **body}
            )
        if update.bid_amount is not None:
            for group in self._ad_groups_of(account_id, campaign_id):
                # Conversion-optimized groups bid with conversion_bid_price, others bid_price.
                field = (
                    "conversion_bid_price"
                    if mapping.optional_decimal(group.get("conversion_bid_price"))
                    else "bid_price"
                )
                self.client.update_ad_group(
                    {
                        "advertiser_id": account_id,
                        "adgroup_id": str(group["adgroup_id"]),
                        field: mapping.money(update.bid_amount),
                    }
                )
        return self.get_campaign(account_id, campaign_id)

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        """`POST ad/status/update/` with ENABLE or DISABLE, then the ad as TikTok lists it."""
        self.ad_status_wire(status)
        self.client.update_ad_status(account_id, [ad_id], self._tiktok_status(status))
        for raw in self.client.ads(account_id, AD_FIELDS, {"ad_ids": [ad_id]}):
            if str(raw.get("ad_id")) == str(ad_id):
                return mapping.ad(raw)
        raise InvalidRequest(f"ad {ad_id} not found", platform=self.platform)

    def _ad_group_raw(self, account_id: str, ad_group_id: str) -> dict[str, Any]:
        for raw in self.client.ad_groups(
            account_id, AD_GROUP_FIELDS, {"adgroup_ids": [ad_group_id]}
        ):
            if str(raw.get("adgroup_id")) == str(ad_group_id):
                return raw
        raise InvalidRequest(f"ad group {ad_group_id} not found", platform=self.platform)

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        """Age: `age_groups` gains every bucket the widened range overlaps (no buckets means
        all ages already). Interests: `smart_interest_behavior_enabled` (TikTok's smart
        targeting; its older targeting expansion is closed to new use). Lookalikes are
        custom audiences whose size is fixed at creation, so they cannot be widened here."""
        if change.dimension == AudienceDimension.LOOKALIKE:
            raise self.unsupported_targeting(
                change, "TikTok fixes a lookalike audience's size when it creates it"
            )
        raw = self._ad_group_raw(account_id, ad_group_id)
        body: dict[str, Any] = {"advertiser_id": account_id, "adgroup_id": ad_group_id}
        if change.dimension == AudienceDimension.AGE_RANGE:
            current = [str(value) for value in raw.get("age_groups") or []]
            if not current:
                return mapping.ad_group(raw)  # no age restriction: nothing to widen
            body["age_groups"] = mapping.widened_age_groups(current, change.step)
        else:
            body["smart_interest_behavior_enabled"] = True
        self.client.update_ad_group(body)
        return mapping.ad_group(self._ad_group_raw(account_id, ad_group_id))

    def _budget_for_mode(self, account_id: str, campaign_id: str, update: CampaignUpdate) -> float:
        """TikTok has one `budget` field read through the campaign's fixed budget_mode."""
        mode = str(self._campaign_raw(account_id, campaign_id).get("budget_mode", ""))
        if mode in mapping.DAILY_BUDGET_MODES and update.daily_budget is not None:
            return mapping.money(update.daily_budget)
        if mode == mapping.LIFETIME_BUDGET_MODE and update.lifetime_budget is not None:
            return mapping.money(update.lifetime_budget)
        raise InvalidRequest(
            f"this campaign's budget mode is {mode or 'unknown'}; it cannot take that budget",
            platform=self.platform,
        )

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        """TikTok has no archive: DELETE stops the campaign for good and keeps its reports."""
        self.client.update_campaign_status(account_id, [campaign_id], "DELETE")
        return self.get_campaign(account_id, campaign_id)

    # --- Metrics -------------------------------------------------------------------------
    def _report(
        self,
        account_id: str,
        *,
        start: dt.date,
        end: dt.date,
        report_type: str,
        data_level: str,
        dimensions: list[str],
        metrics: list[str],
    ) -> Iterator[dict[str, Any]]:
        for window_start, window_end in date_windows(start, end, days=DAILY_WINDOW_DAYS):
            yield from self.client.report(
                account_id,
                {
                    "service_type": "AUCTION",
                    "report_type": report_type,
                    "data_level": data_level,
                    "dimensions": json_param(dimensions),
                    "metrics": json_param(metrics),
                    "start_date": window_start.isoformat(),
                    "end_date": window_end.isoformat(),
                },
            )

    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        metrics = [
            "spend",
            "impressions",
            "clicks",
            "reach",
            "frequency",
            "video_play_actions",
            self.conversion_metric,
            self.value_metric,
        ]
        if level == MetricLevel.AD:
            data_level, dimensions = "AUCTION_AD", ["ad_id", "stat_time_day"]
            metrics += ["campaign_id", "adgroup_id"]  # attributes, allowed at ad level
        else:
            data_level, dimensions = "AUCTION_CAMPAIGN", ["campaign_id", "stat_time_day"]
        rows = self._report(
            account_id,
            start=start,
            end=end,
            report_type="BASIC",
            data_level=data_level,
            dimensions=dimensions,
            metrics=metrics,
        )
        records = (
            mapping.daily_metric(
                row,
                level=level,
                conversion_metric=self.conversion_metric,
                value_metric=self.value_metric,
            )
            for row in rows
        )
        yield from unique_by(records, lambda m: (m.campaign_external_id, m.ad_external_id, m.date))

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        if dimension not in self.segment_dimensions:
            return super().segment_metrics(account_id, start=start, end=end, dimension=dimension)
        rows = self._report(
            account_id,
            start=start,
            end=end,
            report_type="AUDIENCE",
            data_level="AUCTION_CAMPAIGN",
            dimensions=["campaign_id", "stat_time_day", mapping.SEGMENT_DIMENSIONS[dimension]],
            metrics=["spend", "impressions", "clicks", self.conversion_metric, self.value_metric],
        )
        records = (
            mapping.segment_metric(
                row,
                dimension=dimension,
                conversion_metric=self.conversion_metric,
                value_metric=self.value_metric,
            )
            for row in rows
        )
        return unique_by(records, lambda m: (m.campaign_external_id, m.date, m.value))
