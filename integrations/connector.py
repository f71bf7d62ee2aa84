"""The one interface every platform connector implements.

Connectors speak the platform's wire format and return `integrations.records`; they know
nothing of our database. Token persistence is the caller's: a connector that refreshes a
token hands the new `TokenSet` to `on_token_refreshed`.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Iterator
from typing import ClassVar

import requests

from integrations.clients.errors import InvalidRequest, NotSupported, UnsupportedTargeting
from integrations.clients.ratelimit import RateLimiter
from integrations.config import PlatformConfig
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

TokenCallback = Callable[[TokenSet], None]


class AdsConnector(abc.ABC):
    platform: ClassVar[str]
    # Breakdowns the platform reports; others raise NotSupported.
    segment_dimensions: ClassVar[frozenset[SegmentDimension]] = frozenset()
    # Targeting dimensions `update_ad_group_targeting` can widen; others raise
    # UnsupportedTargeting (callers may check here first to explain it up front).
    audience_dimensions: ClassVar[frozenset[AudienceDimension]] = frozenset()

    def __init__(
        self,
        *,
        config: PlatformConfig,
        token: TokenSet | None = None,
        on_token_refreshed: TokenCallback | None = None,
        extra: dict[str, str] | None = None,
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.token = token
        self.on_token_refreshed = on_token_refreshed
        # Platform-specific connection data, e.g. Google's login-customer-id.
        self.extra = extra or {}
        # Transport seams: a pooled session, the shared limiter and the sleep used between
        # retries. None means the defaults (a new session, get_rate_limiter(), time.sleep);
        # tests pass a limiter on a fake clock and a no-op sleep.
        self.session = session
        self.rate_limiter = rate_limiter
        self.sleep = sleep

    def now(self) -> dt.datetime:
        """The platform's clock: what "today" is in an account's time zone. A simulated
        platform (the sandbox) may pin its own, so time can be stepped in tests and demos."""
        return dt.datetime.now(dt.UTC)

    # --- OAuth -------------------------------------------------------------------
    @abc.abstractmethod
    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        """Where to send the user to grant access."""

    @abc.abstractmethod
    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        """Trade the callback's code for tokens."""

    @abc.abstractmethod
    def refresh_token(self) -> TokenSet:
        """A fresh token; raises AuthExpired if the platform refuses (re-authorize)."""

    # --- Accounts and structure --------------------------------------------------
    @abc.abstractmethod
    def list_accounts(self) -> list[RemoteAccount]:
        """Ad accounts the token can reach."""

    @abc.abstractmethod
    def get_account(self, account_id: str) -> RemoteAccount: ...

    @abc.abstractmethod
    def list_campaigns(self, account_id: str) -> Iterator[RemoteCampaign]: ...

    @abc.abstractmethod
    def list_ad_groups(self, account_id: str) -> Iterator[RemoteAdGroup]: ...

    @abc.abstractmethod
    def list_ads(self, account_id: str) -> Iterator[RemoteAd]:
        """Ads with their creatives."""

    # --- Changes -------------------------------------------------------------------
    @abc.abstractmethod
    def create_campaign(self, account_id: str, spec: CampaignSpec) -> RemoteCampaign: ...

    @abc.abstractmethod
    def update_campaign(
        self, account_id: str, campaign_id: str, update: CampaignUpdate
    ) -> RemoteCampaign:
        """Apply the change and return the campaign as the platform now reports it."""

    @abc.abstractmethod
    def archive_campaign(self, account_id: str, campaign_id: str) -> RemoteCampaign: ...

    @abc.abstractmethod
    def update_ad_status(
        self, account_id: str, ad_id: str, status: str, *, ad_group_id: str = ""
    ) -> RemoteAd:
        """Pause or activate one ad (`DeliveryStatus.PAUSED` / `ACTIVE`); returns the ad as
        the platform now reports it. `ad_group_id` is the ad's ad group: Google addresses an
        ad by the pair (its ad ids are unique within an ad group only)."""

    @abc.abstractmethod
    def update_ad_group_targeting(
        self, account_id: str, ad_group_id: str, change: TargetingChange
    ) -> RemoteAdGroup:
        """Widen the ad group's audience along one dimension (read, change, write back);
        returns the ad group as the platform now reports it. Raises UnsupportedTargeting
        for a dimension the platform cannot widen."""

    def ad_status_wire(self, status: str) -> str:
        """ACTIVE or PAUSED for an ad being activated or paused (the word most platforms
        use); anything else is refused before a call is made."""
        if status not in ("active", "paused"):
            raise InvalidRequest(
                f"an ad is paused or activated, not {status}", platform=self.platform
            )
        return status.upper()

    def unsupported_targeting(self, change: TargetingChange, why: str) -> UnsupportedTargeting:
        return UnsupportedTargeting(
            f"cannot widen {change.dimension.value.replace('_', ' ')}: {why}",
            dimension=change.dimension.value,
            platform=self.platform,
        )

    # --- Metrics -------------------------------------------------------------------
    @abc.abstractmethod
    def daily_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, level: MetricLevel
    ) -> Iterator[RemoteDailyMetric]:
        """Daily rows for [start, end] in the account's time zone."""

    def segment_metrics(
        self, account_id: str, *, start: dt.date, end: dt.date, dimension: SegmentDimension
    ) -> Iterator[RemoteSegmentMetric]:
        raise NotSupported(f"{dimension} breakdown is not available", platform=self.platform)
