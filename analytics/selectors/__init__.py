"""Reads of analytics data, organization first. The metrics layer lives in `metrics`."""

from __future__ import annotations

from analytics.selectors.metrics import (
    InvalidMetricQuery,
    MetricReport,
    MetricRow,
    MetricTotals,
    Source,
    choose_source,
    get_metric_report,
    get_metric_series,
    get_metric_totals,
)
from analytics.selectors.records import (
    get_default_dashboard,
    get_insight,
    get_saved_dashboard,
    latest_insight_run,
    list_insights,
    list_saved_dashboards,
    list_scheduled_reports,
)
from analytics.selectors.sums import (
    DailySums,
    MetricSums,
    get_daily_sums,
    get_metric_sums,
    get_segment_sums,
)

__all__ = [
    "DailySums",
    "InvalidMetricQuery",
    "MetricReport",
    "MetricRow",
    "MetricSums",
    "MetricTotals",
    "Source",
    "choose_source",
    "get_default_dashboard",
    "get_insight",
    "get_daily_sums",
    "get_metric_report",
    "get_metric_series",
    "get_metric_sums",
    "get_metric_totals",
    "get_segment_sums",
    "get_saved_dashboard",
    "latest_insight_run",
    "list_insights",
    "list_saved_dashboards",
    "list_scheduled_reports",
]
