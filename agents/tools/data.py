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
from analytics.metrics import Dimension, MetricQuery, Metrics, Period
from analytics.selectors import get_metric_report, get_metric_sums, get_metric_totals
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

    @classmethod
    def empty(cls, days: list[dt.date]) -> DailySeries:
        n = len(days)
        return cls(days, [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n)

    def put(
        self,
        index: int,
        impressions: float,
        clicks: float,
        spend: float,
        conversions: float,
        revenue: float,
    ) -> None:
        self.spend[index] = spend
        self.conversions[index] = conversions
        self.clicks[index] = float(clicks)
        self.impressions[index] = float(impressions)
        self.revenue[index] = revenue


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
    campaign_totals_previous: dict[int, Metrics] = field(default_factory=dict)
    competitor_notes: list[dict[str, str]] = field(default_factory=list)
    # Stored Ad Library ads of tracked competitors (see agents.competitors).
    competitor_ads: list[dict[str, Any]] = field(default_factory=list)
    # Results computed once per snapshot and shared by agents (e.g. response curves).
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def as_of(self) -> dt.date:
        return self.period.end


def _days(period: Period) -> list[dt.date]:
    return [period.start + dt.timedelta(days=i) for i in range(period.days)]


def load_snapshot(
    organization: Organization, *, as_of: dt.date, days: int = 90, ad_days: int = 56
) -> AccountSnapshot:
    """Everything the agents read, for the `days` days up to `as_of` (ad level: `ad_days`)."""
    period = Period(start=as_of - dt.timedelta(days=days - 1), end=as_of)
    day_list = _days(period)
    index = {day: i for i, day in enumerate(day_list)}
    campaigns = {
        c.pk: CampaignInfo(
            id=c.pk,
            name=c.name,
            platform=c.ad_account.platform,
            status=c.status,
            daily_budget=float(c.daily_budget) if c.daily_budget is not None else None,
            bid_strategy=c.bid_strategy,
            bid_amount=float(c.bid_amount) if c.bid_amount is not None else None,
        )
        for c in Campaign.objects.filter(organization=organization).select_related("ad_account")
    }
    # Sums as floats (get_metric_sums): the series only feed float statistics, and
    # building ~100k Decimal rows was most of a large account's load time.
    campaign_series: dict[int, DailySeries] = {}
    report = get_metric_sums(
        organization, MetricQuery(period=period, group_by=(Dimension.CAMPAIGN, Dimension.DATE))
    )
    for campaign_id, day, *measures in report.rows:
        series = campaign_series.get(campaign_id)
        if series is None:
            series = campaign_series[campaign_id] = DailySeries.empty(day_list)
        series.put(index[day], *measures)
    # In id order, as the report used to give them (the agents iterate in this order).
    campaign_series = dict(sorted(campaign_series.items()))

    ad_period = Period(start=as_of - dt.timedelta(days=ad_days - 1), end=as_of)
    ad_day_list = _days(ad_period)
    ad_index = {day: i for i, day in enumerate(ad_day_list)}
    ad_series: dict[int, DailySeries] = {}
    ad_report = get_metric_sums(
        organization, MetricQuery(period=ad_period, group_by=(Dimension.AD, Dimension.DATE))
    )
    for ad_id, day, *measures in ad_report.rows:
        series = ad_series.get(ad_id)
        if series is None:
            series = ad_series[ad_id] = DailySeries.empty(ad_day_list)
        series.put(ad_index[day], *measures)
    ad_series = dict(sorted(ad_series.items()))
    ads = {
        ad.pk: AdInfo(
            id=ad.pk,
            campaign_id=ad.campaign_id,
            name=ad.name,
            headline=ad.creative.headline if ad.creative else "",
            body=ad.creative.body if ad.creative else "",
            call_to_action=ad.creative.call_to_action if ad.creative else "",
        )
        for ad in Ad.objects.filter(organization=organization, pk__in=list(ad_series))
        .select_related("creative")
        .only("pk", "campaign_id", "name", "creative__headline", "creative__body",
              "creative__call_to_action")
    }  # fmt: skip

    segments: dict[tuple[int, str], dict[str, list[float]]] = defaultdict(dict)
    for dimension in SEGMENT_DIMENSIONS:
        seg_report = get_metric_sums(
            organization,
            MetricQuery(period=ad_period, group_by=(Dimension.CAMPAIGN, dimension)),
        )
        # Largest spend first within a campaign, as get_metric_report orders them.
        seg_rows = sorted(seg_report.rows, key=lambda r: (-r[4], r[0], r[1]))
        for campaign_id, value, _impressions, clicks, spend, conversions, revenue in seg_rows:
            segments[(campaign_id, dimension.value)][str(value)] = [
                float(clicks), conversions, spend, revenue,
            ]  # fmt: skip

    half = Period(start=as_of - dt.timedelta(days=13), end=as_of)
    totals = get_metric_totals(organization, period=half, compare=True)
    previous = get_metric_report(
        organization, MetricQuery(period=half.previous(), group_by=(Dimension.CAMPAIGN,))
    )
    return AccountSnapshot(
        organization_id=organization.pk,
        currency=report.currency,
        period=period,
        campaigns=campaigns,
        campaign_series=campaign_series,
        ads=ads,
        ad_series=ad_series,
        segments=dict(segments),
        totals=totals,
        campaign_totals_previous={row.key[0]: row.metrics for row in previous.rows},
        competitor_notes=[
            {"competitor": n.competitor, "platform": n.platform, "text": n.text}
            for n in CompetitorNote.objects.filter(organization=organization).order_by(
                "-observed_on", "-pk"
            )[:500]
        ],
        competitor_ads=load_competitor_ads(organization),
    )


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
