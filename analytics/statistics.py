"""The statistics behind insights: anomalies, trend breaks, forecasts. Plain arrays in,
typed results out; no database, so each method is tested on simulated series.

Daily ad metrics have a strong weekly rhythm (weekends differ from weekdays), so every
method here removes or models a 7-day season before judging a day.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats as scipy_stats

PERIOD = 7
# 1.4826 * MAD estimates the standard deviation of normal noise, robust to the outliers
# we are looking for.
MAD_SCALE = 1.4826
ANOMALY_THRESHOLD = 4.0


@dataclass(frozen=True, slots=True)
class AnomalyPoint:
    index: int
    value: float
    expected: float
    score: float  # robust z-score of the day's deviation
    confidence: float  # 1 - two-sided p-value of the score under normal noise


@dataclass(frozen=True, slots=True)
class AnomalyScan:
    expected: list[float]
    scale: float
    points: list[AnomalyPoint]
    method: str


ANOMALY_METHOD = (
    "Seasonal decomposition on the log scale: weekday effects as medians of the "
    "de-levelled series; each day compared with the median of its neighbours (3 days "
    "either side, it left out; the last days look back a week); robust z = "
    "(d - median) / (1.4826 * MAD), anomaly when |z| > {threshold}"
)


def _interpolated(values: Sequence[float | None]) -> np.ndarray:
    series = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    missing = np.isnan(series)
    if missing.any() and (~missing).any():
        index = np.arange(len(series))
        series[missing] = np.interp(index[missing], index[~missing], series[~missing])
    return series


# The smallest noise (in log units, ~5%) and the smallest gap from the expected value
# (20%) that can make a day an anomaly.
MIN_NOISE_LOG = 0.05
MIN_RELATIVE_GAP = 0.2


def _relative_gap(value: float, expected: float) -> float:
    return abs(value - expected) / max(abs(expected), 1e-9)


def detect_anomalies(
    values: Sequence[float | None],
    *,
    threshold: float = ANOMALY_THRESHOLD,
    period: int = PERIOD,
    min_points: int = 3 * PERIOD,
) -> AnomalyScan | None:
    """Days that neither the weekly pattern nor the surrounding days explain.

    The day itself is left out of its own expectation, so a spike cannot hide by pulling
    the baseline up; medians and the MAD keep other anomalies from inflating the noise
    estimate. Missing days (None) are interpolated and never flagged. Returns None when
    the series is too short to learn a weekly pattern.
    """
    return detect_anomalies_many(
        [values], threshold=threshold, period=period, min_points=min_points
    )[0]


def detect_anomalies_many(
    many: Sequence[Sequence[float | None]],
    *,
    threshold: float = ANOMALY_THRESHOLD,
    period: int = PERIOD,
    min_points: int = 3 * PERIOD,
) -> list[AnomalyScan | None]:
    """`detect_anomalies` of each series, computed for all series of a length at once.

    An account review scans a thousand series; one numpy pass over the stacked series
    costs about what a single series did through pandas.
    """
    scans: list[AnomalyScan | None] = [None] * len(many)
    by_length: dict[int, list[int]] = {}
    for position, values in enumerate(many):
        by_length.setdefault(len(values), []).append(position)
    for n, positions in by_length.items():
        if n < 2 * period + 1:
            continue
        raw = np.array([many[p] for p in positions], dtype=float)  # None -> nan
        observed = ~np.isnan(raw)
        keep = observed.sum(axis=1) >= min_points
        if not keep.any():
            continue
        positions = [p for p, k in zip(positions, keep, strict=True) if k]
        for row, scan in zip(
            positions, _scan_stacked(raw[keep], observed[keep], threshold, period), strict=True
        ):
            scans[row] = scan
    return scans


def _rolling_median(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Row-wise centred rolling median with pandas' edges (shorter windows, NaN below
    `min_periods` values). The rows hold no NaN here (missing days are interpolated)."""
    m, n = values.shape
    out = np.full((m, n), np.nan)
    before, after = window // 2, (window - 1) // 2
    if n >= window:
        out[:, before : n - after] = np.median(sliding_window_view(values, window, axis=1), -1)
    for t in [*range(min(before, n)), *range(max(n - after, before), n)]:
        lo, hi = max(0, t - before), min(n, t + after + 1)
        if hi - lo >= min_periods:
            out[:, t] = np.median(values[:, lo:hi], axis=1)
    return out


