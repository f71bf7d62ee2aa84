from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from analytics.models import Insight, InsightKind, SavedDashboard, Severity
from campaigns.models import Ad, SegmentDailyMetric
from campaigns.services import DailyMetricRow, upsert_daily_metrics
from tests.adplatform.factories import OrganizationFactory
from tests.campaigns.factories import CampaignFactory


def write_ad_day(
    ad: Ad,
    day: dt.date,
    *,
    impressions: int = 0,
    clicks: int = 0,
    spend: str | Decimal = "0",
    conversions: str | Decimal = "0",
    revenue: str | Decimal = "0",
    reach: int | None = None,
) -> None:
    """One ad-day through the real write path, so the rollups are maintained as in a sync."""
    upsert_daily_metrics(
        [
            DailyMetricRow(
                organization_id=ad.organization_id,
                ad_account_id=ad.campaign.ad_account_id,
                campaign_id=ad.campaign_id,
                ad_group_id=ad.ad_group_id,
                ad_id=ad.pk,
                date=day,
                impressions=impressions,
                clicks=clicks,
                spend=Decimal(spend),
                conversions=Decimal(conversions),
                conversion_value=Decimal(revenue),
                reach=reach,
            )
        ]
    )


class SegmentDailyMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SegmentDailyMetric

    campaign = factory.SubFactory(CampaignFactory)
    organization = factory.SelfAttribute("campaign.organization")
    ad_account = factory.SelfAttribute("campaign.ad_account")
    platform = factory.SelfAttribute("campaign.ad_account.platform")
    date = dt.date(2026, 3, 2)
    dimension = "age"
    value = "25-34"
    impressions = 1000
    clicks = 10
    spend = Decimal("10.00")
    conversions = Decimal("1")
    conversion_value = Decimal("30.00")


class InsightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insight

    organization = factory.SubFactory(OrganizationFactory)
    kind = InsightKind.ANOMALY
    severity = Severity.MEDIUM
    metric = "spend"
    title = factory.Sequence(lambda n: f"Insight {n}")
    summary = "Spend was far above normal."
    confidence = Decimal("0.9990")
    evidence = factory.LazyFunction(lambda: {"method": "test"})
    fingerprint = factory.Sequence(lambda n: f"test:{n}")


class SavedDashboardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedDashboard

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"View {n}")
    config = factory.LazyFunction(lambda: {"preset": "7d", "metric": "roas"})
