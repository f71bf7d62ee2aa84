from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from adplatform.models import Organization
from campaigns.models import CampaignDailyMetric, DailyMetric
from campaigns.services import DailyMetricRow, upsert_daily_metrics
from tests.campaigns.factories import AdFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


def _row(ad: object, day: dt.date = DAY, **values: object) -> DailyMetricRow:
    return DailyMetricRow(
        organization_id=ad.campaign.organization_id,  # type: ignore[attr-defined]
        ad_account_id=ad.campaign.ad_account_id,  # type: ignore[attr-defined]
        campaign_id=ad.campaign_id,  # type: ignore[attr-defined]
        ad_group_id=ad.ad_group_id,  # type: ignore[attr-defined]
        ad_id=ad.pk,  # type: ignore[attr-defined]
        date=day,
        **values,  # type: ignore[arg-type]
    )


def test_upserting_the_same_rows_twice_changes_nothing(organization: Organization) -> None:
    ad = AdFactory(ad_group__campaign__ad_account__organization=organization)
    rows = [
        _row(ad, DAY + dt.timedelta(days=i), impressions=100 * i, spend=Decimal("1.25"))
        for i in range(5)
    ]

    upsert_daily_metrics(rows)
    first = list(DailyMetric.objects.order_by("date").values("date", "impressions", "spend"))
    upsert_daily_metrics(rows)

    assert (
        list(DailyMetric.objects.order_by("date").values("date", "impressions", "spend")) == first
    )
    assert DailyMetric.objects.count() == 5


def test_a_restated_day_overwrites_the_stored_values(organization: Organization) -> None:
    ad = AdFactory(ad_group__campaign__ad_account__organization=organization)
    upsert_daily_metrics([_row(ad, conversions=Decimal(3))])

    upsert_daily_metrics([_row(ad, conversions=Decimal(5))])

    assert DailyMetric.objects.get().conversions == Decimal(5)
    assert CampaignDailyMetric.objects.get().conversions == Decimal(5)


def test_rollup_sums_the_ads_of_a_campaign_day(organization: Organization) -> None:
    first = AdFactory(ad_group__campaign__ad_account__organization=organization)
    second = AdFactory(organization=organization, ad_group=first.ad_group)
    other_day = DAY + dt.timedelta(days=1)

    upsert_daily_metrics(
        [
            _row(first, clicks=10, spend=Decimal("10.10"), conversion_value=Decimal("30")),
            _row(second, clicks=5, spend=Decimal("4.90"), conversion_value=Decimal("12.5")),
            _row(second, other_day, clicks=1, spend=Decimal("1.00")),
        ]
    )

    day = CampaignDailyMetric.objects.get(date=DAY)
    assert (day.clicks, day.spend, day.conversion_value) == (15, Decimal("15.00"), Decimal("42.50"))
    assert day.platform == first.campaign.ad_account.platform
    totals = CampaignDailyMetric.objects.aggregate(spend=Sum("spend"))
    assert totals["spend"] == DailyMetric.objects.aggregate(spend=Sum("spend"))["spend"]


def test_campaign_level_rows_are_keyed_by_campaign_and_day(organization: Organization) -> None:
    ad = AdFactory(ad_group__campaign__ad_account__organization=organization)
    row = DailyMetricRow(
        organization_id=ad.campaign.organization_id,
        ad_account_id=ad.campaign.ad_account_id,
        campaign_id=ad.campaign_id,
        ad_group_id=None,
        ad_id=None,
        date=DAY,
        impressions=50,
        reach=40,
    )

    upsert_daily_metrics([row, row])

    assert DailyMetric.objects.filter(ad__isnull=True).count() == 1
    assert CampaignDailyMetric.objects.get().reach == 40
