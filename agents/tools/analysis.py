"""The agents' statistics: plain functions over series, no database, no LLM.

Every number an agent reports comes from here; the text around it comes from templates
(offline) or a model that may only reword it and lower its confidence.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy import stats as scipy_stats

from agents.tools.data import DailySeries

# Prior on the response curve's exponent: ad spend shows diminishing returns, typically an
# elasticity between 0.5 and 0.9. A campaign whose daily spend barely varies cannot tell
# its own exponent; the prior keeps its fit sensible and the data moves it when it can.
PRIOR_SHAPE = 0.7
PRIOR_SHAPE_SD = 0.1
SHAPE_BOUNDS = (0.2, 0.95)
MIN_FIT_DAYS = 14
RECENT_DAYS = 28


@dataclass(frozen=True)
class CurveFit:
    """conversions a day = scale * spend ** shape, fitted on one campaign's days."""

    scale: float
    shape: float
    shape_se: float
    r_squared: float
    days: int
    quality: str  # good / fair / weak
    method: str

    def conversions(self, spend: float) -> float:
        return 0.0 if spend <= 0 else self.scale * spend**self.shape

    def marginal_cpa(self, spend: float) -> float:
        slope = self.scale * self.shape * max(spend, 1e-9) ** (self.shape - 1)
        return math.inf if slope <= 0 else 1 / slope

    def conversions_range(self, spend: float, reference: float) -> tuple[float, float]:
        """Conversions at `spend` with the exponent at ±1.96 standard errors, the curve
        pinned at `reference` (today's spend, where the data is)."""
        if spend <= 0 or reference <= 0:
            return 0.0, 0.0
        level = self.conversions(reference)
        ratio = spend / reference
        ends = [level * ratio ** (self.shape + k * 1.96 * self.shape_se) for k in (-1, 1)]
        return min(ends), max(ends)

    @property
    def confidence(self) -> float:
        """How far to trust decisions read off the curve: its fit, shrunk for few days."""
        return float(min(0.95, max(0.05, self.r_squared)) * self.days / (self.days + 7))


def fit_response_curve(spend: Sequence[float], conversions: Sequence[float]) -> CurveFit | None:
    """Fit conversions = scale * spend ** shape (diminishing returns when shape < 1).

    Robust nonlinear least squares (soft L1 loss, so a tracking outage or a spend spike
    does not bend the curve), the exponent combined with the prior by precision weighting,
    then the scale refitted on the last 28 days so today's creative state sets the level.
    R² is of the final curve on all fitted days.
    """
    s = np.asarray(spend, dtype=float)
    c = np.asarray(conversions, dtype=float)
    mask = s > 0
    s, c = s[mask], c[mask]
    if len(s) < MIN_FIT_DAYS or c.sum() <= 0:
        return None

    def curve(x: np.ndarray, scale: float, shape: float) -> np.ndarray:
        return scale * np.power(x, shape)

    log_s = np.log(s)

    def jacobian(x: np.ndarray, scale: float, shape: float) -> np.ndarray:
        # Exact derivatives: finite differences cost most of the fit's time at 500 campaigns.
        power = np.power(x, shape)
        return np.column_stack((power, scale * power * log_s))

    start_scale = c.mean() / np.power(s, PRIOR_SHAPE).mean()
    try:
        params, covariance = optimize.curve_fit(
            curve,
            s,
            c,
            p0=(start_scale, PRIOR_SHAPE),
            jac=jacobian,
            bounds=([0.0, SHAPE_BOUNDS[0]], [np.inf, SHAPE_BOUNDS[1]]),
            loss="soft_l1",
            f_scale=max(1.0, float(np.sqrt(c.mean()))),
            max_nfev=2000,
        )
        shape_hat = float(params[1])
        shape_se = float(np.sqrt(covariance[1, 1])) if np.isfinite(covariance[1, 1]) else np.inf
    except (RuntimeError, ValueError):
        shape_hat, shape_se = PRIOR_SHAPE, np.inf
    if not np.isfinite(shape_se) or shape_se <= 0:
        shape = PRIOR_SHAPE
        posterior_se = PRIOR_SHAPE_SD
    else:
        w_data, w_prior = 1 / shape_se**2, 1 / PRIOR_SHAPE_SD**2
        shape = (shape_hat * w_data + PRIOR_SHAPE * w_prior) / (w_data + w_prior)
        posterior_se = math.sqrt(1 / (w_data + w_prior))
    shape = float(min(max(shape, SHAPE_BOUNDS[0]), SHAPE_BOUNDS[1]))
    recent_s, recent_c = s[-RECENT_DAYS:], c[-RECENT_DAYS:]
    # Poisson maximum likelihood of the scale for a fixed exponent.
    scale = float(recent_c.sum() / np.power(recent_s, shape).sum())
    fitted = scale * np.power(s, shape)
    total = float(((c - c.mean()) ** 2).sum())
    r_squared = 0.0 if total == 0 else max(0.0, 1 - float(((c - fitted) ** 2).sum()) / total)
    spread = float(np.std(np.log(s)))
    quality = (
        "good"
        if r_squared >= 0.5 and spread >= 0.15
        else "fair"
        if r_squared >= 0.2 or spread < 0.15
        else "weak"
    )
    return CurveFit(
        scale=scale,
        shape=shape,
        shape_se=posterior_se,
        r_squared=r_squared,
        days=len(s),
        quality=quality,
        method="conversions = a·spend^b, robust least squares (soft L1), exponent shrunk "
        f"towards {PRIOR_SHAPE} (sd {PRIOR_SHAPE_SD}), level from the last {RECENT_DAYS} days",
    )


