"""get_metric_sums: the sums of get_metric_report as plain tuples, for bulk computing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from analytics.metrics import Dimension, MetricQuery, Period
from analytics.models import ExchangeRate
from analytics.selectors import (
    InvalidMetricQuery,
    get_daily_sums,
    get_metric_report,
    get_metric_sums,
    get_segment_sums,
)
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


@pytest.mark.parametrize("key", [Dimension.CAMPAIGN, Dimension.AD])
def test_daily_sums_are_the_sums_laid_out_by_id_and_day(organization, key):
    # Given a USD ad and an EUR ad (with a rate) on two days, and another organization's ad
    usd = AdFactory(ad_group__campaign__ad_account__organization=organization)
    eur_account = AdAccountFactory(organization=organization, currency="EUR")
    eur = AdFactory(
        ad_group__campaign__ad_account=eur_account,
        ad_group__campaign__organization=organization,
    )
    ExchangeRate.objects.create(organization=organization, currency="EUR", rate=Decimal("1.25"))
    write_ad_day(usd, MARCH_2, impressions=1000, clicks=7, spend="10.01", conversions="1.5",
                 revenue="20.33")  # fmt: skip
    write_ad_day(usd, MARCH.end, impressions=900, clicks=5, spend="9.99", conversions="0.5",
                 revenue="3.00")  # fmt: skip
    write_ad_day(eur, MARCH_2, impressions=500, clicks=3, spend="100.07", conversions="0.3333",
                 revenue="80.10")  # fmt: skip
    write_ad_day(AdFactory(), MARCH_2, impressions=1, clicks=1, spend="1", conversions="1",
                 revenue="1")  # fmt: skip
    query = MetricQuery(period=MARCH, group_by=(key, Dimension.DATE))

    # When the sums are read as arrays
    daily = get_daily_sums(organization, query)

    # Then each id has a row, each day of the period a column, zeros where nothing ran,
    # and every cell is get_metric_sums' figure
    ids = sorted({usd.pk, eur.pk} if key is Dimension.AD else {usd.campaign_id, eur.campaign_id})
    assert daily.keys == ids
    assert daily.days == [MARCH.start + dt.timedelta(days=i) for i in range(7)]
    assert daily.spend.shape == (2, 7)
    expected = {row[:2]: row[2:] for row in get_metric_sums(organization, query).rows}
    assert len(expected) == 3
    for i, key_id in enumerate(daily.keys):
        for j, day in enumerate(daily.days):
            cell = (daily.impressions[i, j], daily.clicks[i, j], daily.spend[i, j],
                    daily.conversions[i, j], daily.revenue[i, j])  # fmt: skip
            assert cell == expected.get((key_id, day), (0, 0, 0.0, 0.0, 0.0)), (key_id, day)
    row = daily.keys.index(eur.pk if key is Dimension.AD else eur.campaign_id)
    assert daily.spend[row, 1] == pytest.approx(125.0875)


def test_daily_sums_take_an_id_then_the_date(organization):
    for group_by in ((Dimension.DATE, Dimension.CAMPAIGN), (Dimension.PLATFORM, Dimension.DATE),
                     (Dimension.CAMPAIGN,)):  # fmt: skip
        with pytest.raises(InvalidMetricQuery):
            get_daily_sums(organization, MetricQuery(period=MARCH, group_by=group_by))


def test_segment_sums_give_each_dimensions_sums_in_one_read(organization):
    # Given age, gender and country segments of two campaigns
    first = AdFactory(ad_group__campaign__ad_account__organization=organization)
    second = AdFactory(ad_group__campaign__ad_account=first.campaign.ad_account,
                       ad_group__campaign__organization=organization)  # fmt: skip
    for ad, dimension, value, clicks in (
        (first, "age", "18-24", 11), (first, "age", "25-34", 5), (second, "age", "18-24", 7),
        (first, "gender", "female", 9), (second, "country", "DE", 4),
    ):  # fmt: skip
        for day in (MARCH_2, MARCH.end):
            SegmentDailyMetricFactory(campaign=ad.campaign, dimension=dimension, value=value,
                                      date=day, clicks=clicks, spend=Decimal("1.25"),
                                      conversions=Decimal("0.5"))  # fmt: skip

    # When age and gender are read together
    sums = get_segment_sums(
        organization, period=MARCH, dimensions=(Dimension.AGE, Dimension.GENDER)
    )

    # Then the rows are get_metric_sums' of each dimension, and nothing of the country
    for dimension in (Dimension.AGE, Dimension.GENDER):
        query = MetricQuery(period=MARCH, group_by=(Dimension.CAMPAIGN, dimension))
        one = get_metric_sums(organization, query)
        mine = {(r[0], r[2]): r[3:] for r in sums.rows if r[1] == dimension.value}
        assert mine == {(r[0], r[1]): r[2:] for r in one.rows}
        assert mine
    assert len(sums.rows) == 4
    with pytest.raises(InvalidMetricQuery):
        get_segment_sums(organization, period=MARCH, dimensions=(Dimension.CAMPAIGN,))
