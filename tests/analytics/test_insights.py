"""Insights computed from metrics through the real write path and the query layer."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from analytics.models import Insight, InsightKind, InsightRun, Severity
from analytics.services.insights import compute_insights
from analytics.tasks import compute_insights_task
from campaigns.services import DailyMetricRow, upsert_daily_metrics
from tests.campaigns.factories import AdFactory

AS_OF = dt.date(2026, 3, 29)  # a Sunday
WEEKLY = [1.05, 1.08, 1.06, 1.02, 0.97, 0.72, 0.70]


def seed_campaign(ad, *, days=56, spend=400.0, roas=2.5, spike_on=None, phase=0.0):
    """Deterministic daily rows with a weekly rhythm; optionally one spend spike."""
    rows = []
    for offset in range(days):
        day = AS_OF - dt.timedelta(days=days - 1 - offset)
        wiggle = 1 + 0.04 * math.sin(offset * 2.1 + phase)
        amount = spend * WEEKLY[day.weekday()] * wiggle
        if day == spike_on:
            amount *= 3
        conversions = round(amount / 20)
        rows.append(
            DailyMetricRow(
                organization_id=ad.organization_id,
                ad_account_id=ad.campaign.ad_account_id,
                campaign_id=ad.campaign_id,
                ad_group_id=ad.ad_group_id,
                ad_id=ad.pk,
                date=day,
                impressions=int(amount * 100),
                clicks=int(amount * 2),
                spend=Decimal(f"{amount:.2f}"),
                conversions=Decimal(conversions),
                conversion_value=Decimal(f"{amount * roas * wiggle:.2f}"),
            )
        )
    upsert_daily_metrics(rows)


@pytest.fixture
def account(organization):
    spiky = AdFactory(
        ad_group__campaign__ad_account__organization=organization,
        ad_group__campaign__name="Spiky",
        ad_group__campaign__daily_budget=Decimal("1000"),
    )
    calm = AdFactory(
        ad_group__campaign__ad_account=spiky.campaign.ad_account,
        ad_group__campaign__organization=organization,
        ad_group__campaign__name="Calm",
        ad_group__campaign__daily_budget=Decimal("1000"),
    )
    seed_campaign(spiky, spike_on=AS_OF - dt.timedelta(days=1), phase=1.0)
    seed_campaign(calm, spend=300.0, phase=2.0)
    return spiky, calm


def test_an_injected_spend_spike_becomes_an_anomaly_on_that_campaign_and_day(organization, account):
    spiky, calm = account

    run = compute_insights(organization=organization, as_of=AS_OF)

    assert run.status == InsightRun.Status.SUCCEEDED
    spend_anomalies = Insight.objects.filter(
        organization=organization, kind=InsightKind.ANOMALY, metric="spend"
    )
    assert [(i.campaign_id, i.period_start) for i in spend_anomalies] == [
        (spiky.campaign_id, AS_OF - dt.timedelta(days=1))
    ]
    anomaly = spend_anomalies.get()
    assert anomaly.severity == Severity.HIGH
    assert anomaly.confidence > Decimal("0.99")
    assert anomaly.evidence["method"].startswith("Seasonal decomposition")
    assert len(anomaly.evidence["series"]["values"]) == 56
    assert anomaly.evidence["value"] > 2 * anomaly.evidence["expected"]
    assert f"campaign={spiky.campaign_id}" in anomaly.chart_url


def test_forecasts_and_pacing_are_stored_with_their_evidence(organization, account):
    compute_insights(organization=organization, as_of=AS_OF)

    forecasts = Insight.objects.filter(organization=organization, kind=InsightKind.FORECAST)
    assert sorted(f.metric for f in forecasts) == ["conversions", "revenue", "spend"]
    spend = forecasts.get(metric="spend")
    assert spend.confidence == Decimal("0.8000")
    interval = spend.evidence["next_30_days"]
    assert interval["lower"] < interval["mean"] < interval["upper"]
    assert len(spend.evidence["forecast"]["dates"]) == 30
    pacing = Insight.objects.get(organization=organization, kind=InsightKind.PACING)
    # Two campaigns at 1,000 a day for 31 days of March.
    assert pacing.evidence["planned_budget"] == 62000.0
    assert pacing.evidence["remaining_days"] == 2
    assert pacing.severity == Severity.HIGH  # ~700 a day is far under 2,000
    assert "under budget" in pacing.title


def test_recomputing_updates_in_place_instead_of_duplicating(organization, account):
    compute_insights(organization=organization, as_of=AS_OF)
    count = Insight.objects.filter(organization=organization).count()

    second = compute_insights(organization=organization, as_of=AS_OF)

    assert Insight.objects.filter(organization=organization).count() == count
    assert second.insights_created == 0
    assert second.insights_updated == count


def test_new_high_severity_insights_are_announced_once(organization, account):
    from notifications.models import Notification

    compute_insights(organization=organization, as_of=AS_OF)
    compute_insights(organization=organization, as_of=AS_OF)

    announced = Notification.objects.filter(organization=organization, type="ai_insight")
    high = Insight.objects.filter(organization=organization, severity=Severity.HIGH)
    assert high.count() >= 1
    assert announced.count() == high.count()
    assert {n.title for n in announced} == {i.title for i in high}
    assert all(n.priority == "high" for n in announced)


def test_the_task_computes_for_one_organization_only(organization, other_organization, account):
    run_id = compute_insights_task(organization.pk, as_of=AS_OF.isoformat(), trigger="sync")

    run = InsightRun.objects.get(pk=run_id)
    assert run.organization == organization
    assert run.trigger == "sync"
    assert not Insight.objects.filter(organization=other_organization).exists()


def test_an_organization_without_data_gets_a_run_and_no_insights(organization):
    run = compute_insights(organization=organization, as_of=AS_OF)

    assert run.status == InsightRun.Status.SUCCEEDED
    assert not Insight.objects.filter(organization=organization).exists()