@functools.lru_cache(maxsize=32)
def _neighbour_groups(n: int, period: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """For each day, the days its baseline is the median of (3 either side, itself left
    out; near the end the week before), grouped by how many there are: (days, indices)."""
    half = period // 2
    groups: dict[int, tuple[list[int], list[list[int]]]] = {}
    for t in range(n):
        before = list(range(max(0, t - half), t))
        after = list(range(t + 1, min(n, t + 1 + half)))
        if len(after) < half:
            # Near the end, where alerts matter, the neighbours are the week before.
            before = list(range(max(0, t - period), t))
        neighbours = before + after or [t]  # no neighbours: the day is its own baseline
        days, indices = groups.setdefault(len(neighbours), ([], []))
        days.append(t)
        indices.append(neighbours)
    return tuple((np.array(days), np.array(indices)) for days, indices in groups.values())


def _scan_stacked(
    raw: np.ndarray, observed: np.ndarray, threshold: float, period: int
) -> list[AnomalyScan]:
    m, n = raw.shape
    series = raw.copy()
    for gappy in np.flatnonzero(~observed.all(axis=1)):
        series[gappy] = _interpolated(raw[gappy].tolist())
    # Ad metrics vary multiplicatively (a weekend is -30%, not -300 units); an offset keeps
    # zero days finite without letting them dominate.
    positive = np.where(series > 0, series, np.nan)
    has_positive = (series > 0).any(axis=1)
    offsets = np.ones(m)
    if has_positive.any():
        offsets[has_positive] = 0.05 * np.nanmedian(positive[has_positive], axis=1)
    logged = np.log(np.clip(series, 0, None) + offsets[:, None])
    weekday = np.arange(n) % period
    detrended = logged - _rolling_median(logged, period, period // 2 + 1)
    seasonal = np.empty((m, n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a weekday without values: NaN
        for day in range(period):
            columns = weekday == day
            seasonal[:, columns] = np.nanmedian(detrended[:, columns], axis=1)[:, None]
    adjusted = logged - seasonal
    baseline = np.empty((m, n))
    for days, indices in _neighbour_groups(n, period):
        baseline[:, days] = np.median(adjusted[:, indices], axis=-1)
    deviation = adjusted - baseline
    center = np.median(deviation, axis=1)
    # Budget-capped spend can be almost perfectly regular; without a floor on the noise a
    # 1% wobble scores in the thousands. Below ~5% day-to-day noise nobody acts anyway.
    scales = np.maximum(
        MAD_SCALE * np.median(np.abs(deviation - center[:, None]), axis=1), MIN_NOISE_LOG
    )
    scores = (deviation - center[:, None]) / scales[:, None]
    expected = np.exp(baseline + seasonal) - offsets[:, None]
    method = ANOMALY_METHOD.format(threshold=threshold)
    flagged = (np.abs(scores) > threshold) & observed
    # 1 - two-sided p-value, in one call for every flagged day.
    confidence = np.zeros((m, n))
    confidence[flagged] = 1 - 2 * scipy_stats.norm.sf(np.abs(scores[flagged]))
    scans = []
    for row in range(m):
        points = [
            AnomalyPoint(
                index=int(i),
                value=float(series[row, i]),
                expected=float(expected[row, i]),
                score=float(scores[row, i]),
                confidence=float(confidence[row, i]),
            )
            for i in np.flatnonzero(flagged[row])
            if _relative_gap(series[row, i], expected[row, i]) >= MIN_RELATIVE_GAP
        ]
        scans.append(
            AnomalyScan(
                expected=expected[row].tolist(),
                scale=float(scales[row]),
                points=points,
                method=method,
            )
        )
    return scans


@dataclass(frozen=True, slots=True)
class TrendBreak:
    """A change of level and/or slope at the start of the last `window` days."""

    level_change: float  # jump at the break, in the metric's units
    slope_before: float  # per day
    slope_after: float  # per day
    mean_before: float
    mean_after: float
    relative_change: float  # mean_after / mean_before - 1
    p_value: float  # joint test that level and slope did not change
    confidence: float
    method: str = (
        "Segmented OLS on the seasonally adjusted series (STL, period 7): "
        "y = a + b t + c [t >= T] + d (t - T) [t >= T]; joint Wald test of c = d = 0 "
        "with HAC (Newey-West, 7 lags) standard errors"
    )


def detect_trend_break(
    values: Sequence[float | None],
    *,
    window: int = 14,
    alpha: float = 0.01,
    min_relative_change: float = 0.1,
) -> TrendBreak | None:
    """A significant change of level or slope over the last `window` days, or None."""
    import statsmodels.api as sm
    from statsmodels.tsa.seasonal import STL

    if len(values) < 2 * window or sum(v is not None for v in values) < 2 * window:
        return None
    series = _interpolated(values)
    seasonal = np.asarray(STL(series, period=PERIOD, robust=True).fit().seasonal)
    adjusted = (series - seasonal)[-2 * window :]
    t = np.arange(len(adjusted), dtype=float)
    after = (t >= window).astype(float)
    design = np.column_stack([np.ones_like(t), t, after, (t - window) * after])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.OLS(adjusted, design).fit(cov_type="HAC", cov_kwds={"maxlags": PERIOD})
        test = fit.wald_test(np.array([[0, 0, 1, 0], [0, 0, 0, 1]]), scalar=True)
    p_value = float(test.pvalue)
    mean_before = float(adjusted[:window].mean())
    mean_after = float(adjusted[window:].mean())
    if mean_before <= 0 or not math.isfinite(p_value):
        return None
    relative = mean_after / mean_before - 1
    if p_value >= alpha or abs(relative) < min_relative_change:
        return None
    params = fit.params
    return TrendBreak(
        level_change=float(params[2]),
        slope_before=float(params[1]),
        slope_after=float(params[1] + params[3]),
        mean_before=mean_before,
        mean_after=mean_after,
        relative_change=relative,
        p_value=p_value,
        confidence=1 - p_value,
    )


@dataclass(frozen=True, slots=True)
class Forecast:
    """Daily forecasts with a prediction interval, plus intervals for the horizon's total."""

    mean: list[float]
    lower: list[float]
    upper: list[float]
    level: float  # nominal coverage of the intervals, e.g. 0.8
    total_mean: float
    total_lower: float
    total_upper: float
    model: str
    # Simulated totals over the horizon, for probabilities such as "over budget".
    simulated_totals: list[float]

    def total_through(self, days: int) -> tuple[float, float, float]:
        """Mean and interval of the sum of the first `days` forecast days."""
        if days <= 0:
            return 0.0, 0.0, 0.0
        return (
            float(sum(self.mean[:days])),
            float(sum(self.lower[:days])),
            float(sum(self.upper[:days])),
        )


def _fit_smoothing(series: np.ndarray) -> tuple[Any, str]:
    """Holt-Winters with an additive weekly season, with or without a damped trend (AICc)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    candidates: list[tuple[str, dict[str, Any]]] = [
        ("Holt-Winters (level, additive weekly season)", {"trend": None}),
        (
            "Holt-Winters (damped trend, additive weekly season)",
            {"trend": "add", "damped_trend": True},
        ),
    ]
    best: tuple[float, Any, str] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, options in candidates:
            model = ExponentialSmoothing(
                pd.Series(series),
                seasonal="add",
                seasonal_periods=PERIOD,
                # Heuristic start values (from the first weeks) fit ~10x faster than
                # estimating them, at no visible cost in interval coverage (see tests).
                initialization_method="heuristic",
                **options,
            )
            fit = model.fit()
            score = float(fit.aicc)
            if math.isfinite(score) and (best is None or score < best[0]):
                best = (score, fit, name)
    if best is None:
        raise ValueError("No exponential smoothing model could be fitted.")
    return best[1], best[2]


def forecast_series(
    values: Sequence[float | None],
    *,
    horizon: int,
    level: float = 0.8,
    simulations: int = 1000,
    non_negative: bool = True,
    seed: int = 0,
) -> Forecast | None:
    """Forecast the next `horizon` days with exponential smoothing and a weekly season.

    The model (with or without a damped trend) is chosen by AICc. Intervals come from
    simulated future paths with the fitted model's residual variance: daily intervals
    are quantiles of each day's simulated values, the horizon total's interval the
    quantiles of each path's sum (daily errors are correlated, so the bounds of days do
    not add up). Returns None for series shorter than three weeks.
    """
    if len(values) < 3 * PERIOD or sum(v is not None for v in values) < 3 * PERIOD:
        return None
    series = _interpolated(values)
    try:
        fit, name = _fit_smoothing(series)
    except ValueError:
        return None  # e.g. a constant series: nothing to learn a season or trend from
    alpha = 1 - level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean = np.asarray(fit.forecast(horizon), dtype=float)
        paths = np.asarray(
            fit.simulate(
                horizon,
                repetitions=simulations,
                error="add",
                anchor="end",
                random_state=np.random.RandomState(seed),
            ),
            dtype=float,
        ).reshape(horizon, -1)
    if non_negative:
        # Spend and conversions cannot go below zero; clipping keeps the coverage.
        mean = np.clip(mean, 0, None)
        paths = np.clip(paths, 0, None)
    lower = np.quantile(paths, alpha / 2, axis=1)
    upper = np.quantile(paths, 1 - alpha / 2, axis=1)
    totals = paths.sum(axis=0)
    return Forecast(
        mean=[float(x) for x in mean],
        lower=[float(x) for x in lower],
        upper=[float(x) for x in upper],
        level=level,
        total_mean=float(mean.sum()),
        total_lower=float(np.quantile(totals, alpha / 2)),
        total_upper=float(np.quantile(totals, 1 - alpha / 2)),
        model=name,
        simulated_totals=[float(x) for x in totals],
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    p_value: float
    confidence: float
    statistic: float
    method: str


def compare_daily_ratios(
    better: Sequence[float], baseline: Sequence[float], *, alternative: str = "greater"
) -> Comparison | None:
    """Welch's t-test that daily values of `better` exceed (or fall below) `baseline`."""
    a = np.array([x for x in better if x is not None and math.isfinite(x)], dtype=float)
    b = np.array([x for x in baseline if x is not None and math.isfinite(x)], dtype=float)
    if len(a) < 7 or len(b) < 7:
        return None
    result = scipy_stats.ttest_ind(a, b, equal_var=False, alternative=alternative)
    p_value = float(result.pvalue)
    if not math.isfinite(p_value):
        return None
    return Comparison(
        p_value=p_value,
        confidence=1 - p_value,
        statistic=float(result.statistic),
        method=f"Welch's t-test on daily values, one-sided ({alternative})",
    )


def compare_rates(
    successes: float, trials: float, base_successes: float, base_trials: float
) -> Comparison | None:
    """Two-proportion z-test that successes/trials is above base_successes/base_trials."""
    from statsmodels.stats.proportion import proportions_ztest

    if trials < 1 or base_trials < 1:
        return None
    statistic, p_value = proportions_ztest(
        [round(successes), round(base_successes)],
        [round(trials), round(base_trials)],
        alternative="larger",
    )
    if not math.isfinite(float(p_value)):
        return None
    return Comparison(
        p_value=float(p_value),
        confidence=1 - float(p_value),
        statistic=float(statistic),
        method="Two-proportion z-test of conversion rate (conversions / clicks), one-sided",
    )
