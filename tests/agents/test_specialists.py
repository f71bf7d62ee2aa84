from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import optimize

from adplatform.models import Organization
from agents.limits import PLATFORM_TEXT_LIMITS, violations
from agents.specialists import (
    audience_expert_offline,
    budget_manager_offline,
    creative_specialist_offline,
)
from agents.tools.data import AccountSnapshot, load_snapshot
from campaigns.models import Ad, DailyMetric
from integrations.providers.sandbox.simulator import WEEKDAY_SPEND, CampaignTruth
from tests.agents.sandbox import AS_OF, build_sandbox_org, truths

pytestmark = pytest.mark.django_db

HORIZON = [AS_OF + dt.timedelta(days=i) for i in range(1, 15)]


@pytest.fixture
def sandbox_org(organization: Organization) -> tuple[AccountSnapshot, dict[int, CampaignTruth]]:
    connections = build_sandbox_org(organization)
    return load_snapshot(organization, as_of=AS_OF), truths(connections)


def _true_conversions(truth: CampaignTruth, budget: float) -> float:
    """Expected conversions over the next two weeks at `budget` a day, on the hidden curve."""
    return sum(
        truth.expected_conversions(budget * truth.delivery * WEEKDAY_SPEND[day.weekday()], day)
        for day in HORIZON
    )


def test_the_budget_plan_beats_an_even_split_and_nears_the_true_optimum(
    sandbox_org: tuple[AccountSnapshot, dict[int, CampaignTruth]],
) -> None:
    snapshot, truth = sandbox_org
    report = budget_manager_offline(snapshot)
    plan = {int(k): v["proposed"] for k, v in report.extra["plan"].items()}
    current = {int(k): v["current"] for k, v in report.extra["plan"].items()}
    assert len(plan) >= 6
    keys = sorted(plan)
    total = sum(current.values())
    assert sum(plan.values()) == pytest.approx(total, rel=1e-6)

    def value(budgets: dict[int, float]) -> float:
        return sum(_true_conversions(truth[k], budgets[k]) for k in keys)

    # The best plan under the same bounds (0.5×–2× today), optimised on the true curves.
    bounds = [(current[k] * 0.5, current[k] * 2) for k in keys]
    result = optimize.minimize(
        lambda x: -sum(_true_conversions(truth[k], b) for k, b in zip(keys, x, strict=True)),
        x0=np.array([current[k] for k in keys]),
        bounds=bounds,
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - total}],
        method="SLSQP",
        options={"maxiter": 500, "ftol": 1e-10},
    )
    assert result.success
    best = -result.fun
    baseline = value(current)
    even_budget = total / len(keys)
    even = {k: min(max(even_budget, lo), hi) for k, (lo, hi) in zip(keys, bounds, strict=True)}
    even_total = sum(even.values())
    even = {k: v * total / even_total for k, v in even.items()}
    planned = value(plan)
    assert planned > value(even)
    assert best > baseline
    assert (planned - baseline) / (best - baseline) >= 0.9


def test_the_audience_expert_finds_each_campaigns_planted_winning_segment(
    sandbox_org: tuple[AccountSnapshot, dict[int, CampaignTruth]],
) -> None:
    snapshot, truth = sandbox_org
    report = audience_expert_offline(snapshot)
    winners = report.extra["winning_segments"]
    checked = 0
    for campaign_id, campaign_truth in truth.items():
        dimension, value = campaign_truth.winning_segment
        if str(campaign_id) not in winners:
            # Only campaigns with little data may go without a verdict.
            conversions = sum(snapshot.campaign_series[campaign_id].conversions[-56:])
            assert conversions < 150, campaign_id
            continue
        found = winners[str(campaign_id)]
        assert (found["dimension"], found["value"]) == (dimension.value, value)
        checked += 1
    assert checked >= len(truth) // 2


def test_the_creative_specialist_flags_a_planted_fatigued_ad_and_spares_fresh_ones(
    organization: Organization,
) -> None:
    connections = build_sandbox_org(organization)
    truth = truths(connections)
    # Plant a strongly fatigued creative: the sandbox's own decay is mild over 8 weeks.
    planted = Ad.objects.filter(campaign_id__in=list(truth)).order_by("pk").first()
    assert planted is not None
    rows = list(DailyMetric.objects.filter(ad=planted).order_by("date"))
    first = rows[0].date
    for row in rows:
        age = (row.date - first).days
        row.clicks = int(row.clicks * (0.4 + 0.6 * math.exp(-0.05 * age)))
    DailyMetric.objects.bulk_update(rows, ["clicks"])
    snapshot = load_snapshot(organization, as_of=AS_OF)

    flagged = set(creative_specialist_offline(snapshot).extra["fatigued_ad_ids"])

    assert planted.pk in flagged
    fresh = 0
    for ad in Ad.objects.filter(pk__in=list(snapshot.ad_series)).exclude(pk=planted.pk):
        ad_truth = next(a for a in truth[ad.campaign_id].ads if a.external_id == ad.external_id)
        series = snapshot.ad_series[ad.pk]
        active = [d for d, imp in zip(series.days, series.impressions, strict=True) if imp]
        if len(active) < 28:
            continue
        true_decline = 1 - ad_truth.fatigue(active[-1]) / ad_truth.fatigue(active[0])
        if true_decline < 0.1:
            fresh += 1
            assert ad.pk not in flagged, (ad.pk, true_decline)
    assert fresh >= 1


@pytest.mark.parametrize("platform", sorted(PLATFORM_TEXT_LIMITS))
def test_every_copy_variant_fits_the_platforms_limits(
    sandbox_org: tuple[AccountSnapshot, dict[int, CampaignTruth]], platform: str
) -> None:
    snapshot, _ = sandbox_org
    report = creative_specialist_offline(snapshot, platform=platform)
    variants = report.extra["variants"]
    assert len(variants) >= 3
    for variant in variants:
        assert violations(platform, variant["fields"]) == []
        assert all(text.strip() for text in variant["fields"].values())
    # Grounded in the account's own best performers.
    assert report.extra["grounded_in"]
    assert not math.isnan(report.confidence)
