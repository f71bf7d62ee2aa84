"""The metrics query layer on small fixtures whose every number is computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from analytics.metrics import Dimension, MetricFilters, MetricQuery, Metrics, Period
from analytics.models import AccountDailyMetric, ExchangeRate
from analytics.params import organization_today, preset_period
from analytics.selectors import InvalidMetricQuery, get_metric_report, get_metric_totals
from analytics.selectors.metrics import Source
from campaigns.models import Platform
from tests.analytics.factories import SegmentDailyMetricFactory, write_ad_day
from tests.campaigns.factories import AdAccountFactory, AdFactory, AdGroupFactory, CampaignFactory

MARCH_2 = dt.date(2026, 3, 2)  # a Monday
MARCH = Period(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 7))


@pytest.fixture
def two_ads(organization):
    """Two Meta ads in one campaign with different CTRs, on one day."""
    account = AdAccountFactory(organization=organization, platform=Platform.META)
    campaign = CampaignFactory(ad_account=account, organization=organization, name="Spring")
    group = AdGroupFactory(campaign=campaign, organization=organization)
    first = AdFactory(ad_group=group, campaign=campaign, organization=organization)
    second = AdFactory(ad_group=group, campaign=campaign, organization=organization)
    # CTRs 1% and 10%: the average of ratios would be 5.5%, the ratio of sums is 1.818..%
    write_ad_day(
        first,
        MARCH_2,
        impressions=10000,
        clicks=100,
        spend="50.00",
        conversions="4",
        revenue="200.00",
    )
    write_ad_day(
        second,
        MARCH_2,
        impressions=1000,
        clicks=100,
        spend="30.00",
        conversions="1",
        revenue="40.00",
    )
    return first, second


def test_totals_sum_measures_and_derive_ratios_from_the_sums(organization, two_ads):
    totals = get_metric_totals(organization, period=MARCH)

    metrics = totals.current
    assert metrics.impressions == 11000
    assert metrics.clicks == 200
    assert metrics.spend == Decimal("80.00")
    assert metrics.conversions == Decimal("5")
    assert metrics.revenue == Decimal("240.00")
    assert metrics.ctr == Decimal(200) / Decimal(11000)
    assert metrics.cpc == Decimal("0.40")
    assert metrics.cpm == Decimal("80.00") * 1000 / Decimal(11000)
    assert metrics.cvr == Decimal("0.025")
    assert metrics.cpa == Decimal("16")
    assert metrics.roas == Decimal("3")
    assert totals.currency == "USD"


def test_ratios_with_a_zero_denominator_have_no_value():
    metrics = Metrics(impressions=0, clicks=0, spend=Decimal(0), conversions=Decimal(0))

    assert metrics.ctr is None
    assert metrics.cpc is None
    assert metrics.cpm is None
    assert metrics.cvr is None
    assert metrics.cpa is None
    assert metrics.roas is None


def test_a_day_with_impressions_but_zero_clicks_has_a_ctr_of_zero_and_no_cpc(organization):
    ad = AdFactory(ad_group__campaign__ad_account__organization=organization)
    write_ad_day(ad, MARCH_2, impressions=500, clicks=0, spend="5.00")

    metrics = get_metric_totals(organization, period=MARCH).current

    assert metrics.ctr == Decimal(0)
    assert metrics.cpc is None
    assert metrics.cvr is None
    assert metrics.cpa is None
    assert metrics.roas == Decimal(0)


def test_zero_spend_gives_no_roas_and_no_cost_ratios(organization):
    ad = AdFactory(ad_group__campaign__ad_account__organization=organization)
    write_ad_day(ad, MARCH_2, impressions=100, clicks=3, spend="0", conversions="1", revenue="25")

    metrics = get_metric_totals(organization, period=MARCH).current

    assert metrics.roas is None
    assert metrics.cpc == Decimal(0)
    assert metrics.cpa == Decimal(0)


def test_comparison_is_the_previous_period_of_equal_length(organization, two_ads):
    first, _second = two_ads
    write_ad_day(first, dt.date(2026, 2, 25), impressions=5000, clicks=50, spend="40.00")

    totals = get_metric_totals(organization, period=MARCH, compare=True)

    assert totals.previous_period == Period(start=dt.date(2026, 2, 22), end=dt.date(2026, 2, 28))
    assert totals.previous is not None
    assert totals.previous.spend == Decimal("40.00")
    spend = totals.change("spend")
    assert spend.absolute == Decimal("40.00")
    assert spend.percent == Decimal(100)
    # No revenue before: a percentage of nothing has no value.
    assert totals.change("revenue").percent is None
    assert totals.change("revenue").absolute == Decimal("240.00")


def test_money_keeps_minor_units_exactly(organization):
    ad = AdFactory(ad_group__campaign__ad_account__organization=organization)
    for day in range(1, 4):
        write_ad_day(ad, dt.date(2026, 3, day), spend="0.10", revenue="0.20")

    metrics = get_metric_totals(organization, period=MARCH).current

    assert metrics.spend == Decimal("0.30")
    assert metrics.revenue == Decimal("0.60")


def test_accounts_in_another_currency_are_converted_to_the_organizations(organization):
    usd = AdFactory(ad_group__campaign__ad_account__organization=organization)
    eur_account = AdAccountFactory(organization=organization, currency="EUR")
    eur = AdFactory(
        ad_group__campaign__ad_account=eur_account,
        ad_group__campaign__organization=organization,
    )
    ExchangeRate.objects.create(organization=organization, currency="EUR", rate=Decimal("1.25"))
    write_ad_day(usd, MARCH_2, spend="10.00", revenue="20.00", clicks=5)
    write_ad_day(eur, MARCH_2, spend="100.00", revenue="80.00", clicks=5)

    totals = get_metric_totals(organization, period=MARCH)

    assert totals.current.spend == Decimal("135.00")
    assert totals.current.revenue == Decimal("120.00")
    assert totals.current.clicks == 10
    assert totals.warnings == []


def test_an_account_without_an_exchange_rate_is_left_out_with_a_warning(organization):
    usd = AdFactory(ad_group__campaign__ad_account__organization=organization)
    sek_account = AdAccountFactory(organization=organization, currency="SEK")
    sek = AdFactory(
        ad_group__campaign__ad_account=sek_account,
        ad_group__campaign__organization=organization,
    )
    write_ad_day(usd, MARCH_2, spend="10.00", clicks=5)
    write_ad_day(sek, MARCH_2, spend="999.00", clicks=7)

    totals = get_metric_totals(organization, period=MARCH)

    assert totals.current.spend == Decimal("10.00")
    assert totals.current.clicks == 5
    assert totals.warnings == ["Accounts in SEK are left out: no exchange rate from SEK to USD."]


def test_a_day_is_the_ad_accounts_local_day_and_today_flips_at_the_organizations_midnight(
    organization,
):
    # Given an Auckland agency and account (UTC+13 in March): the row for local March 2
    organization.time_zone = "Pacific/Auckland"
    organization.save()
    account = AdAccountFactory(organization=organization, time_zone="Pacific/Auckland")
    ad = AdFactory(
        ad_group__campaign__ad_account=account, ad_group__campaign__organization=organization
    )
    write_ad_day(ad, dt.date(2026, 3, 2), spend="12.00")
    # When it is 10:30 UTC on March 1, it is already 23:30 on March 1 in Auckland...
    before_midnight = dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.UTC)
    # ...and at 11:30 UTC it is 00:30 on March 2 there, while UTC still says March 1.
    after_midnight = dt.datetime(2026, 3, 1, 11, 30, tzinfo=dt.UTC)

    assert organization_today(organization, before_midnight) == dt.date(2026, 3, 1)
    assert organization_today(organization, after_midnight) == dt.date(2026, 3, 2)
    # Then "month to date" at 00:30 local includes the local March 2 row...
    today = organization_today(organization, after_midnight)
    mtd = preset_period("mtd", today)
    assert get_metric_totals(organization, period=mtd).current.spend == Decimal("12.00")
    # ...while "last 7 days" ends on local March 1 and does not.
    last_week = preset_period("7d", today)
    assert last_week.end == dt.date(2026, 3, 1)
    assert get_metric_totals(organization, period=last_week).current.spend == Decimal(0)


def test_each_grain_reads_the_coarsest_table_and_all_agree(organization, two_ads):
    first, _second = two_ads
    campaign = first.campaign
    SegmentDailyMetricFactory(
        campaign=campaign, date=MARCH_2, dimension="age", value="25-34", spend=Decimal("50.00")
    )
    SegmentDailyMetricFactory(
        campaign=campaign, date=MARCH_2, dimension="age", value="35-44", spend=Decimal("30.00")
    )

    def spend_by(dimension: Dimension) -> tuple[Source, Decimal]:
        report = get_metric_report(organization, MetricQuery(period=MARCH, group_by=(dimension,)))
        return report.source, sum((row.metrics.spend for row in report.rows), Decimal(0))

    assert spend_by(Dimension.PLATFORM) == (Source.ACCOUNT_DAY, Decimal("80.00"))
    assert spend_by(Dimension.DATE) == (Source.ACCOUNT_DAY, Decimal("80.00"))
    assert spend_by(Dimension.CAMPAIGN) == (Source.CAMPAIGN_DAY, Decimal("80.00"))
    assert spend_by(Dimension.AD) == (Source.AD_DAY, Decimal("80.00"))
    assert spend_by(Dimension.CREATIVE) == (Source.AD_DAY, Decimal("80.00"))
    assert spend_by(Dimension.AGE) == (Source.SEGMENT_DAY, Decimal("80.00"))


def test_breakdown_rows_carry_labels_and_sort_by_a_derived_metric(organization, two_ads):
    first, second = two_ads

    report = get_metric_report(
        organization, MetricQuery(period=MARCH, group_by=(Dimension.AD,), order_by="-roas")
    )

    assert [row.key for row in report.rows] == [(first.pk,), (second.pk,)]
    assert [row.labels for row in report.rows] == [(first.name,), (second.name,)]
    assert [row.metrics.roas for row in report.rows] == [Decimal(4), Decimal(40) / Decimal(30)]


def test_weekly_buckets_start_on_monday_and_empty_weeks_are_zeros(organization, two_ads):
    period = Period(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 20))

    report = get_metric_report(organization, MetricQuery(period=period, group_by=(Dimension.WEEK,)))

    assert [row.key[0] for row in report.rows] == [
        dt.date(2026, 2, 23), dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16),
    ]  # fmt: skip
    assert [row.metrics.spend for row in report.rows] == [
        Decimal(0),
        Decimal("80.00"),
        Decimal(0),
        Decimal(0),
    ]


def test_daily_series_compare_day_by_day_with_the_previous_period(organization, two_ads):
    first, _second = two_ads
    write_ad_day(first, dt.date(2026, 2, 23), spend="8.00")  # 7 days before March 2

    report = get_metric_report(
        organization, MetricQuery(period=MARCH, group_by=(Dimension.DATE,), compare=True)
    )

    monday = next(row for row in report.rows if row.key[0] == MARCH_2)
    assert monday.previous is not None
    assert monday.previous.spend == Decimal("8.00")
    assert monday.change("spend").percent == Decimal(900)


def test_filters_narrow_every_table(organization, two_ads):
    first, _second = two_ads
    other = AdFactory(
        ad_group__campaign__ad_account__organization=organization,
        ad_group__campaign__ad_account__platform=Platform.GOOGLE,
    )
    write_ad_day(other, MARCH_2, spend="7.00")

    def spend(filters: MetricFilters) -> Decimal:
        return get_metric_totals(organization, period=MARCH, filters=filters).current.spend

    assert spend(MetricFilters()) == Decimal("87.00")
    assert spend(MetricFilters(platforms=("google",))) == Decimal("7.00")
    assert spend(MetricFilters(campaign_ids=(first.campaign_id,))) == Decimal("80.00")
    assert spend(MetricFilters(ad_ids=(first.pk,))) == Decimal("50.00")
    assert spend(MetricFilters(creative_ids=(first.creative_id,))) == Decimal("50.00")


def test_other_organizations_rows_are_never_summed(organization, other_organization, two_ads):
    foreign = AdFactory(ad_group__campaign__ad_account__organization=other_organization)
    write_ad_day(foreign, MARCH_2, spend="1000.00")

    for dimension in (Dimension.PLATFORM, Dimension.CAMPAIGN, Dimension.AD):
        report = get_metric_report(organization, MetricQuery(period=MARCH, group_by=(dimension,)))
        assert sum((row.metrics.spend for row in report.rows), Decimal(0)) == Decimal("80.00")


@pytest.mark.parametrize(
    ("group_by", "filters"),
    [
        ((Dimension.AGE, Dimension.GENDER), MetricFilters()),
        ((Dimension.AGE, Dimension.AD), MetricFilters()),
        ((Dimension.CAMPAIGN,), MetricFilters(segment=("age", ("25-34",)), ad_ids=(1,))),
        ((Dimension.DATE, Dimension.WEEK), MetricFilters()),
    ],
)
def test_combinations_the_data_cannot_answer_are_refused(organization, group_by, filters):
    with pytest.raises(InvalidMetricQuery):
        get_metric_report(
            organization, MetricQuery(period=MARCH, group_by=group_by, filters=filters)
        )


def test_the_write_path_keeps_the_account_day_rollup_in_step(organization, two_ads):
    first, _second = two_ads

    write_ad_day(first, MARCH_2, impressions=10000, clicks=100, spend="55.00")  # a restatement

    row = AccountDailyMetric.objects.get(ad_account=first.campaign.ad_account, date=MARCH_2)
    assert row.spend == Decimal("85.00")
    assert row.platform == Platform.META


def test_a_summary_with_comparison_is_one_scan_plus_the_currency_check(
    organization, two_ads, django_assert_num_queries
):
    with django_assert_num_queries(2):
        get_metric_totals(organization, period=MARCH, compare=True)


def test_a_campaign_breakdown_with_comparison_takes_three_queries(
    organization, two_ads, django_assert_num_queries
):
    with django_assert_num_queries(3):
        get_metric_report(
            organization,
            MetricQuery(period=MARCH, group_by=(Dimension.CAMPAIGN,), compare=True, limit=50),
        )
