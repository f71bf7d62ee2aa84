"""LinkedIn Marketing API connector.

Our campaign = LinkedIn campaign group, our ad group = LinkedIn campaign, our ad = creative
(see mapping.py for why). Bids live on LinkedIn campaigns, so a bid change on our campaign
is applied to each of its live LinkedIn campaigns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from integrations.clients.errors import InvalidRequest, NotSupported
from integrations.providers.client_connector import FormGrantConnector
from integrations.providers.linkedin import mapping
from integrations.providers.linkedin.client import (
    ACCOUNT_URN,
    CAMPAIGN_URN,
    GROUP_URN,
    LinkedInClient,
    urn_id,
)
from integrations.providers.toolkit import chunks, date_windows, unique_by, utcnow
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
)
from integrations.registry import register_connector

SCOPES = "r_ads rw_ads r_ads_reporting"
# adAnalytics is unpaged and cut near 15,000 elements: ask for few ids and short windows,
# and split a window that comes back suspiciously full.
URNS_PER_ANALYTICS_CALL = 50
ANALYTICS_WINDOW_DAYS = 31
ELEMENT_CAP = 15_000
# LinkedIn campaigns that can still spend, and so take a new bid.
LIVE = {"ACTIVE", "PAUSED", "DRAFT"}


@register_connector("linkedin")
class LinkedInConnector(FormGrantConnector[LinkedInClient]):
    authorize_path = "/oauth/v2/authorization"
    token_path = "/oauth/v2/accessToken"
    scope = SCOPES
    segment_dimensions = frozenset(mapping.SEGMENT_PIVOTS)
    audience_dimensions = frozenset({AudienceDimension.AGE_RANGE, AudienceDimension.INTERESTS})

    def build_client(self, options: dict[str, Any]) -> LinkedInClient:
        return LinkedInClient(
            base_url=self.config.api_base,
            timeout=self.config.timeout,
            version=self.config.api_version,
            token=self.token,
            refresher=self.refresh_token,
            client_secret=self.config.client_secret,
            **options,
        )

    # --- accounts and structure -----------------------------------------------------------
    def list_accounts(self) -> list[RemoteAccount]:
        accounts = (mapping.account(raw) for raw in self.client.search_ad_accounts())
        return list(unique_by(accounts, lambda a: a.external_id))

    def get_account(self, account_id: str) -> RemoteAccount:
        return mapping.account(self.client.get_ad_account(account_id))

    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        groups = (
            mapping.campaign(raw, account_id)
            for raw in self.client.search_campaign_groups(account_id)
        )
        return unique_by(groups, lambda c: c.external_id)

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        groups = (mapping.ad_group(raw) for raw in self.client.search_campaigns(account_id))
        return unique_by(groups, lambda g: g.external_id)

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        group_of = self._group_of_campaign(account_id)
        ads = (mapping.ad(raw, group_of) for raw in self.client.find_creatives(account_id))
        return unique_by(ads, lambda a: a.external_id)

    def _group_of_campaign(self, account_id: str) -> dict[str, str]:
        return {g.external_id: g.campaign_external_id for g in self.list_ad_groups(account_id)}

    # --- changes ----------------------------------------------------------------------------
    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        if spec.bid_amount is not None:
            raise InvalidRequest(
                "LinkedIn bids are set on its campaigns (our ad groups), not on a campaign group",
                platform=self.platform,
            )
        currency = self.get_account(account_id).currency
        now_ms = int(utcnow().timestamp() * 1000)
        start_ms = (
            max(now_ms, mapping.date_epoch_ms(spec.start_date)) if spec.start_date else now_ms
        )
        schedule: dict[str, int] = {"start": start_ms}
        if spec.end_date:
            schedule["end"] = mapping.date_epoch_ms(spec.end_date + dt.timedelta(days=1)) - 1
        body: dict[str, Any] = {
            "account": ACCOUNT_URN.format(account_id),
            "name": spec.name,
            "status": mapping.STATUS_TO_LINKEDIN.get(spec.status, "DRAFT"),
            "runSchedule": schedule,
        }
        if spec.objective in mapping.OBJECTIVE_TO_LINKEDIN:
            body["objectiveType"] = mapping.OBJECTIVE_TO_LINKEDIN[spec.objective]
        if spec.lifetime_budget is not None:
            body["totalBudget"] = mapping.money_wire(spec.lifetime_budget, currency)
        if spec.daily_budget is not None:
            body["dailyBudget"] = mapping.money_wire(spec.daily_budget, currency)
        new_id = self.client.create_campaign_group(account_id, body)
        return mapping.campaign(self.client.get_campaign_group(account_id, new_id), account_id)

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        fields: dict[str, Any] = {}
        if update.status is not None:
            fields["status"] = self.status_wire(update.status, mapping.STATUS_TO_LINKEDIN)
        if update.name is not None:
            fields["name"] = update.name
        currency = ""
        if update.daily_budget is not None or update.lifetime_budget is not None:
            currency = self.get_account(account_id).currency
        if update.daily_budget is not None:
            fields["dailyBudget"] = mapping.money_wire(update.daily_budget, currency)
        if update.lifetime_budget is not None:
            fields["totalBudget"] = mapping.money_wire(update.lifetime_budget, currency)
        if fields:
            self.client.update_campaign_group(account_id, campaign_id, fields)
        bid = None
        if update.bid_amount is not None:
            bid = update.bid_amount
            self._set_bid(account_id, campaign_id, update.bid_amount)
        # 204 carries no body: read the group back as LinkedIn now reports it.
        group = mapping.campaign(
            self.client.get_campaign_group(account_id, campaign_id), account_id
        )
        if bid is not None:
            # Bids live one level down; report the one just set on every live child.
            group = replace(group, bid_amount=bid)
        return group

    def _set_bid(self, account_id: str, group_id: str, amount: Decimal) -> None:
        targets = [
            raw
            for raw in self.client.search_campaigns(account_id)
            if urn_id(raw.get("campaignGroup") or "") == group_id
            and str(raw.get("status") or "") in LIVE
        ]
        if not targets:
            raise InvalidRequest(
                "this campaign group has no live LinkedIn campaign to bid on",
                platform=self.platform,
            )
        for raw in unique_by(targets, lambda r: urn_id(r["id"])):
            currency = (raw.get("unitCost") or {}).get("currencyCode") or (
                raw.get("dailyBudget") or {}
            ).get("currencyCode")
            if not currency:
                currency = self.get_account(account_id).currency
            self.client.update_campaign(
                account_id, urn_id(raw["id"]), {"unitCost": mapping.money_wire(amount, currency)}
            )

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        self.client.update_campaign_group(account_id, campaign_id, {"status": "ARCHIVED"})
        return mapping.campaign(self.client.get_campaign_group(account_id, campaign_id), account_id)

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        """A creative's `intendedStatus` (ACTIVE / PAUSED) by PARTIAL_UPDATE, then re-read."""
        wire = self.ad_status_wire(status)
        self.client.update_creative(account_id, ad_id, {"intendedStatus": wire})
        raw = self.client.get_creative(account_id, ad_id)
        campaign_id = urn_id(raw.get("campaign") or "")
        group_id = urn_id(
            self.client.get_campaign(account_id, campaign_id).get("campaignGroup") or ""
        )
        return mapping.ad(raw, {campaign_id: group_id})

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        """On the LinkedIn campaign (our ad group), by PARTIAL_UPDATE: the `ageRanges` facet of
        `targetingCriteria` gains the neighbouring ranges, or `audienceExpansionEnabled` turns
        on. LinkedIn retired lookalike audiences, so there is no ratio to raise."""
        if change.dimension == AudienceDimension.LOOKALIKE:
            raise self.unsupported_targeting(change, "LinkedIn has retired lookalike audiences")
        if change.dimension == AudienceDimension.INTERESTS:
            self.client.update_campaign(account_id, ad_group_id, {"audienceExpansionEnabled": True})
        else:
            raw = self.client.get_campaign(account_id, ad_group_id)
            widened = mapping.widen_age_facet(dict(raw.get("targetingCriteria") or {}), change.step)
            if widened is not None:
                self.client.update_campaign(account_id, ad_group_id, {"targetingCriteria": widened})
        return mapping.ad_group(self.client.get_campaign(account_id, ad_group_id))

    # --- metrics ----------------------------------------------------------------------------
    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        if level == MetricLevel.CAMPAIGN:
            group_urns = [GROUP_URN.format(c.external_id) for c in self.list_campaigns(account_id)]
            for urns in chunks(group_urns, URNS_PER_ANALYTICS_CALL):
                for element in self._analytics(
                    "analytics", ["CAMPAIGN_GROUP"], start, end, "campaignGroups", urns
                ):
                    values = element.get("pivotValues") or []
                    if not values:
                        continue
                    yield mapping.daily_metric(element, level=level, campaign_id=urn_id(values[0]))
            return
        # Per ad: the statistics finder pivots by campaign and creative at once, so each
        # row says which LinkedIn campaign (our ad group) it belongs to.
        group_of = self._group_of_campaign(account_id)
        campaign_urns = [CAMPAIGN_URN.format(cid) for cid in group_of]
        for urns in chunks(campaign_urns, URNS_PER_ANALYTICS_CALL):
            for element in self._analytics(
                "statistics", ["CAMPAIGN", "CREATIVE"], start, end, "campaigns", urns
            ):
                values = element.get("pivotValues") or []
                if len(values) < 2:
                    continue
                campaign_id, creative_id = urn_id(values[0]), urn_id(values[1])
                yield mapping.daily_metric(
                    element,
                    level=level,
                    campaign_id=group_of.get(campaign_id, ""),
                    ad_group_id=campaign_id,
                    ad_id=creative_id,
                )

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        pivot = mapping.SEGMENT_PIVOTS.get(dimension)
        if pivot is None:
            raise NotSupported(f"LinkedIn reports no {dimension} breakdown", platform=self.platform)
        return self._segments(account_id, start, end, dimension, pivot)

    def _segments(
        self,
        account_id: str,
        start: dt.date,
        end: dt.date,
        dimension: SegmentDimension,
        pivot: str,
    ) -> Iterator[RemoteSegmentMetric]:
        group_urns = [GROUP_URN.format(c.external_id) for c in self.list_campaigns(account_id)]
        for urns in chunks(group_urns, URNS_PER_ANALYTICS_CALL):
            for element in self._analytics(
                "statistics", ["CAMPAIGN_GROUP", pivot], start, end, "campaignGroups", urns
            ):
                values = element.get("pivotValues") or []
                if len(values) < 2:
                    continue
                yield mapping.segment_metric(
                    element,
                    campaign_id=urn_id(values[0]),
                    dimension=dimension,
                    value=str(values[1]).lower(),
                )

    def _analytics(
        self,
        finder: str,
        pivots: list[str],
        start: dt.date,
        end: dt.date,
        filter_name: str,
        urns: list[str],
    ) -> Iterator[dict[str, Any]]:
        for window_start, window_end in date_windows(start, end, ANALYTICS_WINDOW_DAYS):
            yield from self._analytics_window(
                finder, pivots, window_start, window_end, filter_name, urns
            )

    def _analytics_window(
        self,
        finder: str,
        pivots: list[str],
        start: dt.date,
        end: dt.date,
        filter_name: str,
        urns: list[str],
    ) -> Iterator[dict[str, Any]]:
        elements = self.client.ad_analytics(
            finder=finder,
            pivots=pivots,
            start=start,
            end=end,
            filter_name=filter_name,
            filter_urns=urns,
            fields=mapping.METRIC_FIELDS,
        )
        if len(elements) >= ELEMENT_CAP and start < end:
            # Probably cut off (adAnalytics has no paging): ask again in two halves.
            middle = start + (end - start) // 2
            yield from self._analytics_window(finder, pivots, start, middle, filter_name, urns)
            yield from self._analytics_window(
                finder, pivots, middle + dt.timedelta(days=1), end, filter_name, urns
            )
            return
        yield from elements
