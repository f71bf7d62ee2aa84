"""Pinterest API v5 ads connector: campaign -> ad group -> ad (promoted pin).

Writes go through the batch endpoints (≤30 items), which answer 200 even when an item is
refused; refused items raise InvalidRequest with Pinterest's message. Archiving cannot be
undone on Pinterest. Bids live on ad groups: a campaign bid is written to each of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from integrations.clients.errors import InvalidRequest, NotSupported
from integrations.providers.client_connector import BearerConnector
from integrations.providers.pinterest import mapping
from integrations.providers.pinterest.client import PinterestClient
from integrations.providers.toolkit import (
    chunks,
    date_windows,
    decimal_to_micros,
    unique_by,
)
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

SCOPES = "ads:read,ads:write"
ANALYTICS_WINDOW_DAYS = 90  # synchronous analytics: at most 90 days per call
IDS_PER_ANALYTICS_CALL = 250
LIVE = {"ACTIVE", "PAUSED", "DRAFT"}


@register_connector("pinterest")
class PinterestConnector(BearerConnector[PinterestClient]):
    audience_dimensions = frozenset({AudienceDimension.AGE_RANGE, AudienceDimension.INTERESTS})
    segment_dimensions = frozenset(mapping.SEGMENT_TYPES)

    def build_client(self, options: dict[str, Any]) -> PinterestClient:
        return PinterestClient(
            base_url=self.config.api_base,
            timeout=self.config.timeout,
            token=self.token,
            refresher=self.refresh_token,
            client_secret=self.config.client_secret,
            **options,
        )

    # --- OAuth --------------------------------------------------------------------------
    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode(
            {
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": SCOPES,
                "state": state,
            }
        )
        return f"{self.config.oauth_base}/oauth/?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        payload = self.client.token_call(
            self.config.client_id,
            self.config.client_secret,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        )
        return self.adopt_token(payload, refreshed=False)

    def refresh_token(self) -> TokenSet:
        payload = self.client.token_call(
            self.config.client_id,
            self.config.client_secret,
            {"grant_type": "refresh_token", "refresh_token": self.refresh_token_to_use()},
        )
        return self.adopt_token(payload, refreshed=True)

    # --- accounts and structure -----------------------------------------------------------
    def list_accounts(self) -> list[RemoteAccount]:
        accounts = (mapping.account(raw) for raw in self.client.ad_accounts())
        return list(unique_by(accounts, lambda a: a.external_id))

    def get_account(self, account_id: str) -> RemoteAccount:
        return mapping.account(self.client.ad_account(account_id))

    def _raw(self, account_id: str, kind: str) -> Iterator[dict[str, Any]]:
        return self.unique_raw(self.client.entities(account_id, kind))

    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        return (mapping.campaign(raw, account_id) for raw in self._raw(account_id, "campaigns"))

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        return (mapping.ad_group(raw) for raw in self._raw(account_id, "ad_groups"))

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        return (mapping.ad(raw) for raw in self._raw(account_id, "ads"))

    # --- changes ----------------------------------------------------------------------------
    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        if spec.bid_amount is not None:
            raise InvalidRequest("Pinterest bids are set on ad groups", platform=self.platform)
        if spec.daily_budget is not None and spec.lifetime_budget is not None:
            raise InvalidRequest(
                "Pinterest takes a daily or a lifetime cap, not both", platform=self.platform
            )
        item: dict[str, Any] = {
            "ad_account_id": account_id,
            "name": spec.name,
            "status": mapping.STATUS_TO_PINTEREST.get(spec.status, "PAUSED"),
            "objective_type": mapping.OBJECTIVE_TO_PINTEREST.get(spec.objective, "AWARENESS"),
        }
        if spec.daily_budget is not None:
            item["daily_spend_cap"] = decimal_to_micros(spec.daily_budget)
        if spec.lifetime_budget is not None:
            item["lifetime_spend_cap"] = decimal_to_micros(spec.lifetime_budget)
        if spec.start_date:
            item["start_time"] = _unix(spec.start_date)
        if spec.end_date:
            item["end_time"] = _unix(spec.end_date + dt.timedelta(days=1))
        created = self.client.create_campaigns(account_id, [item])
        if not created or not created[0].get("id"):
            raise InvalidRequest("Pinterest created nothing", platform=self.platform)
        return mapping.campaign(created[0], account_id)

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        item: dict[str, Any] = {"id": campaign_id}
        if update.status is not None:
            item["status"] = self.status_wire(update.status, mapping.STATUS_TO_PINTEREST)
        if update.name is not None:
            item["name"] = update.name
        if update.daily_budget is not None:
            item["daily_spend_cap"] = decimal_to_micros(update.daily_budget)
        if update.lifetime_budget is not None:
            item["lifetime_spend_cap"] = decimal_to_micros(update.lifetime_budget)
        if len(item) > 1:
            self.client.update(account_id, "campaigns", [item])
        if update.bid_amount is not None:
            self._set_bid(account_id, campaign_id, update.bid_amount)
        campaign = mapping.campaign(self.client.campaign(account_id, campaign_id), account_id)
        if update.bid_amount is not None:
            campaign = replace(campaign, bid_amount=update.bid_amount)
        return campaign

    def _set_bid(self, account_id: str, campaign_id: str, amount: Decimal) -> None:
        items = [
            {"id": str(raw["id"]), "bid_in_micro_currency": decimal_to_micros(amount)}
            for raw in self._raw(account_id, "ad_groups")
            if str(raw.get("campaign_id")) == campaign_id and raw.get("status") in LIVE
        ]
        if not items:
            raise InvalidRequest("the campaign has no ad group to bid on", platform=self.platform)
        for batch in chunks(items, self.client.batch_size):
            self.client.update(account_id, "ad_groups", batch)

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        self.client.update(account_id, "campaigns", [{"id": campaign_id, "status": "ARCHIVED"}])
        return mapping.campaign(self.client.campaign(account_id, campaign_id), account_id)

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        """PATCH /ads with `[{"id", "status"}]` (per-item refusals raise), then re-read."""
        wire = self.ad_status_wire(status)
        self.client.update(account_id, "ads", [{"id": ad_id, "status": wire}])
        return mapping.ad(self.client.entity(account_id, "ads", ad_id))

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        """PATCH /ad_groups: `targeting_spec.AGE_BUCKET` gains the neighbouring buckets (the
        spec goes back whole, as read), or `auto_targeting_enabled` (Pinterest's expanded
        targeting) turns on. Actalike audiences are sized when they are made."""
        if change.dimension == AudienceDimension.LOOKALIKE:
            raise self.unsupported_targeting(
                change, "Pinterest fixes an actalike audience's size when it creates it"
            )
        raw = self.client.entity(account_id, "ad_groups", ad_group_id)
        item: dict[str, Any] = {"id": ad_group_id}
        if change.dimension == AudienceDimension.INTERESTS:
            item["auto_targeting_enabled"] = True
        else:
            spec = dict(raw.get("targeting_spec") or {})
            buckets = mapping.widened_age_buckets(list(spec.get("AGE_BUCKET") or []), change.step)
            if buckets is None or buckets == spec.get("AGE_BUCKET"):
                return mapping.ad_group(raw)
            item["targeting_spec"] = {**spec, "AGE_BUCKET": buckets}
        self.client.update(account_id, "ad_groups", [item])
        return mapping.ad_group(self.client.entity(account_id, "ad_groups", ad_group_id))

    # --- metrics ----------------------------------------------------------------------------
    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        if level == MetricLevel.CAMPAIGN:
            ids = [str(raw["id"]) for raw in self._raw(account_id, "campaigns")]
            kind, id_param, id_column = "campaigns", "campaign_ids", "CAMPAIGN_ID"
            parents: dict[str, tuple[str, str]] = {}
        else:
            ads = list(self._raw(account_id, "ads"))
            ids = [str(raw["id"]) for raw in ads]
            kind, id_param, id_column = "ads", "ad_ids", "AD_ID"
            parents = {
                str(raw["id"]): (str(raw.get("campaign_id")), str(raw.get("ad_group_id")))
                for raw in ads
            }
        columns = ",".join((id_column, *mapping.METRIC_COLUMNS))
        for window_start, window_end in date_windows(start, end, ANALYTICS_WINDOW_DAYS):
            for batch in chunks(ids, IDS_PER_ANALYTICS_CALL):
                rows = self.client.analytics(
                    account_id,
                    kind,
                    id_param=id_param,
                    ids=batch,
                    start=window_start.isoformat(),
                    end=window_end.isoformat(),
                    columns=columns,
                )
                for row in rows:
                    entity_id = str(row.get(id_column))
                    if level == MetricLevel.CAMPAIGN:
                        yield mapping.daily_metric(row, level=level, campaign_id=entity_id)
                        continue
                    campaign_id, ad_group_id = parents.get(entity_id, ("", ""))
                    yield mapping.daily_metric(
                        row,
                        level=level,
                        campaign_id=campaign_id,
                        ad_group_id=ad_group_id,
                        ad_id=entity_id,
                    )

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        targeting_type = mapping.SEGMENT_TYPES.get(dimension)
        if targeting_type is None:
            raise NotSupported(
                f"Pinterest reports no {dimension} breakdown", platform=self.platform
            )
        return self._segments(account_id, start, end, dimension, targeting_type)

    def _segments(
        self,
        account_id: str,
        start: dt.date,
        end: dt.date,
        dimension: SegmentDimension,
        targeting_type: str,
    ) -> Iterator[RemoteSegmentMetric]:
        ids = [str(raw["id"]) for raw in self._raw(account_id, "campaigns")]
        columns = ",".join(("CAMPAIGN_ID", *mapping.METRIC_COLUMNS))
        for window_start, window_end in date_windows(start, end, ANALYTICS_WINDOW_DAYS):
            for batch in chunks(ids, IDS_PER_ANALYTICS_CALL):
                for item in self.client.targeting_analytics(
                    account_id,
                    campaign_ids=batch,
                    start=window_start.isoformat(),
                    end=window_end.isoformat(),
                    targeting_type=targeting_type,
                    columns=columns,
                ):
                    yield mapping.segment_metric(item, dimension)


def _unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())
