"""A deterministic ad platform: the sandbox connector's world, and its hidden truth.

Everything follows from a seed, an epoch (the day the simulated history starts) and a
log of changes (pause, budget...). Each campaign has a response curve with diminishing
returns, `expected conversions = scale * spend ** shape`, shaped further by weekly
seasonality and creative fatigue; observed numbers add noise and occasional anomalies
(a spend spike, a tracking outage). Conversions are reported late (most at once, some
one to five days later), so re-reading recent days restates them, as real platforms do.
Segment breakdowns carry a planted winning segment per campaign.

The truth (`CampaignTruth.expected_conversions`, `winning_segment`, `anomaly`) is public
so tests and benchmarks (e.g. the agents' Budget Manager) can score decisions against it.
Pure Python: no database; the connector feeds it the change log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist
from typing import Any

from integrations.records import SegmentDimension
from integrations.vocabulary import BidStrategy, DeliveryStatus, Objective, Platform

# Per platform: CPM, CTR, whether video views matter, segment dimensions reported.
PLATFORM_PROFILE: dict[str, tuple[float, float, bool]] = {
    Platform.META: (11.0, 0.012, False),
    Platform.INSTAGRAM: (9.5, 0.009, True),
    Platform.GOOGLE: (28.0, 0.045, False),
    Platform.TIKTOK: (7.0, 0.010, True),
    Platform.LINKEDIN: (38.0, 0.006, False),
    Platform.X: (6.5, 0.008, False),
    Platform.SNAPCHAT: (5.0, 0.007, True),
    Platform.PINTEREST: (6.0, 0.011, False),
}
CAMPAIGN_THEMES = [
    ("Prospecting – Broad", Objective.SALES),
    ("Retargeting – Site visitors", Objective.SALES),
    ("Spring Sale", Objective.SALES),
    ("Brand Awareness", Objective.AWARENESS),
    ("Lead Gen – Webinar", Objective.LEADS),
    ("New Collection Launch", Objective.TRAFFIC),
]
AD_GROUP_NAMES = ["Lookalike 1%", "Interests – Broad", "Age 25-44", "Retarget 30d"]
HEADLINES = [
    "Save 20% this week only", "Free shipping on every order", "Meet the new collection",
    "Loved by 10,000 customers", "Your next favourite starts here", "Limited stock — shop now",
]  # fmt: skip
BUDGETS = [50, 75, 100, 150, 200, 300, 500]
WEEKDAY_SPEND = [1.04, 1.02, 1.0, 0.98, 0.95, 0.88, 0.9]  # Monday first
WEEKDAY_CONVERSION = [1.0, 1.02, 1.03, 1.0, 0.96, 0.9, 0.94]
# Reporting lag of a conversion, in days after the day ends: most arrive the same day.
LAG_DAYS = [(0.74, 0), (0.88, 1), (0.95, 2), (0.98, 3), (1.0, 5)]
SEGMENTS: dict[SegmentDimension, list[tuple[str, float]]] = {
    SegmentDimension.AGE: [
        ("18-24", 0.18), ("25-34", 0.30), ("35-44", 0.24), ("45-54", 0.16), ("55+", 0.12),
    ],
    SegmentDimension.GENDER: [("female", 0.52), ("male", 0.45), ("unknown", 0.03)],
    SegmentDimension.DEVICE: [("mobile", 0.70), ("desktop", 0.25), ("tablet", 0.05)],
}  # fmt: skip
WINNING_SEGMENT_LIFT = 2.2
ANOMALY_RATE = 0.012
BIDDABLE = {
    BidStrategy.COST_CAP, BidStrategy.BID_CAP, BidStrategy.TARGET_CPA, BidStrategy.TARGET_ROAS,
    BidStrategy.MANUAL_CPC, BidStrategy.MANUAL_CPM,
}  # fmt: skip
CENT = Decimal("0.01")
_NORMAL = NormalDist()


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _poisson_quantile(u: float, mean: float) -> int:
    """The Poisson(mean) value at quantile u: monotone in `mean` for a fixed u, so a
    day's count only grows as the day's spend grows."""
    if mean <= 0:
        return 0
    if mean > 200:
        return max(0, round(mean + math.sqrt(mean) * _NORMAL.inv_cdf(min(max(u, 1e-9), 1 - 1e-9))))
    k, p = 0, math.exp(-mean)
    cdf = p
    while u > cdf and k < 10_000:
        k += 1
        p *= mean / k
        cdf += p
    return k


# --- The world's shape -----------------------------------------------------------------
@dataclass(frozen=True)
class AdTruth:
    external_id: str
    ad_group_external_id: str
    name: str
    start_date: dt.date
    weight: float  # share of the campaign's delivery
    quality: float  # creative strength, ~1
    fatigue_rate: float  # per day since launch
    headline: str
    call_to_action: str
    is_video: bool

    def fatigue(self, day: dt.date) -> float:
        """1 at launch, decaying towards half as the audience tires of the creative."""
        age = max(0, (day - self.start_date).days)
        return 0.5 + 0.5 * math.exp(-self.fatigue_rate * age)


@dataclass(frozen=True)
class AdGroupTruth:
    external_id: str
    campaign_external_id: str
    name: str
    targeting: dict[str, Any]


@dataclass(frozen=True)
class CampaignSettings:
    """What the advertiser controls; changes over time through the change log."""

    status: str
    daily_budget: Decimal | None
    lifetime_budget: Decimal | None
    bid_amount: Decimal | None
    name: str


@dataclass(frozen=True)
class CampaignTruth:
    external_id: str
    account_external_id: str
    platform: str
    objective: str
    bid_strategy: str
    start_date: dt.date
    end_date: dt.date | None
    initial: CampaignSettings
    # Hidden response curve: expected conversions a day = scale * spend ** shape.
    scale: float
    shape: float
    cpm: float
    ctr: float
    aov: float
    delivery: float  # share of the budget the platform manages to spend
    winning_segment: tuple[SegmentDimension, str]
    ad_groups: tuple[AdGroupTruth, ...]
    ads: tuple[AdTruth, ...]
    seed_key: str
    created_through_api: bool = False

    def ads_on(self, day: dt.date) -> list[AdTruth]:
        return [ad for ad in self.ads if ad.start_date <= day]

    def creative_factor(self, day: dt.date) -> float:
        ads = self.ads_on(day)
        total = sum(ad.weight for ad in ads)
        if not total:
            return 0.0
        return sum(ad.weight * ad.quality * ad.fatigue(day) for ad in ads) / total

    def expected_conversions(self, spend: float, day: dt.date) -> float:
        """The truth: conversions a day of `spend` buys on `day`, before noise and anomalies."""
        if spend <= 0:
            return 0.0
        return (
            self.scale
            * spend**self.shape
            * WEEKDAY_CONVERSION[day.weekday()]
            * self.creative_factor(day)
        )

    def marginal_cpa(self, spend: float, day: dt.date) -> float:
        """Cost of one more conversion at this spend (the curve's inverse slope)."""
        slope = self.expected_conversions(spend, day) * self.shape / max(spend, 1e-9)
        return math.inf if slope <= 0 else 1 / slope

    def anomaly(self, day: dt.date) -> str | None:
        """ "spend_spike", "tracking_outage" or None, fixed per campaign-day."""
        rng = _rng(self.seed_key, "anomaly", day.isoformat())
        if rng.random() >= ANOMALY_RATE:
            return None
        return "spend_spike" if rng.random() < 0.5 else "tracking_outage"


@dataclass(frozen=True)
class AccountTruth:
    external_id: str
    name: str
    currency: str
    time_zone: str
    campaigns: tuple[CampaignTruth, ...]


# Change-log kinds that touch an ad or an ad group rather than the campaign's settings.
AD_STATUS_EVENT = "ad_status"  # payload {"ad_id", "status"}
TARGETING_EVENT = "targeting"  # payload {"ad_group_id", "targeting"}
CHILD_EVENTS = frozenset({AD_STATUS_EVENT, TARGETING_EVENT})


@dataclass(frozen=True)
class SimEvent:
    """One change from the log: kind create / update / archive (a campaign), ad_status (an
    ad) or targeting (an ad group), on the simulator's clock."""

    kind: str
    campaign_external_id: str
    payload: dict[str, Any]
    occurred_at: dt.datetime


@dataclass(frozen=True)
class AdDay:
    ad: AdTruth
    impressions: int
    clicks: int
    spend: Decimal
    conversions: int
    conversion_value: Decimal
    video_views: int
    # People reached: the same people see a tiring creative more often (frequency rises).
    reach: int = 0


@dataclass(frozen=True)
class SegmentDay:
    dimension: SegmentDimension
    value: str
    impressions: int
    clicks: int
    spend: Decimal
    conversions: int
    conversion_value: Decimal


@dataclass(frozen=True)
class CampaignDay:
    campaign: CampaignTruth
    day: dt.date
    spend: float
    ads: list[AdDay] = field(default_factory=list)
    segments: list[SegmentDay] = field(default_factory=list)


def _build_campaign(
    *,
    seed_key: str,
    account_external_id: str,
    external_id: str,
    local_id: str,
    platform: str,
    name: str,
    objective: str,
    start_date: dt.date,
    status: str,
    daily_budget: Decimal | None,
    lifetime_budget: Decimal | None = None,
    bid_strategy: str | None = None,
    bid_amount: Decimal | None = None,
    end_date: dt.date | None = None,
    groups: int = 2,
    ads_per_group: tuple[int, int] = (2, 3),
    is_retargeting: bool = False,
    created_through_api: bool = False,
) -> CampaignTruth:
    # Keyed by the campaign's place in the world, not its id: two worlds with one seed match.
    rng = _rng(seed_key, "campaign", local_id)
    cpm0, ctr0, video = PLATFORM_PROFILE[platform]
    cpm = cpm0 * rng.uniform(0.8, 1.25)
    ctr = ctr0 * rng.uniform(0.7, 1.4)
    cpc = cpm / (1000 * ctr)
    # CPA at the starting budget, then the curve through it.
    cpa = cpc * rng.uniform(6, 22) / (1.5 if is_retargeting else 1.0)
    shape = rng.uniform(0.62, 0.82)
    reference = float(daily_budget or (lifetime_budget or Decimal(3000)) / 30)
    scale = (reference / cpa) / reference**shape
    strategy = bid_strategy or rng.choice(
        [BidStrategy.LOWEST_COST, BidStrategy.COST_CAP, BidStrategy.TARGET_CPA]
    )
    if bid_amount is None and strategy in BIDDABLE:
        bid_amount = _money(cpa * rng.uniform(0.9, 1.3))
    dimension = rng.choice([SegmentDimension.AGE, SegmentDimension.DEVICE])
    winning = (dimension, rng.choice([value for value, _ in SEGMENTS[dimension]]))
    ad_groups: list[AdGroupTruth] = []
    ads: list[AdTruth] = []
    for g in range(groups):
        group_id = f"{external_id}-g{g + 1}"
        group_name = AD_GROUP_NAMES[(len(local_id) + g + rng.randint(0, 3)) % len(AD_GROUP_NAMES)]
        targeting: dict[str, Any] = {
            "age_min": rng.choice([18, 25]),
            "age_max": rng.choice([44, 54, 65]),
            "countries": rng.sample(["US", "GB", "DE", "FR", "CA", "AU"], k=2),
            "interest_expansion": False,
        }
        if group_name.startswith("Lookalike"):
            targeting["lookalike_pct"] = 1
        ad_groups.append(
            AdGroupTruth(
                external_id=group_id,
                campaign_external_id=external_id,
                name=group_name,
                targeting=targeting,
            )
        )
        for a in range(rng.randint(*ads_per_group)):
            # Some creatives launch later: a refresh part-way through the history.
            late = rng.random() < 0.25
            ads.append(
                AdTruth(
                    external_id=f"{group_id}-a{a + 1}",
                    ad_group_external_id=group_id,
                    name=f"{ad_groups[-1].name} – Ad {a + 1}",
                    start_date=start_date + dt.timedelta(days=rng.randint(20, 70) if late else 0),
                    weight=rng.uniform(0.5, 1.5),
                    quality=rng.uniform(0.7, 1.3),
                    fatigue_rate=rng.uniform(0.002, 0.02),
                    headline=rng.choice(HEADLINES),
                    call_to_action=rng.choice(["SHOP_NOW", "LEARN_MORE", "SIGN_UP"]),
                    is_video=video,
                )
            )
    return CampaignTruth(
        external_id=external_id,
        account_external_id=account_external_id,
        platform=platform,
        objective=objective,
        bid_strategy=strategy,
        start_date=start_date,
        end_date=end_date,
        initial=CampaignSettings(
            status=status,
            daily_budget=daily_budget,
            lifetime_budget=lifetime_budget,
            bid_amount=bid_amount,
            name=name,
        ),
        scale=scale,
        shape=shape,
        cpm=cpm,
        ctr=ctr,
        aov=rng.uniform(35, 140),
        delivery=rng.uniform(0.86, 0.98),
        winning_segment=winning,
        ad_groups=tuple(ad_groups),
        ads=tuple(ads),
        seed_key=f"{seed_key}|{local_id}",
        created_through_api=created_through_api,
    )


class SandboxWorld:
    """One sandbox connection's simulated platform at the moment `now`."""

    def __init__(
        self,
        *,
        seed: int,
        platform: str,
        world: str,
        epoch: dt.date,
        now: dt.datetime,
        time_zone: str = "UTC",
        currency: str = "USD",
        account_name: str = "",
        events: Sequence[SimEvent] = (),
    ) -> None:
        self.seed = seed
        self.platform = platform
        self.world = world
        self.epoch = epoch
        self.now = now
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.seed_key = f"{seed}|{platform}"
        # Past events only: the clock may have been moved back in a test or a replay.
        self.events = [e for e in events if e.occurred_at <= now]
        self.account = AccountTruth(
            external_id=f"sbx-{platform}-{world[:8]}",
            name=account_name or f"{Platform(platform).label} sandbox",
            currency=currency,
            time_zone=time_zone,
            campaigns=tuple(self._base_campaigns() + self._created_campaigns()),
        )
        self._by_id = {c.external_id: c for c in self.account.campaigns}
        self._timelines = {c.external_id: self._timeline(c) for c in self.account.campaigns}
        # Ad statuses over time (every ad starts active) and each ad group's targeting now.
        self._ad_timelines: dict[str, list[tuple[dt.datetime, str]]] = {}
        self._targeting: dict[str, dict[str, Any]] = {}
        for event in self.events:
            if event.kind == AD_STATUS_EVENT:
                self._ad_timelines.setdefault(event.payload["ad_id"], []).append(
                    (event.occurred_at, event.payload["status"])
                )
            elif event.kind == TARGETING_EVENT:
                self._targeting[event.payload["ad_group_id"]] = dict(event.payload["targeting"])
        self._days: dict[tuple[str, dt.date], CampaignDay] = {}

    # --- Structure -----------------------------------------------------------------------
    def _base_campaigns(self) -> list[CampaignTruth]:
        rng = _rng(self.seed_key, "structure")
        themes = rng.sample(CAMPAIGN_THEMES, k=rng.randint(3, 5))
        campaigns = []
        label = Platform(self.platform).label
        for index, (theme, objective) in enumerate(themes):
            campaigns.append(
                _build_campaign(
                    seed_key=self.seed_key,
                    account_external_id=f"sbx-{self.platform}-{self.world[:8]}",
                    external_id=f"sbx-{self.platform}-{self.world[:8]}-c{index + 1}",
                    local_id=f"c{index + 1}",
                    platform=self.platform,
                    name=f"{label} | {theme}",
                    objective=objective,
                    start_date=self.epoch + dt.timedelta(days=rng.randint(0, 20)),
                    status=DeliveryStatus.ACTIVE,
                    daily_budget=Decimal(rng.choice(BUDGETS)),
                    is_retargeting="Retargeting" in theme,
                )
            )
        return campaigns

    def _created_campaigns(self) -> list[CampaignTruth]:
        created = []
        for event in self.events:
            if event.kind != "create":
                continue
            spec = event.payload
            created.append(
                _build_campaign(
                    seed_key=self.seed_key,
                    account_external_id=f"sbx-{self.platform}-{self.world[:8]}",
                    external_id=event.campaign_external_id,
                    local_id=event.campaign_external_id.rsplit("-", 1)[-1],
                    platform=self.platform,
                    name=spec["name"],
                    objective=spec.get("objective") or Objective.OTHER,
                    start_date=event.occurred_at.astimezone(self.tz).date(),
                    status=spec.get("status") or DeliveryStatus.PAUSED,
                    daily_budget=_decimal(spec.get("daily_budget")),
                    lifetime_budget=_decimal(spec.get("lifetime_budget")),
                    bid_strategy=spec.get("bid_strategy") or BidStrategy.LOWEST_COST,
                    bid_amount=_decimal(spec.get("bid_amount")),
                    groups=1,
                    ads_per_group=(2, 2),
                    created_through_api=True,
                )
            )
        return created

    def _timeline(self, campaign: CampaignTruth) -> list[tuple[dt.datetime, CampaignSettings]]:
        start = dt.datetime.combine(campaign.start_date, dt.time(), tzinfo=self.tz)
        timeline = [(start, campaign.initial)]
        # A few campaigns were paused by the advertiser a fortnight before the history ends.
        if not campaign.created_through_api and _rng(campaign.seed_key, "paused").random() < 0.15:
            paused_on = self.epoch + dt.timedelta(days=106)
            timeline.append(
                (
                    dt.datetime.combine(paused_on, dt.time(9), tzinfo=self.tz),
                    replace(campaign.initial, status=DeliveryStatus.PAUSED),
                )
            )
        for event in self.events:
            if event.campaign_external_id != campaign.external_id or event.kind == "create":
                continue
            if event.kind in CHILD_EVENTS:
                continue
            current = timeline[-1][1]
            if event.kind == "archive":
                updated = replace(current, status=DeliveryStatus.ARCHIVED)
            else:
                changes: dict[str, Any] = {
                    key: (_decimal(value) if key != "status" and key != "name" else value)
                    for key, value in event.payload.items()
                    if value is not None
                }
                updated = replace(current, **changes)
            timeline.append((event.occurred_at, updated))
        timeline.sort(key=lambda item: item[0])
        return timeline

    def campaign(self, external_id: str) -> CampaignTruth:
        try:
            return self._by_id[external_id]
        except KeyError:
            raise LookupError(external_id) from None

    def settings_at(self, external_id: str, at: dt.datetime) -> CampaignSettings:
        timeline = self._timelines[external_id]
        current = timeline[0][1]
        for moment, settings in timeline:
            if moment <= at:
                current = settings
        return current

    def current_settings(self, external_id: str) -> CampaignSettings:
        return self.settings_at(external_id, self.now)

    def ad_group(self, external_id: str) -> AdGroupTruth:
        """The ad group with its targeting as changed so far."""
        for campaign in self.account.campaigns:
            for group in campaign.ad_groups:
                if group.external_id == external_id:
                    targeting = self._targeting.get(external_id, group.targeting)
                    return replace(group, targeting=dict(targeting))
        raise LookupError(external_id)

    def ad(self, external_id: str) -> tuple[CampaignTruth, AdTruth]:
        for campaign in self.account.campaigns:
            for ad in campaign.ads:
                if ad.external_id == external_id:
                    return campaign, ad
        raise LookupError(external_id)

    def ad_status_at(self, external_id: str, at: dt.datetime) -> str:
        status = DeliveryStatus.ACTIVE.value
        for moment, value in self._ad_timelines.get(external_id, []):
            if moment <= at:
                status = value
        return status

    def ad_status(self, external_id: str) -> str:
        return self.ad_status_at(external_id, self.now)

    def _ad_active_share(self, ad: AdTruth, start: dt.datetime, end: dt.datetime) -> float:
        """The part of [start, end) the ad was active: a paused ad does not deliver."""
        changes = self._ad_timelines.get(ad.external_id)
        if not changes or end <= start:
            return 1.0
        points = [(start, self.ad_status_at(ad.external_id, start))]
        points += [(moment, status) for moment, status in changes if start < moment < end]
        active = 0.0
        for index, (moment, status) in enumerate(points):
            until = points[index + 1][0] if index + 1 < len(points) else end
            if status == DeliveryStatus.ACTIVE:
                active += (until - moment).total_seconds()
        return active / (end - start).total_seconds()

    # --- Metrics -------------------------------------------------------------------------
    def _paced_budget(self, campaign: CampaignTruth, settings: CampaignSettings) -> float:
        if settings.daily_budget is not None:
            return float(settings.daily_budget)
        if settings.lifetime_budget is not None:
            days = (campaign.end_date - campaign.start_date).days if campaign.end_date else 30
            return float(settings.lifetime_budget) / max(days, 1)
        return 0.0

    def simulate_day(self, external_id: str, day: dt.date) -> CampaignDay:
        """The campaign's day as the platform reports it at `now` (today: so far)."""
        key = (external_id, day)
        if key not in self._days:
            self._days[key] = self._simulate_day(external_id, day)
        return self._days[key]

    def _simulate_day(self, external_id: str, day: dt.date) -> CampaignDay:
        campaign = self._by_id[external_id]
        day_start = dt.datetime.combine(day, dt.time(), tzinfo=self.tz)
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=self.tz)
        horizon = min(day_end, self.now)
        if horizon <= day_start or day < campaign.start_date or not campaign.ads_on(day):
            return CampaignDay(campaign=campaign, day=day, spend=0.0)
        # Budget in force, weighted by how much of the day it was in force.
        timeline = self._timelines[external_id]
        day_seconds = (day_end - day_start).total_seconds()
        budget_share = 0.0
        for index, (moment, settings) in enumerate(timeline):
            until = timeline[index + 1][0] if index + 1 < len(timeline) else horizon
            lo, hi = max(moment, day_start), min(until, horizon)
            if hi > lo and settings.status == DeliveryStatus.ACTIVE:
                budget_share += self._paced_budget(campaign, settings) * (
                    (hi - lo).total_seconds() / day_seconds
                )
        if budget_share <= 0:
            return CampaignDay(campaign=campaign, day=day, spend=0.0)

        # Paused ads deliver nothing; the platform moves the budget to the ads still running,
        # so spend drops only while no ad at all is active.
        shares = {ad.external_id: self._ad_active_share(ad, day_start, horizon)
                  for ad in campaign.ads_on(day)}  # fmt: skip
        ads = [ad for ad in campaign.ads_on(day) if shares[ad.external_id] > 0]
        if not ads:
            return CampaignDay(campaign=campaign, day=day, spend=0.0)

        rng = _rng(campaign.seed_key, "day", day.isoformat())
        anomaly = campaign.anomaly(day)
        noise = rng.lognormvariate(0, 0.1)
        spend = (budget_share * campaign.delivery * WEEKDAY_SPEND[day.weekday()] * noise) * (
            2.4 if anomaly == "spend_spike" else 1.0
        )
        spend *= max(shares.values())
        expected = campaign.expected_conversions(spend, day)
        if anomaly == "tracking_outage":
            expected *= 0.15
        total = _poisson_quantile(rng.random(), expected)

        weights = [ad.weight * shares[ad.external_id] for ad in ads]
        conv_weights = [
            w * ad.quality * ad.fatigue(day) for w, ad in zip(weights, ads, strict=True)
        ]
        segment_weights = {
            dim: [
                share * (WINNING_SEGMENT_LIFT if (dim, value) == campaign.winning_segment else 1)
                for value, share in values
            ]
            for dim, values in SEGMENTS.items()
        }
        # Each conversion's ad, segments, value and reporting lag, in a fixed order, so the
        # first k are the same whatever the day's final count.
        per_ad_conv = [0] * len(ads)
        per_ad_value = [0.0] * len(ads)
        per_segment: dict[tuple[SegmentDimension, int], list[float]] = {}
        stream = _rng(campaign.seed_key, "conversions", day.isoformat())
        for _ in range(total):
            u_lag, u_value, u_ad = stream.random(), stream.random(), stream.random()
            u_segments = {dim: stream.random() for dim in SEGMENTS}
            lag = next(days for threshold, days in LAG_DAYS if u_lag <= threshold)
            amount = campaign.aov * math.exp(
                0.3 * _NORMAL.inv_cdf(min(max(u_value, 1e-9), 1 - 1e-9))
            )
            if lag and self.now < day_end + dt.timedelta(days=lag):
                continue  # not reported yet: a later sync restates this day
            ad_index = _pick(conv_weights, u_ad)
            per_ad_conv[ad_index] += 1
            per_ad_value[ad_index] += amount
            for dim, u in u_segments.items():
                entry = per_segment.setdefault((dim, _pick(segment_weights[dim], u)), [0, 0.0])
                entry[0] += 1
                entry[1] += amount

        ad_days = []
        total_weight = sum(weights)
        for index, ad in enumerate(ads):
            ad_spend = spend * weights[index] / total_weight
            impressions = int(ad_spend / campaign.cpm * 1000)
            clicks = int(impressions * campaign.ctr * ad.quality * ad.fatigue(day))
            ad_days.append(
                AdDay(
                    ad=ad,
                    impressions=impressions,
                    clicks=clicks,
                    spend=_money(ad_spend),
                    conversions=per_ad_conv[index],
                    conversion_value=_money(per_ad_value[index]),
                    video_views=int(impressions * 0.3) if ad.is_video else 0,
                    reach=int(impressions / (1.2 + 6 * (1 - ad.fatigue(day)))),
                )
            )
        impressions_total = sum(a.impressions for a in ad_days)
        clicks_total = sum(a.clicks for a in ad_days)
        segments = []
        for dim, values in SEGMENTS.items():
            for index, (value, share) in enumerate(values):
                conv, conv_value = per_segment.get((dim, index), [0, 0.0])
                segments.append(
                    SegmentDay(
                        dimension=dim,
                        value=value,
                        impressions=round(impressions_total * share),
                        clicks=round(clicks_total * share),
                        spend=_money(spend * share),
                        conversions=int(conv),
                        conversion_value=_money(conv_value),
                    )
                )
        return CampaignDay(campaign=campaign, day=day, spend=spend, ads=ad_days, segments=segments)

    def days(self, start: dt.date, end: dt.date) -> Iterator[dt.date]:
        day = start
        while day <= end:
            yield day
            day += dt.timedelta(days=1)


def _pick(weights: Sequence[float], u: float) -> int:
    target = u * sum(weights)
    running = 0.0
    for index, weight in enumerate(weights):
        running += weight
        if target < running:
            return index
    return len(weights) - 1


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))
