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
from scipy import special
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


METHOD = (
    "conversions = a·spend^b, robust least squares (soft L1), exponent shrunk "
    f"towards {PRIOR_SHAPE} (sd {PRIOR_SHAPE_SD}), level from the last {RECENT_DAYS} days"
)
# Gauss-Newton iterations of the robust fit; 2 parameters from a sensible start converge in
# well under 10, the cap only bounds a pathological series.
MAX_ITERATIONS = 60
_STEP_FACTORS = np.array([1.0, 0.5, 0.25, 0.125, 1 / 16, 1 / 64, 1 / 256])


def fit_response_curve(spend: Sequence[float], conversions: Sequence[float]) -> CurveFit | None:
    """Fit conversions = scale * spend ** shape to one series (see `fit_response_curves`)."""
    return fit_response_curves(
        np.asarray([spend], dtype=float), np.asarray([conversions], dtype=float)
    )[0]


def fit_response_curves(spend: np.ndarray, conversions: np.ndarray) -> list[CurveFit | None]:
    """Fit conversions = scale * spend ** shape (diminishing returns when shape < 1) to each
    row of two (series × days) arrays at once; None where a row has too little data.

    Robust nonlinear least squares (soft L1 loss, so a tracking outage or a spend spike
    does not bend the curve) on the days with spend, the exponent combined with the prior
    by precision weighting, then the scale refitted on the last 28 such days so today's
    creative state sets the level. R² is of the final curve on all fitted days.

    All rows are fitted together: damped Gauss-Newton on the robust loss (its exact
    curvature, as scipy's least_squares uses), the exponent kept within SHAPE_BOUNDS, and
    the exponent's standard error from the same curvature at the optimum, scaled by the
    residual robust cost — what `scipy.optimize.curve_fit` reports, for a few array
    operations per iteration instead of one solver call per campaign.
    """
    s_all = np.asarray(spend, dtype=float)
    c_all = np.asarray(conversions, dtype=float)
    if s_all.ndim != 2 or s_all.shape != c_all.shape:
        raise ValueError("spend and conversions must be arrays of the same (series, days) shape")
    valid_all = s_all > 0
    days_all = valid_all.sum(axis=1)
    c_sum_all = np.where(valid_all, c_all, 0.0).sum(axis=1)
    eligible = (days_all >= MIN_FIT_DAYS) & (c_sum_all > 0)
    results: list[CurveFit | None] = [None] * len(s_all)
    if not eligible.any():
        return results

    valid = valid_all[eligible]
    w = valid.astype(float)
    x = np.where(valid, s_all[eligible], 1.0)  # log(1) = 0 and weight 0 off the fitted days
    y = np.where(valid, c_all[eligible], 0.0)
    n = w.sum(axis=1)
    log_x = np.log(x)
    c_mean = y.sum(axis=1) / n
    f_scale2 = np.maximum(1.0, c_mean)  # f_scale = max(1, sqrt(mean conversions)), squared

    # The start scipy's fit used: the prior exponent, the level matching mean conversions.
    a = c_mean * n / (np.exp(PRIOR_SHAPE * log_x) * w).sum(1)
    b = np.full(len(a), PRIOR_SHAPE)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a, b, cost = _robust_power_fit(log_x, y, w, f_scale2, a, b)
        _, _, h_aa, h_ab, h_bb = _normal_equations(log_x, y, w, f_scale2, a, b)
        det = h_aa * h_bb - h_ab**2
        # Var(b) = (H⁻¹)_bb × Σρ / (n − 2); a singular H means the data cannot tell b.
        identifiable = det > (np.finfo(float).eps * x.shape[1]) ** 2 * (h_aa + h_bb) ** 2
        variance = np.where(identifiable, h_aa / det * cost / (n - 2), np.inf)
        shape_se = np.sqrt(variance)
    low, high = SHAPE_BOUNDS

    fitted_by_data = np.isfinite(shape_se) & (shape_se > 0) & np.isfinite(a) & np.isfinite(b)
    w_data = np.where(fitted_by_data, 1 / np.where(fitted_by_data, shape_se, 1.0) ** 2, 0.0)
    w_prior = 1 / PRIOR_SHAPE_SD**2
    shape = np.where(
        fitted_by_data, (b * w_data + PRIOR_SHAPE * w_prior) / (w_data + w_prior), PRIOR_SHAPE
    )
    posterior_se = np.sqrt(1 / (w_data + w_prior))
    shape = np.clip(shape, low, high)
    # The last RECENT_DAYS fitted days (days with spend), counted from the end.
    from_end = np.cumsum(valid[:, ::-1], axis=1)[:, ::-1]
    recent = valid & (from_end <= RECENT_DAYS)
    power = np.exp(shape[:, None] * log_x)
    # Poisson maximum likelihood of the scale for a fixed exponent.
    scale = (y * recent).sum(1) / (power * recent).sum(1)
    fitted = scale[:, None] * power
    total = (w * (y - c_mean[:, None]) ** 2).sum(1)
    residual = (w * (y - fitted) ** 2).sum(1)
    r_squared = np.where(
        total == 0, 0.0, np.maximum(0.0, 1 - residual / np.where(total == 0, 1.0, total))
    )
    log_mean = (w * log_x).sum(1) / n
    spread = np.sqrt((w * (log_x - log_mean[:, None]) ** 2).sum(1) / n)
    for row, index in enumerate(np.flatnonzero(eligible)):
        r2, sp = float(r_squared[row]), float(spread[row])
        quality = (
            "good" if r2 >= 0.5 and sp >= 0.15 else "fair" if r2 >= 0.2 or sp < 0.15 else "weak"
        )
        results[index] = CurveFit(
            scale=float(scale[row]),
            shape=float(shape[row]),
            shape_se=float(posterior_se[row]),
            r_squared=r2,
            days=int(n[row]),
            quality=quality,
            method=METHOD,
        )
    return results


