"""What the dashboard page shows, composed from the metrics selectors.

`DashboardState` is the page's choices (period, comparison, filters, metrics, charts),
parsed from the query string over a saved dashboard's config; `build_dashboard` reads
everything the page needs and shapes chart data as plain JSON-ready dicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import QueryDict

from adplatform.models import Organization
from analytics.metrics import (
    ALL_METRICS,
    LOWER_IS_BETTER,
    METRIC_LABELS,
    SEGMENT_DIMENSIONS,
    Dimension,
    MetricFilters,
    MetricQuery,
    Metrics,
    Period,
)
from analytics.models import Insight, SavedDashboard
from analytics.params import (
    DEFAULT_PRESET,
    PRESETS,
    ParamError,
    PeriodChoice,
    parse_bool,
    parse_filters,
    parse_period,
)
from analytics.presenters import format_metric
from analytics.selectors.metrics import (
    MetricReport,
    MetricTotals,
    get_metric_report,
    get_metric_series,
    get_metric_totals,
)
from analytics.selectors.records import latest_insight_run, list_insights

KPI_CHOICES = ("spend", "revenue", "roas", "conversions", "cpa", "ctr", "clicks", "impressions", "cpc", "cpm", "cvr", "reach")  # fmt: skip
DEFAULT_KPIS = ("spend", "revenue", "roas", "conversions", "cpa", "ctr")
CHART_CHOICES = {
    "revenue_spend": "Revenue vs spend",
    "platforms": "Platform performance",
    "audience": "Audience breakdown",
    "trend": "Metric trend",
    "funnel": "Conversion funnel",
    "campaigns": "Top / bottom campaigns",
    "insights": "Insights",
}
CHART_METRICS = ("spend", "revenue", "roas", "conversions", "cpa", "clicks", "ctr", "cpc", "cpm", "cvr", "impressions")  # fmt: skip
CAMPAIGN_SORTS = ("spend", "revenue", "roas", "conversions", "cpa", "ctr", "clicks", "impressions")
TABLE_SIZE = 10
AUDIENCE_DIMENSIONS = tuple(sorted(d.value for d in SEGMENT_DIMENSIONS))


@dataclass
class DashboardState:
    preset: str
    period: Period
    compare: bool
    filters: MetricFilters
    kpis: tuple[str, ...] = DEFAULT_KPIS
    charts: tuple[str, ...] = tuple(CHART_CHOICES)
    metric: str = "spend"  # the trend chart's metric
    platform_metric: str = "spend"
    audience: str = "age"
    sort: str = "-spend"
    errors: dict[str, list[str]] = field(default_factory=dict)

    def query(self, **overrides: str) -> dict[str, str]:
        """The state as query parameters (what a saved dashboard stores)."""
        query: dict[str, str] = {"preset": self.preset}
        if self.preset == "custom":
            query.update(start=self.period.start.isoformat(), end=self.period.end.isoformat())
        if self.compare:
            query["compare"] = "1"
        query.update(self.filters.as_query())
        query.update(
            metric=self.metric,
            platform_metric=self.platform_metric,
            audience=self.audience,
            sort=self.sort,
            kpis=",".join(self.kpis),
            charts=",".join(self.charts),
        )
        query.update(overrides)
        return query


def _listed(params: QueryDict, name: str) -> list[str]:
    # Checkboxes send one value each; saved configs and links send one comma list.
    return [part for value in params.getlist(name) for part in value.split(",") if part]


def _choice(raw: str | None, choices: tuple[str, ...], default: str) -> str:
    return raw if raw in choices else default


def parse_dashboard_state(
    params: QueryDict, *, today: dt.date, saved: SavedDashboard | None = None
) -> DashboardState:
    """The request's choices, falling back to the saved dashboard's, then to defaults.

    The page never fails on a bad parameter: it shows the default and the message.
    """
    merged = QueryDict(mutable=True)
    if saved is not None:
        for key, value in (saved.config or {}).items():
            merged[key] = str(value)
    for key in params:
        merged.setlist(key, params.getlist(key))
    errors: dict[str, list[str]] = {}
    choice: PeriodChoice = parse_period(merged, today=today, errors=errors)
    compare = parse_bool(merged, "compare", errors) if "compare" in merged else saved is None
    filters = parse_filters(merged, errors)
    if errors:
        filters = MetricFilters()
    kpis = tuple(dict.fromkeys(k for k in _listed(merged, "kpis") if k in KPI_CHOICES))
    charts = tuple(dict.fromkeys(c for c in _listed(merged, "charts") if c in CHART_CHOICES))
    sort = merged.get("sort") or "-spend"
    if sort.lstrip("-") not in CAMPAIGN_SORTS:
        sort = "-spend"
    return DashboardState(
        preset=choice.preset,
        period=choice.period,
        compare=compare,
        filters=filters,
        kpis=kpis or DEFAULT_KPIS,
        charts=charts or tuple(CHART_CHOICES),
        metric=_choice(merged.get("metric"), CHART_METRICS, "spend"),
        platform_metric=_choice(merged.get("platform_metric"), CHART_METRICS, "spend"),
        audience=_choice(merged.get("audience"), AUDIENCE_DIMENSIONS, "age"),
        sort=sort,
        errors=errors,
    )


def _number(value: int | Decimal | None) -> float | None:
    return None if value is None else float(value)


def _metric_columns(rows: list[Metrics]) -> dict[str, list[float | None]]:
    return {name: [_number(m.value(name)) for m in rows] for name in ALL_METRICS}


@dataclass(frozen=True)
class Kpi:
    metric: str
    label: str
    value: str
    previous: str | None
    change_percent: float | None
    is_good: bool | None


@dataclass(frozen=True)
class CampaignLine:
    campaign_id: int
    name: str
    cells: list[str]  # in CAMPAIGN_SORTS order
    change_percent: float | None


@dataclass
class Dashboard:
    state: DashboardState
    currency: str
    totals: MetricTotals
    kpis: list[Kpi]
    charts: dict[str, Any]
    campaigns: list[CampaignLine]
    insights: list[Insight]
    data_version: int
    warnings: list[str]


def _kpis(totals: MetricTotals, metrics: tuple[str, ...]) -> list[Kpi]:
    kpis: list[Kpi] = []
    for metric in metrics:
        change = totals.change(metric)
        percent = float(change.percent) if change.percent is not None else None
        is_good = None
        if percent is not None and percent != 0:
            is_good = (percent < 0) if metric in LOWER_IS_BETTER else (percent > 0)
        kpis.append(
            Kpi(
                metric=metric,
                label=METRIC_LABELS[metric],
                value=format_metric(metric, totals.current.value(metric), totals.currency),
                previous=format_metric(metric, totals.previous.value(metric), totals.currency)
                if totals.previous
                else None,
                change_percent=percent,
                is_good=is_good,
            )
        )
    return kpis


def campaign_table(
    organization: Organization, state: DashboardState
) -> tuple[MetricReport, list[CampaignLine]]:
    report = get_metric_report(
        organization,
        MetricQuery(
            period=state.period,
            group_by=(Dimension.CAMPAIGN,),
            filters=state.filters,
            compare=state.compare,
            order_by=state.sort,
            limit=TABLE_SIZE,
        ),
    )
    lines = []
    for row in report.rows:
        change = row.change(state.sort.lstrip("-")).percent if report.previous_period else None
        lines.append(
            CampaignLine(
                campaign_id=row.key[0],
                name=row.labels[0],
                cells=[
                    format_metric(name, row.metrics.value(name), report.currency)
                    for name in CAMPAIGN_SORTS
                ],
                change_percent=float(change) if change is not None else None,
            )
        )
    return report, lines


def build_dashboard(organization: Organization, state: DashboardState) -> Dashboard:
    """Everything the page shows, read through the metrics selectors."""
    totals = get_metric_totals(
        organization, period=state.period, filters=state.filters, compare=state.compare
    )
    grain = Dimension.DATE if state.period.days <= 120 else Dimension.WEEK
    series = get_metric_series(
        organization, period=state.period, grain=grain, filters=state.filters, compare=state.compare
    )
    charts: dict[str, Any] = {
        "currency": totals.currency,
        "labels": {name: METRIC_LABELS[name] for name in ALL_METRICS},
        "series": {
            "grain": grain.value,
            "dates": [row.labels[0] for row in series.rows],
            "current": _metric_columns([row.metrics for row in series.rows]),
            "previous": _metric_columns([row.previous or Metrics() for row in series.rows])
            if series.previous_period
            else None,
        },
        "funnel": {
            "impressions": totals.current.impressions,
            "clicks": totals.current.clicks,
            "conversions": float(totals.current.conversions),
            "ctr": _number(totals.current.ctr),
            "cvr": _number(totals.current.cvr),
        },
        "metric": state.metric,
        "platform_metric": state.platform_metric,
        "audience": state.audience,
    }
    warnings = list(totals.warnings)
    if "platforms" in state.charts:
        platforms = get_metric_report(
            organization,
            MetricQuery(period=state.period, group_by=(Dimension.PLATFORM,), filters=state.filters),
        )
        charts["platforms"] = {
            "keys": [row.key[0] for row in platforms.rows],
            "names": [row.labels[0] for row in platforms.rows],
            **_metric_columns([row.metrics for row in platforms.rows]),
        }
    if "audience" in state.charts:
        audience: dict[str, Any] = {}
        segment_filters = MetricFilters(
            platforms=state.filters.platforms,
            ad_account_ids=state.filters.ad_account_ids,
            campaign_ids=state.filters.campaign_ids,
        )
        for dimension in AUDIENCE_DIMENSIONS:
            report = get_metric_report(
                organization,
                MetricQuery(
                    period=state.period,
                    group_by=(Dimension(dimension),),
                    filters=segment_filters,
                    order_by=dimension,
                ),
            )
            audience[dimension] = {
                "names": [row.labels[0] for row in report.rows],
                **_metric_columns([row.metrics for row in report.rows]),
            }
        charts["audience_data"] = audience
    lines: list[CampaignLine] = []
    if "campaigns" in state.charts:
        _report, lines = campaign_table(organization, state)
    insights: list[Insight] = []
    if "insights" in state.charts:
        insights = list(
            list_insights(
                organization,
                campaign_id=state.filters.campaign_ids[0] if state.filters.campaign_ids else None,
            ).order_by("-severity_rank", "-created_at")[:6]
        )
    run = latest_insight_run(organization)
    return Dashboard(
        state=state,
        currency=totals.currency,
        totals=totals,
        kpis=_kpis(totals, state.kpis),
        charts=charts,
        campaigns=lines,
        insights=insights,
        data_version=run.pk if run else 0,
        warnings=warnings,
    )


def dashboard_config(params: QueryDict, *, today: dt.date) -> dict[str, str]:
    """What a saved dashboard keeps: the page's choices, validated."""
    state = parse_dashboard_state(params, today=today)
    if state.errors:
        raise ParamError(state.errors)
    return state.query()


__all__ = [
    "CHART_CHOICES",
    "DEFAULT_PRESET",
    "KPI_CHOICES",
    "PRESETS",
    "Dashboard",
    "DashboardState",
    "build_dashboard",
    "campaign_table",
    "dashboard_config",
    "parse_dashboard_state",
]
