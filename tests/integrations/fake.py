"""A minimal connector for tests, registered as "fake", backed by an in-memory platform.

Not a mock of our code: a second implementation of the connector interface whose remote
state a test sets up and changes (restate a day, revoke a token, block on quota, crash
after N calls), so the sync and the OAuth flow run against it exactly as against a
real platform.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from integrations.clients.errors import AuthExpired, InvalidRequest, PlatformError
from integrations.connector import AdsConnector
from integrations.records import (
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
)
from integrations.registry import register_connector

FAKE = "fake"


@dataclass
class FakePlatform:
    today: dt.date = dt.date(2026, 3, 10)
    accounts: list[RemoteAccount] = field(default_factory=list)
    campaigns: dict[str, RemoteCampaign] = field(default_factory=dict)
    ad_groups: list[RemoteAdGroup] = field(default_factory=list)
    ads: list[RemoteAd] = field(default_factory=list)
    # (ad external id, day) -> conversions; the other measures follow from it.
    conversions: dict[tuple[str, dt.date], int] = field(default_factory=dict)
    valid_tokens: set[str] = field(default_factory=lambda: {"good-token"})
    refresh_tokens: dict[str, str] = field(default_factory=lambda: {"good-refresh": "fresh-token"})
    # Raise this error on the call numbered `fail_on_call` (1-based) of daily_metrics.
    fail_on_call: int | None = None
    failure: PlatformError | Exception | None = None
    metric_calls: int = 0
    refresh_calls: int = 0
    calls: list[str] = field(default_factory=list)


PLATFORMS: dict[str, FakePlatform] = {}


def make_platform(
    world: str, *, ads_per_campaign: int = 2, campaigns: int = 2, days: int = 20
) -> FakePlatform:
    platform = FakePlatform()
    platform.accounts = [
        RemoteAccount(external_id="A1", name="Fake account", currency="USD", time_zone="UTC"),
        RemoteAccount(
            external_id="A2", name="Second account", currency="EUR", time_zone="Europe/Berlin"
        ),
    ]
    for account in platform.accounts:
        for c in range(campaigns):
            campaign_id = f"{account.external_id}-C{c}"
            platform.campaigns[campaign_id] = RemoteCampaign(
                external_id=campaign_id, account_external_id=account.external_id,
                name=f"Campaign {campaign_id}", status="active", objective="sales",
                daily_budget=Decimal("100.0000"), bid_strategy="cost_cap",
                bid_amount=Decimal("5.0000"),
            )  # fmt: skip
            platform.ad_groups.append(
                RemoteAdGroup(external_id=f"{campaign_id}-G", campaign_external_id=campaign_id,
                              name="Group", status="active")
            )  # fmt: skip
            for a in range(ads_per_campaign):
                ad_id = f"{campaign_id}-G-AD{a}"
                platform.ads.append(
                    RemoteAd(
                        external_id=ad_id, ad_group_external_id=f"{campaign_id}-G",
                        campaign_external_id=campaign_id, name=f"Ad {ad_id}", status="active",
                        creative=RemoteCreative(external_id=f"CR-{ad_id}", headline="Hello"),
                    )
                )  # fmt: skip
                for offset in range(days):
                    day = platform.today - dt.timedelta(days=offset)
                    platform.conversions[(ad_id, day)] = (offset + a + c) % 5
    PLATFORMS[world] = platform
    return platform


@register_connector(FAKE)
class FakeConnector(AdsConnector):
    segment_dimensions = frozenset({SegmentDimension.AGE})

    @property
    def remote(self) -> FakePlatform:
        # Connections made through the OAuth flow carry no world: they reach "default".
        return PLATFORMS[self.extra.get("world", "default")]

    def now(self) -> dt.datetime:
        return dt.datetime.combine(self.remote.today, dt.time(12), tzinfo=dt.UTC)

    def _authorized(self, call: str) -> FakePlatform:
        remote = self.remote
        remote.calls.append(call)
        if self.token is None or self.token.access_token not in remote.valid_tokens:
            raise AuthExpired("token expired", platform=FAKE, code=190)
        return remote

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        return f"https://fake.example/oauth?state={state}&redirect_uri={redirect_uri}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        if code != "good-code":
            raise InvalidRequest("bad code", platform=FAKE)
        return TokenSet(
            access_token="good-token",
            refresh_token="good-refresh",
            expires_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
        )

    def refresh_token(self) -> TokenSet:
        remote = self.remote
        remote.refresh_calls += 1
        fresh = remote.refresh_tokens.get(self.token.refresh_token if self.token else "")
        if fresh is None:
            raise AuthExpired("refresh token revoked", platform=FAKE)
        remote.valid_tokens.add(fresh)
        token = TokenSet(
            access_token=fresh,
            refresh_token=self.token.refresh_token if self.token else "",
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )
        self.token = token
        if self.on_token_refreshed:
            self.on_token_refreshed(token)
        return token

    def list_accounts(self) -> list[RemoteAccount]:
        return list(self._authorized("list_accounts").accounts)

    def get_account(self, account_id: str) -> RemoteAccount:
        remote = self._authorized("get_account")
        return next(a for a in remote.accounts if a.external_id == account_id)

    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]:
        remote = self._authorized("list_campaigns")
        return iter([c for c in remote.campaigns.values() if c.account_external_id == account_id])

    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]:
        remote = self._authorized("list_ad_groups")
        return iter([g for g in remote.ad_groups if g.campaign_external_id.startswith(account_id)])

    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        remote = self._authorized("list_ads")
        return iter([a for a in remote.ads if a.campaign_external_id.startswith(account_id)])

    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign:
        remote = self._authorized("create_campaign")
        campaign = RemoteCampaign(
            external_id=f"{account_id}-N{len(remote.campaigns)}", account_external_id=account_id,
            name=spec.name, status=spec.status, objective=spec.objective,
            daily_budget=spec.daily_budget, lifetime_budget=spec.lifetime_budget,
            bid_strategy=spec.bid_strategy, bid_amount=spec.bid_amount,
        )  # fmt: skip
        remote.campaigns[campaign.external_id] = campaign
        return campaign

    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        remote = self._authorized("update_campaign")
        changes: dict[str, Any] = {k: v for k, v in vars(update).items() if v is not None}
        remote.campaigns[campaign_id] = replace(remote.campaigns[campaign_id], **changes)
        return remote.campaigns[campaign_id]

    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign:
        remote = self._authorized("archive_campaign")
        remote.campaigns[campaign_id] = replace(remote.campaigns[campaign_id], status="archived")
        return remote.campaigns[campaign_id]

    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        remote = self._authorized("update_ad_status")
        index = next(i for i, ad in enumerate(remote.ads) if ad.external_id == ad_id)
        remote.ads[index] = replace(remote.ads[index], status=status)
        return remote.ads[index]

    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        self._authorized("update_ad_group_targeting")
        raise self.unsupported_targeting(change, "the fake platform has no targeting")

    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        remote = self._authorized("daily_metrics")
        remote.metric_calls += 1
        if remote.fail_on_call == remote.metric_calls and remote.failure is not None:
            remote.fail_on_call = None
            raise remote.failure
        rows = []
        for ad in remote.ads:
            if not ad.campaign_external_id.startswith(account_id):
                continue
            for (ad_id, day), conversions in sorted(remote.conversions.items()):
                if ad_id != ad.external_id or not start <= day <= end:
                    continue
                rows.append(
                    RemoteDailyMetric(
                        level=MetricLevel.AD, campaign_external_id=ad.campaign_external_id,
                        ad_group_external_id=ad.ad_group_external_id, ad_external_id=ad_id,
                        date=day, impressions=1000 + conversions, clicks=40 + conversions,
                        spend=Decimal("12.50"), conversions=Decimal(conversions),
                        conversion_value=Decimal(conversions * 30),
                    )
                )  # fmt: skip
        return iter(rows)

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        remote = self._authorized("segment_metrics")
        rows = []
        for campaign in remote.campaigns.values():
            if campaign.account_external_id != account_id:
                continue
            day = start
            while day <= end:
                for value, share in (("18-24", 1), ("25-34", 3)):
                    rows.append(
                        RemoteSegmentMetric(
                            campaign_external_id=campaign.external_id, date=day,
                            dimension=dimension, value=value, impressions=100 * share,
                            clicks=4 * share, spend=Decimal(share), conversions=Decimal(share),
                        )
                    )  # fmt: skip
                day += dt.timedelta(days=1)
        return iter(rows)