def delivery_ratio(series: DailySeries, daily_budget: float | None, days: int = 7) -> float:
    """Share of its daily budget a campaign actually spends (recent days with spend)."""
    if not daily_budget:
        return 1.0
    recent = [x for x in series.spend[-days:] if x > 0]
    if not recent:
        return 1.0
    return float(min(1.5, max(0.2, float(np.median(recent)) / daily_budget)))


@dataclass(frozen=True)
class RateTest:
    value: str
    rate: float
    rest_rate: float
    lift: float
    p_value: float
    successes: float
    trials: float


def compare_segments(rows: dict[str, list[float]], *, min_trials: float = 100.0) -> list[RateTest]:
    """Each segment's conversion rate (conversions / clicks) against the rest of its
    dimension: two-sided two-proportion z-test. `rows` maps value -> [clicks, conversions,
    ...]. Segments with fewer than `min_trials` clicks are left out."""
    total_trials = sum(r[0] for r in rows.values())
    total_successes = sum(r[1] for r in rows.values())
    results = []
    for value, row in rows.items():
        trials, successes = row[0], min(row[1], row[0])
        rest_trials, rest_successes = total_trials - trials, total_successes - successes
        if trials < min_trials or rest_trials < min_trials:
            continue
        p1, p2 = successes / trials, rest_successes / rest_trials
        pooled = (successes + rest_successes) / (trials + rest_trials)
        se = math.sqrt(max(pooled * (1 - pooled) * (1 / trials + 1 / rest_trials), 1e-18))
        z = (p1 - p2) / se
        # norm.sf(|z|) is ndtr(-|z|); the ufunc skips scipy.stats' per-call argument
        # handling (~100 µs, thousands of segments in a large account's review).
        p_value = float(2 * special.ndtr(-abs(z)))
        results.append(
            RateTest(
                value=value,
                rate=p1,
                rest_rate=p2,
                lift=p1 / p2 if p2 > 0 else math.inf,
                p_value=p_value,
                successes=successes,
                trials=trials,
            )
        )
    return results


@dataclass(frozen=True)
class FatigueTest:
    ctr_start: float
    ctr_end: float
    decline: float  # share of the starting CTR lost, fitted
    p_value: float
    days: int
    age_days: int


def creative_fatigue(series: DailySeries, *, min_impressions: float = 200.0) -> FatigueTest | None:
    """CTR against the creative's age (days since its first delivery in the window).

    Weighted least squares of log CTR on age (weights: impressions), the decline read off
    the fitted line between the first and the last day; p is the slope's one-sided p-value.
    """
    points = [
        (i, clicks / impressions, impressions)
        for i, (clicks, impressions) in enumerate(
            zip(series.clicks, series.impressions, strict=True)
        )
        if impressions >= min_impressions and clicks > 0
    ]
    if len(points) < 14:
        return None
    first = points[0][0]
    age = np.array([p[0] - first for p in points], dtype=float)
    log_ctr = np.log([p[1] for p in points])
    weights = np.array([p[2] for p in points], dtype=float)
    w = weights / weights.sum()
    age_mean = float((w * age).sum())
    y_mean = float((w * log_ctr).sum())
    sxx = float((w * (age - age_mean) ** 2).sum())
    if sxx <= 0:
        return None
    slope = float((w * (age - age_mean) * (log_ctr - y_mean)).sum() / sxx)
    intercept = y_mean - slope * age_mean
    residuals = log_ctr - (intercept + slope * age)
    n = len(points)
    sigma2 = float((w * residuals**2).sum()) * n / max(n - 2, 1)
    se = math.sqrt(max(sigma2 / (sxx * n), 1e-18))
    t = slope / se
    p_value = float(special.stdtr(n - 2, t))  # t.cdf(t, df=n - 2), without the overhead
    span = float(age[-1])
    start, end = math.exp(intercept), math.exp(intercept + slope * span)
    return FatigueTest(
        ctr_start=start,
        ctr_end=end,
        decline=1 - end / start,
        p_value=p_value,
        days=n,
        age_days=int(span),
    )


@dataclass(frozen=True)
class Pacing:
    month_to_date: float
    projected: float
    budget: float
    days_left: int

    @property
    def ratio(self) -> float | None:
        return self.projected / self.budget if self.budget else None


def month_pacing(
    series: DailySeries, daily_budget: float | None, as_of: dt.date, *, active: bool = True
) -> Pacing:
    """Month-end spend: month to date plus the last 7 days' average for the days left."""
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    days_left = days_in_month - as_of.day
    mtd = sum(
        spend
        for day, spend in zip(series.days, series.spend, strict=True)
        if day.year == as_of.year and day.month == as_of.month and day <= as_of
    )
    recent = series.spend[-7:]
    run_rate = sum(recent) / len(recent) if recent and active else 0.0
    return Pacing(
        month_to_date=mtd,
        projected=mtd + run_rate * days_left,
        budget=(daily_budget or 0.0) * days_in_month if active else mtd,
        days_left=days_left,
    )


def poisson_shortfall_p(observed: float, expected: float) -> float:
    """P(at most `observed` conversions | Poisson(expected)): how surprising a drought is."""
    if expected <= 0:
        return 1.0
    return float(scipy_stats.poisson.cdf(math.floor(observed), expected))