def _robust_cost(
    log_x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    f_scale2: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
) -> np.ndarray:
    """Σ ρ(r) per row, ρ(r) = 2C²(√(1 + r²/C²) − 1) (soft L1); `a`, `b` are (…, rows)."""
    r = a[..., None] * np.exp(b[..., None] * log_x) - y
    return (w * 2 * f_scale2[:, None] * (np.sqrt(1 + r**2 / f_scale2[:, None]) - 1)).sum(-1)


def _normal_equations(
    log_x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    f_scale2: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    *,
    newton: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradient (g_a, g_b) of half the robust cost and its Gauss-Newton curvature H, with
    the loss's exact second derivative ρ' + 2ρ''r² = (1 + r²/C²)^-1.5 (as least_squares).
    `newton` adds the curve's own second derivatives (the full Hessian: quadratic
    convergence near the optimum, where it is positive definite)."""
    power = np.exp(b[:, None] * log_x)
    r = a[:, None] * power - y
    z = 1 + r**2 / f_scale2[:, None]
    first = w / np.sqrt(z)
    curvature = first / z
    j_a, j_b = power, a[:, None] * power * log_x
    weighted = first * r
    g_a, g_b = (weighted * j_a).sum(1), (weighted * j_b).sum(1)
    h_aa = (curvature * j_a * j_a).sum(1)
    h_ab = (curvature * j_a * j_b).sum(1)
    h_bb = (curvature * j_b * j_b).sum(1)
    if newton:  # ∂²f/∂a∂b = x^b·ln x, ∂²f/∂b² = a·x^b·ln²x, ∂²f/∂a² = 0
        h_ab = h_ab + (weighted * power * log_x).sum(1)
        h_bb = h_bb + (weighted * j_b * log_x).sum(1)
    return g_a, g_b, h_aa, h_ab, h_bb


def _robust_power_fit(
    log_x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    f_scale2: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise each row's robust cost over (a ≥ 0, b in SHAPE_BOUNDS) from (a, b):
    damped Gauss-Newton, iterating only on the rows not yet settled."""
    low, high = SHAPE_BOUNDS
    a, b = a.copy(), b.copy()
    cost = _robust_cost(log_x, y, w, f_scale2, a, b)
    rows = np.arange(len(a))
    for _ in range(MAX_ITERATIONS):
        if not len(rows):
            break
        lx, yy, ww, fs = log_x[rows], y[rows], w[rows], f_scale2[rows]
        ra, rb, rc = a[rows], b[rows], cost[rows]
        g_a, g_b, h_aa, h_ab, h_bb = _normal_equations(lx, yy, ww, fs, ra, rb, newton=True)
        det = h_aa * h_bb - h_ab**2
        if not ((h_aa > 0) & (det > 0)).all():
            # Far from the optimum the full Hessian can be indefinite: Gauss-Newton there.
            _, _, gn_aa, gn_ab, gn_bb = _normal_equations(lx, yy, ww, fs, ra, rb)
            indefinite = (h_aa <= 0) | (det <= 0)
            h_ab = np.where(indefinite, gn_ab, h_ab)
            h_bb = np.where(indefinite, gn_bb, h_bb)
            h_aa = np.where(indefinite, gn_aa, h_aa)
            det = h_aa * h_bb - h_ab**2
        step_a = (-h_bb * g_a + h_ab * g_b) / det
        step_b = (h_ab * g_a - h_aa * g_b) / det
        # A step leaving the bounds stops on the bound, with the scale's best move for
        # that exponent (the quadratic model's minimum along the bound).
        target_b = np.clip(rb + step_b, low, high)
        crossing = target_b != rb + step_b
        step_b = np.where(crossing, target_b - rb, step_b)
        step_a = np.where(crossing, -(g_a + h_ab * step_b) / h_aa, step_a)
        finite = np.isfinite(step_a) & np.isfinite(step_b)
        step_a, step_b = np.where(finite, step_a, 0.0), np.where(finite, step_b, 0.0)
        # The full step where it lowers the cost, else the longest shorter one that does.
        new_a = np.maximum(ra + step_a, 1e-12)
        new_b = np.clip(rb + step_b, low, high)
        new_cost = _robust_cost(lx, yy, ww, fs, new_a, new_b)
        moved = finite & (new_cost < rc)
        retry = np.flatnonzero(finite & ~moved)
        if len(retry):
            t = _STEP_FACTORS[1:, None]
            trial_a = np.maximum(ra[retry] + t * step_a[retry], 1e-12)
            trial_b = np.clip(rb[retry] + t * step_b[retry], low, high)
            trial_cost = _robust_cost(lx[retry], yy[retry], ww[retry], fs[retry], trial_a, trial_b)
            better = trial_cost < rc[retry]
            chosen, pick = np.argmax(better, axis=0), np.arange(len(retry))
            found = better.any(axis=0)
            new_a[retry] = np.where(found, trial_a[chosen, pick], ra[retry])
            new_b[retry] = np.where(found, trial_b[chosen, pick], rb[retry])
            new_cost[retry] = np.where(found, trial_cost[chosen, pick], rc[retry])
            moved[retry] = found
        new_a = np.where(moved, new_a, ra)
        new_b = np.where(moved, new_b, rb)
        new_cost = np.where(moved, new_cost, rc)
        # least_squares' default tolerances: the cost or the parameters settle to 1e-8.
        settled = (rc - new_cost <= 1e-8 * rc) | (
            (np.abs(new_a - ra) <= 1e-8 * (1e-8 + ra)) & (np.abs(new_b - rb) <= 1e-8 * rb)
        )
        a[rows], b[rows], cost[rows] = new_a, new_b, new_cost
        rows = rows[moved & ~settled]
    return a, b, cost


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
