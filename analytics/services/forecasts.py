"""On-demand forecasts of one metric for an organization (optionally filtered)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from adplatform.models import Organization
from analytics import statistics
from analytics.metrics import MetricFilters, Period
from analytics.selectors.metrics import get_metric_series

FORECAST_METRICS = ("spend", "conversions", "revenue", "clicks", "impressions")


class ForecastUnavailable(ValueError):
    """Not enough history to forecast."""


@dataclass(frozen=True, slots=True)
class MetricForecast:
    metric: str
    currency: str
    history: Period
    dates: list[dt.date]
    forecast: statistics.Forecast


def forecast_metric(
    organization: Organization,
    *,
    metric: str,
    as_of: dt.date,
    horizon: int = 30,
    level: float = 0.8,
    history_days: int = 91,
    filters: MetricFilters | None = None,
) -> MetricForecast:
    """Forecast `metric` for the `horizon` days after `as_of` from the days up to it."""
    if metric not in FORECAST_METRICS:
        raise ValueError(f"Forecasts cover {', '.join(FORECAST_METRICS)}.")
    history = Period(start=as_of - dt.timedelta(days=history_days - 1), end=as_of)
    series = get_metric_series(organization, period=history, filters=filters)
    values = [float(row.metrics.value(metric) or 0) for row in series.rows]
    first = next((i for i, v in enumerate(values) if v), None)
    if first is None:
        raise ForecastUnavailable("There is no data in the history window to forecast from.")
    # Days before the first delivery are "not running yet", not zeros to learn from.
    result = statistics.forecast_series(values[first:], horizon=horizon, level=level)
    if result is None:
        raise ForecastUnavailable("At least 21 days of history are needed for a forecast.")
    return MetricForecast(
        metric=metric,
        currency=series.currency,
        history=Period(start=history.start + dt.timedelta(days=first), end=as_of),
        dates=[as_of + dt.timedelta(days=i + 1) for i in range(horizon)],
        forecast=result,
    )
