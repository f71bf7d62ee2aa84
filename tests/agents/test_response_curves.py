"""The batched response-curve fit gives what one robust scipy fit per campaign gives."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from agents.tools.analysis import (
    MIN_FIT_DAYS,
    PRIOR_SHAPE,
    PRIOR_SHAPE_SD,
    RECENT_DAYS,
    SHAPE_BOUNDS,
    CurveFit,
    fit_response_curve,
    fit_response_curves,
)

DAYS = 56


def _scipy_reference(spend: np.ndarray, conversions: np.ndarray) -> CurveFit | None:
    """The fit as one `curve_fit` call per series (soft L1, bounded exponent), then the
    same prior shrinkage, recent-level refit, R² and quality."""
    mask = spend > 0
    s, c = spend[mask], conversions[mask]
    if len(s) < MIN_FIT_DAYS or c.sum() <= 0:
        return None
    params, covariance = optimize.curve_fit(
        lambda x, a, b: a * np.power(x, b),
        s,
        c,
        p0=(c.mean() / np.power(s, PRIOR_SHAPE).mean(), PRIOR_SHAPE),
        bounds=([0.0, SHAPE_BOUNDS[0]], [np.inf, SHAPE_BOUNDS[1]]),
        loss="soft_l1",
        f_scale=max(1.0, float(np.sqrt(c.mean()))),
        max_nfev=2000,
    )
    shape_se = float(np.sqrt(covariance[1, 1]))
    w_data, w_prior = 1 / shape_se**2, 1 / PRIOR_SHAPE_SD**2
    shape = (params[1] * w_data + PRIOR_SHAPE * w_prior) / (w_data + w_prior)
    shape = float(min(max(shape, SHAPE_BOUNDS[0]), SHAPE_BOUNDS[1]))
    scale = float(c[-RECENT_DAYS:].sum() / np.power(s[-RECENT_DAYS:], shape).sum())
    fitted = scale * np.power(s, shape)
    r_squared = max(0.0, 1 - float(((c - fitted) ** 2).sum() / ((c - c.mean()) ** 2).sum()))
    spread = float(np.std(np.log(s)))
    quality = (
        "good" if r_squared >= 0.5 and spread >= 0.15
        else "fair" if r_squared >= 0.2 or spread < 0.15
        else "weak"
    )  # fmt: skip
    return CurveFit(
        scale=scale,
        shape=shape,
        shape_se=math.sqrt(1 / (w_data + w_prior)),
        r_squared=r_squared,
        days=len(s),
        quality=quality,
        method="",
    )


def _campaigns() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    for budget, level, shape in [
        (50, 0.3, 0.7), (120, 0.2, 0.55), (300, 0.1, 0.85), (80, 0.5, 0.6), (200, 0.05, 1.2),
        (30, 0.4, 0.4), (150, 0.15, 0.75), (400, 0.08, 0.9),
    ]:  # fmt: skip
        s = budget * rng.uniform(0.4, 1.1, DAYS)
        rows.append((s, level * s**shape * rng.uniform(0.7, 1.3, DAYS)))
    spend = np.array([s for s, _ in rows])
    conversions = np.array([c for _, c in rows])
    # Outages: a campaign whose tracking lost conversions on five days, and a campaign that
    # did not deliver for three weeks (days without spend are not fitted).
    conversions[3, [5, 17, 30, 41, 50]] = 0.0
    spend[6, 10:31] = 0.0
    return spend, conversions


def test_the_batched_fit_matches_one_robust_scipy_fit_per_campaign() -> None:
    # Given campaigns with different curves, one with tracking outages, one with a pause,
    # and one whose exponent lies above the allowed range (the fit stops on the bound)
    spend, conversions = _campaigns()

    # When all are fitted in one batch
    fits = fit_response_curves(spend, conversions)

    # Then each fit is scipy's, to its tolerances
    assert len(fits) == len(spend)
    for row, fit in enumerate(fits):
        expected = _scipy_reference(spend[row], conversions[row])
        assert fit is not None and expected is not None
        assert fit.shape == pytest.approx(expected.shape, rel=1e-4), row
        assert fit.scale == pytest.approx(expected.scale, rel=1e-4), row
        assert fit.shape_se == pytest.approx(expected.shape_se, rel=1e-4), row
        assert fit.r_squared == pytest.approx(expected.r_squared, rel=1e-4, abs=1e-6), row
        assert (fit.days, fit.quality) == (expected.days, expected.quality), row
    assert fits[6] is not None and fits[6].days == DAYS - 21
    assert fits[4] is not None and fits[4].shape > 0.8  # the data pulls it off the prior


def test_a_campaign_is_fitted_alike_alone_or_in_a_batch() -> None:
    spend, conversions = _campaigns()

    together = fit_response_curves(spend, conversions)
    alone = [fit_response_curve(s, c) for s, c in zip(spend, conversions, strict=True)]

    for one, other in zip(together, alone, strict=True):
        assert one is not None and other is not None
        assert one.shape == pytest.approx(other.shape, rel=1e-9)
        assert one.scale == pytest.approx(other.scale, rel=1e-9)


def test_series_without_enough_data_get_no_curve_and_constant_spend_keeps_the_prior() -> None:
    rng = np.random.default_rng(3)
    spend = np.full((4, DAYS), 100.0)
    conversions = 0.2 * spend**0.7 * rng.uniform(0.8, 1.2, (4, DAYS))
    spend[0, : DAYS - MIN_FIT_DAYS + 1] = 0.0  # one day short of the minimum
    conversions[1] = 0.0  # no conversion at all
    spend[2] = 0.0  # never delivered

    fits = fit_response_curves(spend, conversions)

    assert fits[:3] == [None, None, None]
    constant = fits[3]
    # The same spend every day cannot tell the exponent: the prior stands, unshrunk.
    assert constant is not None
    assert constant.shape == pytest.approx(PRIOR_SHAPE)
    assert constant.shape_se == pytest.approx(PRIOR_SHAPE_SD)
    assert constant.quality == "fair"
