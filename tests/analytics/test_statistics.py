"""The statistics behind insights, on simulated series whose truth we know."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.statistics import (
    compare_daily_ratios,
    compare_rates,
    detect_anomalies,
    detect_trend_break,
    forecast_series,
)

# Monday first: a real account's weekend dip, deep enough that a naive z-score would
# call every Saturday an anomaly.
WEEKLY = np.array([1.05, 1.08, 1.06, 1.02, 0.97, 0.72, 0.70])


def seasonal_series(rng: np.random.Generator, days: int, level: float, noise: float) -> np.ndarray:
    t = np.arange(days)
    drift = 1 + rng.uniform(-0.003, 0.003) * t
    return level * drift * WEEKLY[t % 7] * rng.lognormal(0, noise, days)


def anomaly_fixtures(seed: int = 7) -> list[tuple[np.ndarray, set[int]]]:
    """40 series of 84 days: half plain seasonality, half with 1-3 injected anomalies
    of 40-150% (spikes and drops), including on the last day, where alerts matter most."""
    rng = np.random.default_rng(seed)
    fixtures: list[tuple[np.ndarray, set[int]]] = []
    for number in range(40):
        series = seasonal_series(rng, 84, rng.uniform(50, 5000), rng.uniform(0.03, 0.08))
        injected: set[int] = set()
        if number % 2:
            count = int(rng.integers(1, 4))
            days = set(rng.choice(np.arange(14, 84), size=count, replace=False).tolist())
            if number % 5 == 1:
                days.add(83)
            for day in days:
                factor = rng.choice([rng.uniform(1.4, 2.5), rng.uniform(0.15, 0.6)])
                series[day] *= factor
            injected = days
        fixtures.append((series, injected))
    return fixtures


def test_anomaly_detection_finds_injected_anomalies_and_ignores_weekly_seasonality() -> None:
    # Given series with known anomalies and series with only a weekly rhythm
    true_positives = false_positives = false_negatives = 0
    for series, injected in anomaly_fixtures():
        # When each is scanned
        scan = detect_anomalies(series.tolist())
        assert scan is not None
        flagged = {point.index for point in scan.points}
        # Then flagged days are compared with the injected ones
        true_positives += len(flagged & injected)
        false_positives += len(flagged - injected)
        false_negatives += len(injected - flagged)
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    print(
        f"\nanomaly detection: precision {precision:.3f}, recall {recall:.3f} "
        f"(tp={true_positives}, fp={false_positives}, fn={false_negatives})"
    )
    assert precision >= 0.8
    assert recall >= 0.8


def test_a_normal_weekend_dip_is_not_an_anomaly() -> None:
    rng = np.random.default_rng(3)
    series = seasonal_series(rng, 70, 1000, 0.02)

    scan = detect_anomalies(series.tolist())

    assert scan is not None
    assert scan.points == []


def test_anomaly_confidence_comes_from_the_score() -> None:
    rng = np.random.default_rng(5)
    series = seasonal_series(rng, 56, 1000, 0.04)
    series[-1] *= 3

    scan = detect_anomalies(series.tolist())

    assert scan is not None
    last = [p for p in scan.points if p.index == 55]
    assert len(last) == 1
    assert last[0].score > 4
    assert 0.999 < last[0].confidence <= 1


def test_too_short_a_series_gives_no_scan() -> None:
    assert detect_anomalies([1.0] * 10) is None


def test_missing_days_are_interpolated_and_never_flagged() -> None:
    rng = np.random.default_rng(11)
    values: list[float | None] = seasonal_series(rng, 56, 500, 0.03).tolist()
    values[20] = None

    scan = detect_anomalies(values)

    assert scan is not None
    assert 20 not in {p.index for p in scan.points}


def test_a_level_drop_in_the_last_two_weeks_is_a_significant_trend_break() -> None:
    rng = np.random.default_rng(21)
    series = seasonal_series(rng, 56, 1000, 0.04)
    series[-14:] *= 0.7

    result = detect_trend_break(series.tolist(), window=14)

    assert result is not None
    assert result.relative_change == pytest.approx(-0.3, abs=0.08)
    assert result.confidence > 0.99


def test_a_flat_seasonal_series_has_no_trend_break() -> None:
    rng = np.random.default_rng(22)
    series = 1000 * WEEKLY[np.arange(56) % 7] * rng.lognormal(0, 0.04, 56)

    assert detect_trend_break(series.tolist(), window=14) is None


def test_forecast_intervals_contain_the_truth_at_about_their_nominal_rate() -> None:
    # Given simulated series from a local-level process with weekly seasonality
    rng = np.random.default_rng(42)
    inside = total = 0
    for _ in range(30):
        days, horizon = 84, 14
        level = rng.uniform(200, 2000)
        walk = level + np.cumsum(rng.normal(0, level * 0.01, days + horizon))
        season = WEEKLY[np.arange(days + horizon) % 7] * level - level
        truth = walk + season + rng.normal(0, level * 0.05, days + horizon)
        # When the first 84 days forecast the next 14 with 80% intervals
        forecast = forecast_series(
            truth[:days].tolist(), horizon=horizon, level=0.8, simulations=400
        )
        assert forecast is not None
        lower, upper = np.array(forecast.lower), np.array(forecast.upper)
        actual = truth[days:]
        inside += int(((actual >= lower) & (actual <= upper)).sum())
        total += horizon
    coverage = inside / total
    print(f"\nforecast 80% interval coverage: {coverage:.3f} over {total} forecast days")
    # Then about 80% of the true values fall inside
    assert 0.7 <= coverage <= 0.9


def test_forecast_of_a_short_series_is_none() -> None:
    assert forecast_series([1.0] * 14, horizon=7) is None


def test_forecast_total_interval_brackets_the_sum_of_daily_means() -> None:
    rng = np.random.default_rng(1)
    series = seasonal_series(rng, 63, 300, 0.05)

    forecast = forecast_series(series.tolist(), horizon=30)

    assert forecast is not None
    assert forecast.total_lower < forecast.total_mean < forecast.total_upper
    assert len(forecast.mean) == 30
    assert all(value >= 0 for value in forecast.lower)


def test_daily_ratio_comparison_detects_a_clearly_better_campaign() -> None:
    rng = np.random.default_rng(2)
    better = rng.normal(4.0, 0.4, 28).tolist()
    baseline = rng.normal(2.5, 0.4, 28).tolist()

    result = compare_daily_ratios(better, baseline)

    assert result is not None
    assert result.confidence > 0.999


def test_rate_comparison_needs_evidence_not_just_a_higher_rate() -> None:
    small = compare_rates(3, 20, 100, 1000)  # 15% vs 10% on 20 clicks
    large = compare_rates(300, 2000, 1000, 10000)  # the same rates on 100x the clicks

    assert small is not None
    assert large is not None
    assert small.confidence < 0.9
    assert large.confidence > 0.99
