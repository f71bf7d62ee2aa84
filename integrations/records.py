"""The unified shape connectors return and accept, whatever the platform.

Money is Decimal in the account's currency units (never micros or cents here); dates are
days in the ad account's time zone; statuses, objectives and bid strategies use
`integrations.vocabulary`. Anything platform-specific that the rest of the app may want
later goes in `raw`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_at: dt.datetime | None = None
    # OAuth 1.0a (X) signs with a token secret as well as the token.
    token_secret: str = ""
    scope: str = ""

    def __repr__(self) -> str:  # never print secrets, even in tracebacks
        return f"TokenSet(expires_at={self.expires_at!r}, scope={self.scope!r})"

    def expires_within(self, seconds: float, *, now: dt.datetime) -> bool:
        return self.expires_at is not None and (self.expires_at - now).total_seconds() < seconds


@dataclass(frozen=True)
class RemoteAccount:
    external_id: str
    name: str
    currency: str
    time_zone: str
    status: str = (
        "active"  # integrations.vocabulary AccountStatus values: active/disabled/pending/closed
    )
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RemoteCampaign:
    external_id: str
    account_external_id: str
    name: str
    status: str
    objective: str = "other"
    daily_budget: Decimal | None = None
    lifetime_budget: Decimal | None = None
    bid_strategy: str = "lowest_cost"
    bid_amount: Decimal | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RemoteAdGroup:
    external_id: str
    campaign_external_id: str
    name: str
    status: str
    daily_budget: Decimal | None = None
    bid_amount: Decimal | None = None
    targeting: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RemoteCreative:
    external_id: str
    name: str = ""
    headline: str = ""
    body: str = ""
    call_to_action: str = ""
    image_url: str = ""
    video_url: str = ""
    format: str = "image"  # campaigns.models.CreativeFormat values


@dataclass(frozen=True)
class RemoteAd:
    external_id: str
    ad_group_external_id: str
    campaign_external_id: str
    name: str
    status: str
    creative: RemoteCreative | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class MetricLevel(StrEnum):
    CAMPAIGN = "campaign"
    AD = "ad"


@dataclass(frozen=True)
class RemoteDailyMetric:
    """One day of one campaign (level=campaign) or one ad (level=ad)."""

    level: MetricLevel
    campaign_external_id: str
    date: dt.date
    ad_group_external_id: str | None = None
    ad_external_id: str | None = None
    impressions: int = 0
    clicks: int = 0
    spend: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    conversion_value: Decimal = Decimal(0)
    video_views: int = 0
    reach: int | None = None
    frequency: Decimal | None = None


class SegmentDimension(StrEnum):
    AGE = "age"
    GENDER = "gender"
    PLACEMENT = "placement"
    DEVICE = "device"
    COUNTRY = "country"


@dataclass(frozen=True)
class RemoteSegmentMetric:
    """One day of one campaign within one audience segment (e.g. age 25-34)."""

    campaign_external_id: str
    date: dt.date
    dimension: SegmentDimension
    value: str
    impressions: int = 0
    clicks: int = 0
    spend: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    conversion_value: Decimal = Decimal(0)


@dataclass(frozen=True)
class CampaignSpec:
    """What to create. Budgets in account currency units."""

    name: str
    objective: str
    status: str = "paused"
    daily_budget: Decimal | None = None
    lifetime_budget: Decimal | None = None
    bid_strategy: str = "lowest_cost"
    bid_amount: Decimal | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None


@dataclass(frozen=True)
class CampaignUpdate:
    """Fields to change; None means "leave as it is"."""

    status: str | None = None
    daily_budget: Decimal | None = None
    lifetime_budget: Decimal | None = None
    bid_amount: Decimal | None = None
    name: str | None = None


class AudienceDimension(StrEnum):
    """What an audience expansion widens on an ad group (ad set, line item, ad squad)."""

    AGE_RANGE = "age_range"  # lower the minimum and raise the maximum age
    LOOKALIKE = "lookalike"  # a higher lookalike ratio (% of the country's population)
    INTERESTS = "interests"  # the platform's own expansion beyond the chosen interests


@dataclass(frozen=True)
class TargetingChange:
    """Widen one ad group's audience along `dimension` by `step`.

    `step` is years on each side for age (platforms with age buckets take every bucket
    that overlaps the widened range), percentage points for a lookalike; the interests
    expansion is a switch and turns on. Connectors read the live targeting, change only
    this dimension and write it back, so nothing else in the targeting moves.
    """

    dimension: AudienceDimension
    step: int = 0


# Ages the platforms let an advertiser target at most (Meta and most others: 18 to 65+).
AGE_FLOOR = 18
AGE_CEILING = 65


def widen_age_range(
    age_min: int | None, age_max: int | None, step: int, *, floor: int = AGE_FLOOR,
    ceiling: int = AGE_CEILING,
) -> tuple[int, int]:  # fmt: skip
    """The range `step` years wider on each side, kept within what the platform allows."""
    low = floor if age_min is None else max(floor, age_min - step)
    high = ceiling if age_max is None else min(ceiling, age_max + step)
    return low, high
