"""The sandbox platform behind the connector interface: no network, no credentials.

A sandbox connection's `extra` names the platform it imitates, the seed of its world,
the world key (which change log is its own), the epoch its history starts at, and
optionally a pinned clock (`clock`, ISO 8601) so tests, demos and benchmarks can step
time forward deliberately. Changes (create, update, archive) are appended to
`SandboxEvent`, so the next read sees them, as a real platform would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone

from integrations.clients.errors import InvalidRequest, NotSupported
from integrations.connector import AdsConnector
from integrations.models import SandboxEvent
from integrations.providers.sandbox.simulator import (
    AD_STATUS_EVENT,
    BIDDABLE,
    TARGETING_EVENT,
    AdGroupTruth,
    AdTruth,
    CampaignTruth,
    SandboxWorld,
    SimEvent,
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
    RemoteCreative,
    RemoteDailyMetric,
    RemoteSegmentMetric,
    SegmentDimension,
    TargetingChange,
    TokenSet,
    widen_age_range,
)
from integrations.registry import register_connector
from integrations.vocabulary import DeliveryStatus

SANDBOX_TOKEN = "sandbox"  # noqa: S105 - not a secret: the sandbox accepts anything


@register_connector("sandbox")
class SandboxConnector(AdsConnector):
    segment_dimensions = frozenset(
        {SegmentDimension.AGE, SegmentDimension.GENDER, SegmentDimension.DEVICE}
    )
    # A lookalike's ratio only where the ad group targets a lookalike (the "Lookalike 1%"
    # groups); age and the interest expansion everywhere.
    audience_dimensions = frozenset(AudienceDimension)
    MAX_LOOKALIKE_PCT = 10

    _world: SandboxWorld | None = None

    # --- The world ------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """The pinned clock, or the real one to the hour: the sandbox reports (and records
        changes) by the hour, so two reads within an hour agree exactly."""
        pinned = self.extra.get("clock")
        if pinned:
            return dt.datetime.fromisoformat(pinned)
        return timezone.now().replace(minute=0, second=0, microsecond=0)

    @property
    def world_key(self) -> str:
        return self.extra["world"]

    def world(self) -> SandboxWorld:
        """The simulated platform as of now, with every change made so far.

        Kept for the connector's life (one sync, one change) and dropped on each change.
        """
        if self._world is not None:
            return self._world
        events = [
            SimEvent(
                kind=e.kind,
                campaign_external_id=e.campaign_external_id,
                payload=e.payload,
                occurred_at=e.occurred_at,
            )
            for e in SandboxEvent.objects.filter(world=self.world_key).order_by("occurred_at", "pk")
        ]
        self._world = SandboxWorld(
            seed=int(self.extra.get("seed", "1")),
            platform=self.extra["platform"],
            world=self.world_key,
            epoch=dt.date.fromisoformat(self.extra["epoch"]),
            now=self.now(),
            time_zone=self.extra.get("time_zone", "UTC"),
            currency=self.extra.get("currency", "USD"),
            account_name=self.extra.get("account_name", ""),
            events=events,
        )
        return self._world

    def _account_world(self, account_id: str) -> SandboxWorld:
        world = self.world()
        if account_id != world.account.external_id:
            raise InvalidRequest(f"unknown ad account {account_id}", platform="sandbox")
        return world

    def _campaign(self, world: SandboxWorld, campaign_id: str) -> CampaignTruth:
        try:
            return world.campaign(campaign_id)
        except LookupError:
            raise InvalidRequest(f"unknown campaign {campaign_id}", platform="sandbox") from None

    # --- OAuth: the sandbox grants at once ---------------------------------------------------
    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        return f"{redirect_uri}?{urlencode({'code': 'sandbox-grant', 'state': state})}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        return TokenSet(access_token=SANDBOX_TOKEN)

    def refresh_token(self) -> TokenSet:
        return TokenSet(access_token=SANDBOX_TOKEN)

    # --- Accounts and structure ------------------------------------------------------------
    def list_accounts(self) -> list[RemoteAccount]:
        account = self.world().account
        return [
            RemoteAccount(
                external_id=account.external_id,
                name=account.name,
                currency=account.currency,
                time_zone=account.time_zone,
            )
        ]

    def get_account(self, account_id: str) -> RemoteAccount:
        self._account_world(account_id)
        return self.list_accounts()[0]

    def _remote_campaign(self, world: SandboxWorld, campaign: CampaignTruth) -> RemoteCampaign:
        settings = world.current_settings(campaign.external_id)
        return RemoteCampaign(
            external_id=campaign.external_id,
            account_external_id=campaign.account_external_id,
            name=settings.name,
            status=settings.status,
            objective=campaign.objective,
            daily_budget=settings.daily_budget,
            lifetime_budget=settings.lifetime_budget,
            bid_strategy=campaign.bid_strategy,
            bid_amount=settings.bid_amount,
            start_date=campaign.start_date,
            end_date=campaign.end_date,
        )

    def _live_campaigns(self, world: SandboxWorld) -> list[CampaignTruth]:
        today = world.now.astimezone(world.tz).date()
        return [c for c in world.account.campaigns if c.start_date <= today]

    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        world = self._account_world(account_id)
        for campaign in self._live_campaigns(world):
            yield self._remote_campaign(world, campaign)

    def _remote_ad_group(
        self, world: SandboxWorld, campaign: CampaignTruth, group: AdGroupTruth
    ) -> RemoteAdGroup:
        status = world.current_settings(campaign.external_id).status
        return RemoteAdGroup(
            external_id=group.external_id,
            campaign_external_id=campaign.external_id,
            name=group.name,
            status=DeliveryStatus.ARCHIVED
            if status == DeliveryStatus.ARCHIVED
            else DeliveryStatus.ACTIVE,
            targeting=world.ad_group(group.external_id).targeting,
        )

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        world = self._account_world(account_id)
        for campaign in self._live_campaigns(world):
            for group in campaign.ad_groups:
                yield self._remote_ad_group(world, campaign, group)

    def _remote_ad(self, world: SandboxWorld, campaign: CampaignTruth, ad: AdTruth) -> RemoteAd:
        return RemoteAd(
            external_id=ad.external_id,
            ad_group_external_id=ad.ad_group_external_id,
            campaign_external_id=campaign.external_id,
            name=ad.name,
            status=world.ad_status(ad.external_id),
            creative=RemoteCreative(
                external_id=f"cr-{ad.external_id}",
                name=ad.name,
                headline=ad.headline,
                body="Discover products people love, delivered fast.",
                call_to_action=ad.call_to_action,
                format="video" if ad.is_video else "image",
            ),
        )

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        world = self._account_world(account_id)
        today = world.now.astimezone(world.tz).date()
        for campaign in self._live_campaigns(world):
            for ad in campaign.ads_on(today):
                yield self._remote_ad(world, campaign, ad)

    # --- Changes ----------------------------------------------------------------------------
    def _record(self, *, account_id: str, campaign_id: str, kind: str, payload: Any) -> None:
        SandboxEvent.objects.create(
            world=self.world_key,
            account_external_id=account_id,
            campaign_external_id=campaign_id,
            kind=kind,
            payload=payload,
            occurred_at=self.now(),
        )
        self._world = None

    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        world = self._account_world(account_id)
        _validate_money(daily=spec.daily_budget, lifetime=spec.lifetime_budget, bid=spec.bid_amount)
        if spec.status not in (DeliveryStatus.ACTIVE, DeliveryStatus.PAUSED):
            raise InvalidRequest(f"cannot create a campaign as {spec.status}", platform="sandbox")
        if spec.daily_budget is None and spec.lifetime_budget is None:
            raise InvalidRequest("a campaign needs a daily or lifetime budget", platform="sandbox")
        if spec.bid_amount is not None and spec.bid_strategy not in BIDDABLE:
            raise InvalidRequest(f"{spec.bid_strategy} takes no bid amount", platform="sandbox")
        created = sum(1 for e in world.events if e.kind == "create")
        campaign_id = f"{account_id}-n{created + 1}"
        self._record(
            account_id=account_id,
            campaign_id=campaign_id,
            kind="create",
            payload={
                "name": spec.name,
                "objective": spec.objective,
                "status": spec.status,
                "daily_budget": _text(spec.daily_budget),
                "lifetime_budget": _text(spec.lifetime_budget),
                "bid_strategy": spec.bid_strategy,
                "bid_amount": _text(spec.bid_amount),
            },
        )
        world = self.world()
        return self._remote_campaign(world, world.campaign(campaign_id))

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        world = self._account_world(account_id)
        campaign = self._campaign(world, campaign_id)
        current = world.current_settings(campaign_id)
        if current.status == DeliveryStatus.ARCHIVED:
            raise InvalidRequest("an archived campaign cannot be changed", platform="sandbox")
        if update.status is not None and update.status not in (
            DeliveryStatus.ACTIVE,
            DeliveryStatus.PAUSED,
        ):
            raise InvalidRequest(f"status {update.status} cannot be set", platform="sandbox")
        _validate_money(
            daily=update.daily_budget, lifetime=update.lifetime_budget, bid=update.bid_amount
        )
        if update.daily_budget is not None and current.daily_budget is None:
            raise InvalidRequest("this campaign has a lifetime budget", platform="sandbox")
        if update.lifetime_budget is not None and current.lifetime_budget is None:
            raise InvalidRequest("this campaign has a daily budget", platform="sandbox")
        if update.bid_amount is not None and campaign.bid_strategy not in BIDDABLE:
            raise InvalidRequest(f"{campaign.bid_strategy} takes no bid amount", platform="sandbox")
        self._record(
            account_id=account_id,
            campaign_id=campaign_id,
            kind="update",
            payload={
                "status": update.status,
                "daily_budget": _text(update.daily_budget),
                "lifetime_budget": _text(update.lifetime_budget),
                "bid_amount": _text(update.bid_amount),
                "name": update.name,
            },
        )
        world = self.world()
        return self._remote_campaign(world, world.campaign(campaign_id))

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        world = self._account_world(account_id)
        self._campaign(world, campaign_id)
        if world.current_settings(campaign_id).status != DeliveryStatus.ARCHIVED:
            self._record(account_id=account_id, campaign_id=campaign_id, kind="archive", payload={})
            world = self.world()
        return self._remote_campaign(world, world.campaign(campaign_id))

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        world = self._account_world(account_id)
        try:
            campaign, ad = world.ad(ad_id)
        except LookupError:
            raise InvalidRequest(f"unknown ad {ad_id}", platform="sandbox") from None
        if status not in (DeliveryStatus.ACTIVE, DeliveryStatus.PAUSED):
            raise InvalidRequest(f"status {status} cannot be set on an ad", platform="sandbox")
        if world.current_settings(campaign.external_id).status == DeliveryStatus.ARCHIVED:
            raise InvalidRequest("the ad's campaign is archived", platform="sandbox")
        if world.ad_status(ad_id) != status:
            self._record(
                account_id=account_id,
                campaign_id=campaign.external_id,
                kind=AD_STATUS_EVENT,
                payload={"ad_id": ad_id, "status": status},
            )
            world = self.world()
        return self._remote_ad(world, campaign, ad)

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        world = self._account_world(account_id)
        try:
            group = world.ad_group(ad_group_id)
        except LookupError:
            raise InvalidRequest(f"unknown ad group {ad_group_id}", platform="sandbox") from None
        campaign = world.campaign(group.campaign_external_id)
        targeting = dict(group.targeting)
        if change.dimension == AudienceDimension.AGE_RANGE:
            targeting["age_min"], targeting["age_max"] = widen_age_range(
                targeting.get("age_min"), targeting.get("age_max"), change.step
            )
        elif change.dimension == AudienceDimension.LOOKALIKE:
            if "lookalike_pct" not in targeting:
                raise self.unsupported_targeting(change, "this ad group targets no lookalike")
            targeting["lookalike_pct"] = min(
                self.MAX_LOOKALIKE_PCT, int(targeting["lookalike_pct"]) + change.step
            )
        else:
            targeting["interest_expansion"] = True
        if targeting != group.targeting:
            self._record(
                account_id=account_id,
                campaign_id=campaign.external_id,
                kind=TARGETING_EVENT,
                payload={"ad_group_id": ad_group_id, "targeting": targeting},
            )
            world = self.world()
        return self._remote_ad_group(world, campaign, world.ad_group(ad_group_id))

    # --- Metrics ----------------------------------------------------------------------------
    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        world = self._account_world(account_id)
        for day in world.days(start, end):
            for campaign in world.account.campaigns:
                simulated = world.simulate_day(campaign.external_id, day)
                if not simulated.ads:
                    continue
                if level == MetricLevel.CAMPAIGN:
                    yield RemoteDailyMetric(
                        level=level,
                        campaign_external_id=campaign.external_id,
                        date=day,
                        impressions=sum(a.impressions for a in simulated.ads),
                        clicks=sum(a.clicks for a in simulated.ads),
                        spend=sum((a.spend for a in simulated.ads), Decimal(0)),
                        conversions=Decimal(sum(a.conversions for a in simulated.ads)),
                        conversion_value=sum(
                            (a.conversion_value for a in simulated.ads), Decimal(0)
                        ),
                        video_views=sum(a.video_views for a in simulated.ads),
                        reach=sum(a.reach for a in simulated.ads),
                    )
                    continue
                for ad_day in simulated.ads:
                    if not ad_day.impressions and not ad_day.spend:
                        continue
                    yield RemoteDailyMetric(
                        level=MetricLevel.AD,
                        campaign_external_id=campaign.external_id,
                        date=day,
                        ad_group_external_id=ad_day.ad.ad_group_external_id,
                        ad_external_id=ad_day.ad.external_id,
                        impressions=ad_day.impressions,
                        clicks=ad_day.clicks,
                        spend=ad_day.spend,
                        conversions=Decimal(ad_day.conversions),
                        conversion_value=ad_day.conversion_value,
                        video_views=ad_day.video_views,
                        reach=ad_day.reach,
                    )

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        if dimension not in self.segment_dimensions:
            raise NotSupported(f"{dimension} breakdown is not available", platform="sandbox")
        world = self._account_world(account_id)
        for day in world.days(start, end):
            for campaign in world.account.campaigns:
                for segment in world.simulate_day(campaign.external_id, day).segments:
                    if segment.dimension != dimension:
                        continue
                    yield RemoteSegmentMetric(
                        campaign_external_id=campaign.external_id,
                        date=day,
                        dimension=dimension,
                        value=segment.value,
                        impressions=segment.impressions,
                        clicks=segment.clicks,
                        spend=segment.spend,
                        conversions=Decimal(segment.conversions),
                        conversion_value=segment.conversion_value,
                    )


def _validate_money(
    *, daily: Decimal | None, lifetime: Decimal | None, bid: Decimal | None
) -> None:
    for label, value in (("daily budget", daily), ("lifetime budget", lifetime), ("bid", bid)):
        if value is not None and value < 0:
            raise InvalidRequest(f"{label} must not be negative", platform="sandbox")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
