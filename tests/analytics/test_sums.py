"""get_metric_sums: the sums of get_metric_report as plain tuples, for bulk computing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from analytics.metrics import Dimension, MetricQuery, Period
from analytics.models import ExchangeRate
from analytics.selectors import InvalidMetricQuery, get_metric_report, get_metric_sums
from tests.analytics.factories import SegmentDailyMetricFactory, write_ad_day
from tests.campaigns.factories import AdAccountFactory, AdFactory

pytestmark = pytest.mark.django_db

MARCH_2 = dt.date(2026, 3, 2)
MARCH = Period(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 7))


@pytest.mark.parametrize(
    "group_by",
    [
        (Dimension.CAMPAIGN, Dimension.DATE),
        (Dimension.AD, Dimension.DATE),
        (Dimension.CAMPAIGN, Dimension.AGE),
    ],
)
def test_sums_equal_the_reports_sums_in_the_organizations_currency(organization, group_by):
    # Given a USD ad, an EUR ad with an exchange rate, two days, and age segments
    usd = AdFactory(ad_group__campaign__ad_account__organization=organization)
    eur_account = AdAccountFactory(organization=organization, currency="EUR")
    eur = AdFactory(
        ad_group__campaign__ad_account=eur_account,
        ad_group__campaign__organization=organization,
    )
    ExchangeRate.objects.create(organization=organization, currency="EUR", rate=Decimal("1.25"))
    for day, factor in ((MARCH_2, 1), (MARCH_2 + dt.timedelta(days=1), 3)):
        write_ad_day(usd, day, impressions=1000 * factor, clicks=7 * factor,
                     spend=f"{10.01 * factor:.2f}", conversions=f"{1.5 * factor}",
                     revenue=f"{20.33 * factor:.2f}")  # fmt: skip
        write_ad_day(eur, day, impressions=500, clicks=3, spend="100.07", conversions="0.3333",
                     revenue="80.10")  # fmt: skip
    for ad, value in ((usd, "18-24"), (eur, "25-34"), (eur, "18-24")):
        SegmentDailyMetricFactory(campaign=ad.campaign, value=value, clicks=11,
                                  spend=Decimal("12.34"), conversions=Decimal("1.5"))  # fmt: skip
    query = MetricQuery(period=MARCH, group_by=group_by)

    # When both selectors read the same query
    sums = get_metric_sums(organization, query)
    report = get_metric_report(organization, query)

    # Then every group has the same sums, the money converted (EUR × 1.25)
    expected = {
        row.key: (
            row.metrics.impressions,
            row.metrics.clicks,
            float(row.metrics.spend),
            float(row.metrics.conversions),
            float(row.metrics.revenue),
        )
        for row in report.rows
    }
    assert len(expected) >= 2
    assert {row[:2]: row[2:] for row in sums.rows} == expected
    assert sums.currency == report.currency
    if group_by[0] is Dimension.CAMPAIGN and group_by[1] is Dimension.DATE:
        assert expected[(eur.campaign_id, MARCH_2)][2] == pytest.approx(125.0875)


def test_sums_refuse_ordering_comparison_and_paging(organization):
    for query in (
        MetricQuery(period=MARCH, group_by=(Dimension.CAMPAIGN,), compare=True),
        MetricQuery(period=MARCH, group_by=(Dimension.CAMPAIGN,), limit=5),
        MetricQuery(period=MARCH, group_by=()),
    ):
        with pytest.raises(InvalidMetricQuery):
            get_metric_sums(organization, query)
