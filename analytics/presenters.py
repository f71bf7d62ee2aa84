"""Metric values as people and machines read them: money to the currency's minor unit,
ratios rounded, "no value" kept as None. Shared by the API, the dashboard and exports."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from analytics.metrics import (
    ALL_METRICS,
    MONEY_METRICS,
    TIME_DIMENSIONS,
    Change,
    Metrics,
    money_quantum,
)
from analytics.selectors.metrics import MetricReport, MetricRow, MetricTotals

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}
RATIO_PLACES = {"ctr": 6, "cvr": 6, "roas": 4}


def quantize_money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(money_quantum(currency), rounding=ROUND_HALF_UP)


def metric_json(metric: str, value: int | Decimal | None, currency: str) -> Any:
    """Money as a decimal string in minor units, counts as integers, ratios as numbers."""
    if value is None:
        return None
    if metric in MONEY_METRICS:
        return str(quantize_money(Decimal(value), currency))
    if metric == "conversions":
        return float(Decimal(value).quantize(Decimal("0.0001")))
    if metric in RATIO_PLACES:
        return round(float(value), RATIO_PLACES[metric])
    return int(value)


def metrics_json(metrics: Metrics, currency: str) -> dict[str, Any]:
    return {name: metric_json(name, metrics.value(name), currency) for name in ALL_METRICS}


def change_json(change: Change, metric: str, currency: str) -> dict[str, Any]:
    absolute = change.absolute
    return {
        "absolute": metric_json(metric, absolute, currency) if absolute is not None else None,
        "percent": round(float(change.percent), 2) if change.percent is not None else None,
    }


def _dimension_value(dimension: str, value: Any) -> Any:
    if dimension in TIME_DIMENSIONS and isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def row_json(report: MetricReport, row: MetricRow) -> dict[str, Any]:
    currency = report.currency
    data: dict[str, Any] = {
        "dimensions": {
            dimension.value: {"value": _dimension_value(dimension, value), "label": label}
            for dimension, value, label in zip(report.group_by, row.key, row.labels, strict=True)
        },
        "metrics": metrics_json(row.metrics, currency),
    }
    if report.previous_period is not None:
        data["previous"] = metrics_json(row.previous, currency) if row.previous else None
        data["change"] = {
            name: change_json(row.change(name), name, currency) for name in ALL_METRICS
        }
    return data


def report_json(report: MetricReport) -> dict[str, Any]:
    previous = report.previous_period
    return {
        "currency": report.currency,
        "start": report.period.start.isoformat(),
        "end": report.period.end.isoformat(),
        "previous_start": previous.start.isoformat() if previous else None,
        "previous_end": previous.end.isoformat() if previous else None,
        "group_by": [d.value for d in report.group_by],
        "source": report.source.value,
        "rows": [row_json(report, row) for row in report.rows],
        "has_more": report.has_more,
        "warnings": report.warnings,
    }


def totals_json(totals: MetricTotals) -> dict[str, Any]:
    previous = totals.previous_period
    return {
        "currency": totals.currency,
        "start": totals.period.start.isoformat(),
        "end": totals.period.end.isoformat(),
        "previous_start": previous.start.isoformat() if previous else None,
        "previous_end": previous.end.isoformat() if previous else None,
        "metrics": metrics_json(totals.current, totals.currency),
        "previous": metrics_json(totals.previous, totals.currency) if totals.previous else None,
        "change": {
            name: change_json(totals.change(name), name, totals.currency) for name in ALL_METRICS
        }
        if totals.previous
        else None,
        "warnings": totals.warnings,
    }


def format_metric(metric: str, value: int | Decimal | None, currency: str) -> str:
    """For people: "$1,234.50", "2.41%", "3.20×", "—" for no value."""
    if value is None:
        return "—"
    if metric in MONEY_METRICS:
        amount = quantize_money(Decimal(value), currency)
        symbol = CURRENCY_SYMBOLS.get(currency)
        return f"{symbol}{amount:,}" if symbol else f"{amount:,} {currency}"
    if metric in {"ctr", "cvr"}:
        return f"{Decimal(value) * 100:.2f}%"
    if metric == "roas":
        return f"{Decimal(value):.2f}×"
    if metric == "conversions":
        number = Decimal(value)
        return f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,.2f}"
    return f"{int(value):,}"
