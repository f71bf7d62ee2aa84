"""The Instagram connector: Meta's connector restricted to Instagram placements.

Structure: ad sets that can deliver on Instagram, their campaigns and their ads.
Metrics: insights broken down by `publisher_platform`, keeping the "instagram" rows, so
spend and results are Instagram's share only. Creating a campaign creates the Meta
campaign shell; placement is chosen on its ad sets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from integrations.providers.instagram import mapping as instagram
from integrations.providers.instagram.client import InstagramClient
from integrations.providers.meta import mapping
from integrations.providers.meta.client import MetaClient
from integrations.providers.meta.connector import MetaConnector
from integrations.records import RemoteAd, RemoteAdGroup, RemoteCampaign, SegmentDimension
from integrations.registry import register_connector


@register_connector("instagram")
class InstagramConnector(MetaConnector):
    # Age, gender and country cannot be combined with publisher_platform in one insights
    # call, so Instagram's own share of them is not available.
    segment_dimensions: ClassVar[frozenset[SegmentDimension]] = frozenset(
        {SegmentDimension.PLACEMENT, SegmentDimension.DEVICE}
    )
    client_class: ClassVar[type[MetaClient]] = InstagramClient
    platform_breakdowns: ClassVar[tuple[str, ...]] = ("publisher_platform",)

    def keep_insight_row(self, row: Mapping[str, Any]) -> bool:
        return instagram.is_instagram_row(row)

    def _instagram_ad_sets(self, account_id: str) -> list[dict[str, Any]]:
        return [
            raw for raw in self._raw_ad_sets(account_id) if instagram.delivers_on_instagram(raw)
        ]

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        currency = self._currency(account_id)
        for raw in self._instagram_ad_sets(account_id):
            yield mapping.ad_group(raw, currency=currency)

    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        campaign_ids = {str(raw.get("campaign_id")) for raw in self._instagram_ad_sets(account_id)}
        for campaign in super().list_campaigns(account_id):
            if campaign.external_id in campaign_ids:
                yield campaign

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        ad_set_ids = {str(raw.get("id")) for raw in self._instagram_ad_sets(account_id)}
        for ad in super().list_ads(account_id):
            if ad.ad_group_external_id in ad_set_ids:
                yield ad
