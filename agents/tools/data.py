"""One read of an organization's account for an agent run: every series the tools need.

A review reads the database once, here, through analytics.selectors; the agents and the
parallel branches of a review then compute on this snapshot without touching the database
(so they can run in worker threads, and a 500-campaign review stays one set of queries).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adplatform.models import Organization
from agents.models import CompetitorAd, CompetitorNote
from analytics.metrics import Dimension, MetricQuery, Period
from analytics.selectors import DailySums, get_daily_sums, get_metric_totals, get_segment_sums
from analytics.selectors.metrics import MetricTotals
from campaigns.models import Ad, Campaign, DeliveryStatus

SEGMENT_DIMENSIONS = (Dimension.AGE, Dimension.GENDER, Dimension.DEVICE)


@dataclass
class DailySeries:
    """Day-by-day sums of one campaign or ad over the window (zeros on missing days)."""

    days: list[dt.date]
    spend: list[float]
    conversions: list[float]
    clicks: list[float]
    impressions: list[float]
    revenue: list[float]


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    name: str
    platform: str
    status: str
    daily_budget: float | None
    bid_strategy: str
    bid_amount: float | None

    @property
    def is_active(self) -> bool:
        return self.status == DeliveryStatus.ACTIVE


@dataclass(frozen=True)
class AdInfo:
    id: int
    campaign_id: int
    name: str
    headline: str
    body: str
    call_to_action: str


@dataclass
class AccountSnapshot:
    organization_id: int
    currency: str
    period: Period
    campaigns: dict[int, CampaignInfo]
    campaign_series: dict[int, DailySeries]
    ads: dict[int, AdInfo]
    ad_series: dict[int, DailySeries]
    # (campaign id, dimension) -> value -> [clicks, conversions, spend, revenue]
    segments: dict[tuple[int, str], dict[str, list[float]]]
    totals: MetricTotals
    competitor_notes: list[dict[str, str]] = field(default_factory=list)
    # Stored Ad Library ads of tracked competitors (see agents.competitors).
    competitor_ads: list[dict[str, Any]] = field(default_factory=list)
    # Results computed once per snapshot and shared by agents (e.g. response curves).
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def as_of(self) -> dt.date:
        return self.period.end


def load_snapshot(
    organization: Organization, *, as_of: dt.date, days: int = 90, ad_days: int = 56
) -> AccountSnapshot:
    """Everything the agents read, for the `days` days up to `as_of` (ad level: `ad_days`)."""
    period = Period(start=as_of - dt.timedelta(days=days - 1), end=as_of)
    campaigns = {
        pk: CampaignInfo(
            id=pk,
            name=name,
            platform=platform,
            status=status,
            daily_budget=float(daily_budget) if daily_budget is not None else None,
            bid_strategy=bid_strategy,
            bid_amount=float(bid_amount) if bid_amount is not None else None,
        )
        for pk, name, platform, status, daily_budget, bid_strategy, bid_amount in (
            Campaign.objects.filter(organization=organization)
            .values_list("pk", "name", "ad_account__platform", "status", "daily_budget",
                         "bid_strategy", "bid_amount")
        )
    }  # fmt: skip
    # Day-by-day sums as arrays (get_daily_sums), then one list per measure: the series
    # only feed float statistics, and per-row objects were most of a large account's load.
    daily = get_daily_sums(
        organization, MetricQuery(period=period, group_by=(Dimension.CAMPAIGN, Dimension.DATE))
    )
    campaign_series = _series_by_key(daily)  # in id order, as the agents iterate

    ad_period = Period(start=as_of - dt.timedelta(days=ad_days - 1), end=as_of)
    ad_series = _series_by_key(
        get_daily_sums(
            organization, MetricQuery(period=ad_period, group_by=(Dimension.AD, Dimension.DATE))
        )
    )
    ads = {
        pk: AdInfo(
            id=pk,
            campaign_id=campaign_id,
            name=name,
            headline=headline or "",
            body=body or "",
            call_to_action=call_to_action or "",
        )
        for pk, campaign_id, name, headline, body, call_to_action in (
            Ad.objects.filter(organization=organization, pk__in=list(ad_series))
            .values_list("pk", "campaign_id", "name", "creative__headline", "creative__body",
                         "creative__call_to_action")
        )
    }  # fmt: skip

    segments: dict[tuple[int, str], dict[str, list[float]]] = defaultdict(dict)
    segment_sums = get_segment_sums(organization, period=ad_period, dimensions=SEGMENT_DIMENSIONS)
    # Dimension by dimension, largest spend first within a campaign (as get_metric_report
    # orders them): the order the agents report findings in.
    order = {dimension.value: i for i, dimension in enumerate(SEGMENT_DIMENSIONS)}
    for campaign_id, dimension, value, _impressions, clicks, spend, conversions, revenue in sorted(
        segment_sums.rows, key=lambda r: (order[r[1]], -r[5], r[0], r[2])
    ):
        segments[(campaign_id, dimension)][str(value)] = [
            float(clicks), conversions, spend, revenue,
        ]  # fmt: skip

    half = Period(start=as_of - dt.timedelta(days=13), end=as_of)
    totals = get_metric_totals(organization, period=half, compare=True)
    return AccountSnapshot(
        organization_id=organization.pk,
        currency=daily.currency,
        period=period,
        campaigns=campaigns,
        campaign_series=campaign_series,
        ads=ads,
        ad_series=ad_series,
        segments=dict(segments),
        totals=totals,
        competitor_notes=[
            {"competitor": n.competitor, "platform": n.platform, "text": n.text}
            for n in CompetitorNote.objects.filter(organization=organization).order_by(
                "-observed_on", "-pk"
            )[:500]
        ],
        competitor_ads=load_competitor_ads(organization),
    )


def _series_by_key(sums: DailySums) -> dict[int, DailySeries]:
    return {
        key: DailySeries(
            days=sums.days,
            spend=sums.spend[row].tolist(),
            conversions=sums.conversions[row].tolist(),
            clicks=sums.clicks[row].tolist(),
            impressions=sums.impressions[row].tolist(),
            revenue=sums.revenue[row].tolist(),
        )
        for row, key in enumerate(sums.keys)
    }


def load_competitor_ads(organization: Organization, *, limit: int = 5000) -> list[dict[str, Any]]:
    """Tracked competitors' stored ads, newest first, as plain rows for the analysis."""
    rows = (
        CompetitorAd.objects.filter(organization=organization, competitor__is_active=True)
        .order_by("-delivery_start", "-pk")
        .values_list(
            "competitor__name", "archive_id", "bodies", "link_titles", "link_descriptions",
            "delivery_start", "delivery_stop", "publisher_platforms", "is_video",
        )[:limit]
    )  # fmt: skip
    return [
        {
            "competitor": name,
            "archive_id": archive_id,
            "text": " | ".join([*bodies[:1], *titles[:1], *descriptions[:1]]),
            "start": start,
            "stop": stop,
            "platforms": platforms,
            "is_video": is_video,
            "versions": max(len(bodies), len(titles), 1),
        }
        for (name, archive_id, bodies, titles, descriptions, start, stop, platforms,
             is_video) in rows
    ]  # fmt: skip


def money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))
