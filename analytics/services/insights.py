"""Compute and store insights: anomalies, trend breaks, opportunities, forecasts, pacing.

Reads go through `analytics.selectors` (the same layer the dashboard uses); the numbers
behind each finding are stored in its `evidence`, with the method and the series.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from adplatform.models import Organization
from analytics import statistics
from analytics.metrics import Dimension, MetricQuery, Metrics, Period
from analytics.models import Insight, InsightKind, InsightRun, Severity
from analytics.params import organization_today
from analytics.selectors.metrics import get_metric_report, get_metric_series
from analytics.services.notifications import notify_new_insights
from campaigns.models import Campaign, DeliveryStatus

logger = logging.getLogger(__name__)

HISTORY_DAYS = 56
RECENT_DAYS = 7  # anomalies older than this are history, not news
TREND_WINDOW = 14
OPPORTUNITY_DAYS = 28
FORECAST_HISTORY_DAYS = 91
FORECAST_LEVEL = 0.8
# Kinds describing the present state: a run replaces them. Anomalies are dated events.
STATE_KINDS = (InsightKind.TREND, InsightKind.OPPORTUNITY, InsightKind.FORECAST, InsightKind.PACING)

ANOMALY_METRICS = ("spend", "conversions", "cpa", "roas", "ctr")
TREND_METRICS = ("spend", "conversions", "cpa", "roas")
# Which direction of change is bad news, per metric.
BAD_WHEN_UP = frozenset({"spend", "cpa", "cpc", "cpm"})


@dataclass
class InsightDraft:
    kind: str
    severity: str
    title: str
    summary: str
    confidence: float
    evidence: dict[str, Any]
    fingerprint: str
    metric: str = ""
    campaign_id: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None


def _days(period: Period) -> list[dt.date]:
    return [period.start + dt.timedelta(days=i) for i in range(period.days)]


def _daily_value(metrics: Metrics, metric: str) -> float | None:
    """A day's value for the series, or None where the day says nothing about the ratio."""
    if metric == "ctr" and metrics.impressions < 100:
        return None
    value = metrics.value(metric)
    return None if value is None else float(value)


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def _campaign_series(organization: Organization, period: Period) -> dict[int, list[Metrics]]:
    """Each campaign's daily metrics over the period (days without rows are zeros)."""
    report = get_metric_report(
        organization,
        MetricQuery(period=period, group_by=(Dimension.CAMPAIGN, Dimension.DATE), limit=None),
    )
    days = {day: index for index, day in enumerate(_days(period))}
    series: dict[int, list[Metrics]] = {}
    for row in report.rows:
        campaign_id, day = row.key
        if isinstance(day, dt.datetime):
            day = day.date()
        series.setdefault(campaign_id, [Metrics()] * period.days)[days[day]] = row.metrics
    return series


def _is_bad(metric: str, direction: float) -> bool:
    return direction > 0 if metric in BAD_WHEN_UP else direction < 0


def anomaly_drafts(
    campaigns: dict[int, Campaign], series: dict[int, list[Metrics]], period: Period
) -> list[InsightDraft]:
    drafts: list[InsightDraft] = []
    days = _days(period)
    recent_from = len(days) - RECENT_DAYS
    for campaign_id, daily in series.items():
        campaign = campaigns.get(campaign_id)
        if campaign is None or sum(m.spend for m in daily[-14:]) == 0:
            continue
        has_revenue = any(m.revenue for m in daily)
        # Below ~5 conversions a day, Poisson noise alone swings them (and CPA, ROAS) wildly.
        few_conversions = float(np.median([float(m.conversions) for m in daily])) < 5
        for metric in ANOMALY_METRICS:
            if metric == "roas" and not has_revenue:
                continue
            if few_conversions and metric in {"conversions", "cpa", "roas"}:
                continue
            values = [_daily_value(m, metric) for m in daily]
            scan = statistics.detect_anomalies(values)
            if scan is None:
                continue
            for point in scan.points:
                if point.index < recent_from:
                    continue
                day = days[point.index]
                bad = _is_bad(metric, point.value - point.expected)
                severity = (
                    (Severity.HIGH if abs(point.score) >= 8 else Severity.MEDIUM)
                    if bad
                    else Severity.LOW
                )
                change = (point.value / point.expected - 1) if point.expected else None
                direction = "above" if point.value > point.expected else "below"
                drafts.append(
                    InsightDraft(
                        kind=InsightKind.ANOMALY,
                        severity=severity,
                        metric=metric,
                        campaign_id=campaign_id,
                        title=f"{metric.upper() if len(metric) <= 4 else metric.title()} "
                        f"{direction} normal on {day:%b %-d}: {campaign.name}",
                        summary=(
                            f"{metric} was {point.value:,.2f} against an expected "
                            f"{point.expected:,.2f} for that weekday"
                            + (f" ({change:+.0%})" if change is not None else "")
                            + f"; robust z-score {point.score:+.1f}."
                        ),
                        confidence=point.confidence,
                        period_start=day,
                        period_end=day,
                        fingerprint=f"anomaly:{campaign_id}:{metric}:{day.isoformat()}",
                        evidence={
                            "method": scan.method,
                            "date": day.isoformat(),
                            "value": _round(point.value),
                            "expected": _round(point.expected),
                            "score": _round(point.score, 2),
                            "noise_scale_log": _round(scan.scale, 6),
                            "series": {
                                "dates": [d.isoformat() for d in days],
                                "values": [_round(v) for v in values],
                                "expected": [_round(v) for v in scan.expected],
                            },
                        },
                    )
                )
    return drafts


def trend_drafts(
    campaigns: dict[int, Campaign], series: dict[int, list[Metrics]], period: Period
) -> list[InsightDraft]:
    drafts: list[InsightDraft] = []
    days = _days(period)
    for campaign_id, daily in series.items():
        campaign = campaigns.get(campaign_id)
        # A paused campaign's falling spend is the pause, not news.
        if campaign is None or campaign.status != DeliveryStatus.ACTIVE:
            continue
        if sum(m.spend for m in daily[-2 * TREND_WINDOW :]) == 0:
            continue
        for metric in TREND_METRICS:
            values = [_daily_value(m, metric) for m in daily]
            result = statistics.detect_trend_break(values, window=TREND_WINDOW)
            if result is None:
                continue
            bad = _is_bad(metric, result.relative_change)
            severity = (
                Severity.MEDIUM if bad and abs(result.relative_change) >= 0.25 else Severity.LOW
            )
            word = "up" if result.relative_change > 0 else "down"
            drafts.append(
                InsightDraft(
                    kind=InsightKind.TREND,
                    severity=severity,
                    metric=metric,
                    campaign_id=campaign_id,
                    title=f"{metric.upper() if len(metric) <= 4 else metric.title()} "
                    f"{word} {abs(result.relative_change):.0%} over the last "
                    f"{TREND_WINDOW} days: {campaign.name}",
                    summary=(
                        f"Seasonally adjusted daily {metric} averaged "
                        f"{result.mean_after:,.2f} in the last {TREND_WINDOW} days against "
                        f"{result.mean_before:,.2f} before; slope {result.slope_before:+.2f} → "
                        f"{result.slope_after:+.2f} per day (p = {result.p_value:.2g})."
                    ),
                    confidence=result.confidence,
                    period_start=days[-2 * TREND_WINDOW],
                    period_end=days[-1],
                    fingerprint=f"trend:{campaign_id}:{metric}",
                    evidence={
                        "method": result.method,
                        "window_days": TREND_WINDOW,
                        "mean_before": _round(result.mean_before),
                        "mean_after": _round(result.mean_after),
                        "relative_change": _round(result.relative_change),
                        "level_change": _round(result.level_change),
                        "slope_before": _round(result.slope_before),
                        "slope_after": _round(result.slope_after),
                        "p_value": result.p_value,
                        "series": {
                            "dates": [d.isoformat() for d in days[-2 * TREND_WINDOW :]],
                            "values": [_round(v) for v in values[-2 * TREND_WINDOW :]],
                        },
                    },
                )
            )
    return drafts


def budget_opportunity_drafts(
    campaigns: dict[int, Campaign], series: dict[int, list[Metrics]], period: Period
) -> list[InsightDraft]:
    """Campaigns much more efficient than the rest of their account and held by budget."""
    drafts: list[InsightDraft] = []
    window = slice(-OPPORTUNITY_DAYS, None)
    by_account: dict[int, list[int]] = {}
    for campaign_id in series:
        if campaign_id in campaigns:
            by_account.setdefault(campaigns[campaign_id].ad_account_id, []).append(campaign_id)
    for campaign_id, daily in series.items():
        campaign = campaigns.get(campaign_id)
        if (
            campaign is None
            or not campaign.daily_budget
            or campaign.status != DeliveryStatus.ACTIVE
        ):
            continue
        peers = [c for c in by_account.get(campaign.ad_account_id, []) if c != campaign_id]
        if not peers:
            peers = [c for c in series if c != campaign_id]
        if not peers:
            continue
        baseline_daily = [sum((series[p][i] for p in peers), Metrics()) for i in range(len(daily))]
        mine = sum(daily[window], Metrics())
        theirs = sum(baseline_daily[window], Metrics())
        use_roas = bool(mine.revenue and theirs.revenue)
        metric = "roas" if use_roas else "cpa"
        own, base = mine.value(metric), theirs.value(metric)
        if own is None or base is None or not base:
            continue
        lift = float(own / base - 1) if use_roas else float(1 - own / base)
        recent_spend = sum((m.spend for m in daily[-7:]), Decimal(0)) / 7
        utilisation = float(recent_spend / campaign.daily_budget)
        if lift < 0.2 or utilisation < 0.9:
            continue
        comparison = statistics.compare_daily_ratios(
            [_daily_value(m, metric) for m in daily[window]],  # type: ignore[misc]
            [_daily_value(m, metric) for m in baseline_daily[window]],  # type: ignore[misc]
            alternative="greater" if use_roas else "less",
        )
        if comparison is None or comparison.p_value >= 0.05:
            continue
        label = "ROAS" if use_roas else "CPA"
        drafts.append(
            InsightDraft(
                kind=InsightKind.OPPORTUNITY,
                severity=Severity.MEDIUM,
                metric=metric,
                campaign_id=campaign_id,
                title=f"Budget-limited and {lift:.0%} better {label} than its account: "
                f"{campaign.name}",
                summary=(
                    f"{label} {float(own):.2f} vs {float(base):.2f} for the rest of the account "
                    f"over {OPPORTUNITY_DAYS} days, while spending {utilisation:.0%} of its "
                    "daily budget on average in the last week: the budget, not demand, "
                    "limits it. Consider raising the budget."
                ),
                confidence=comparison.confidence,
                period_start=period.end - dt.timedelta(days=OPPORTUNITY_DAYS - 1),
                period_end=period.end,
                fingerprint=f"opportunity:campaign:{campaign_id}",
                evidence={
                    "method": comparison.method,
                    "metric": metric,
                    "campaign_value": _round(float(own)),
                    "baseline_value": _round(float(base)),
                    "lift": _round(lift),
                    "p_value": comparison.p_value,
                    "daily_budget": str(campaign.daily_budget),
                    "avg_daily_spend_last_7_days": str(recent_spend.quantize(Decimal("0.01"))),
                    "budget_utilisation": _round(utilisation),
                    "series": {
                        "campaign": [_round(_daily_value(m, metric)) for m in daily[window]],
                        "baseline": [
                            _round(_daily_value(m, metric)) for m in baseline_daily[window]
                        ],
                    },
                },
            )
        )
    return drafts


def segment_opportunity_drafts(organization: Organization, period: Period) -> list[InsightDraft]:
    """Audience segments converting clearly better than the rest of their dimension."""
    drafts: list[InsightDraft] = []
    window = Period(start=period.end - dt.timedelta(days=OPPORTUNITY_DAYS - 1), end=period.end)
    for dimension in (
        Dimension.AGE,
        Dimension.GENDER,
        Dimension.PLACEMENT,
        Dimension.DEVICE,
        Dimension.COUNTRY,
    ):
        report = get_metric_report(
            organization, MetricQuery(period=window, group_by=(dimension,), limit=None)
        )
        total = sum((row.metrics for row in report.rows), Metrics())
        if not total.spend or not total.clicks:
            continue
        for row in report.rows:
            mine = row.metrics
            rest = Metrics(
                impressions=total.impressions - mine.impressions,
                clicks=total.clicks - mine.clicks,
                spend=total.spend - mine.spend,
                conversions=total.conversions - mine.conversions,
                revenue=total.revenue - mine.revenue,
            )
            if mine.clicks < 100 or mine.spend < total.spend * Decimal("0.05") or not rest.clicks:
                continue
            comparison = statistics.compare_rates(
                float(mine.conversions), mine.clicks, float(rest.conversions), rest.clicks
            )
            if comparison is None or comparison.p_value >= 0.01:
                continue
            if mine.roas is not None and rest.roas:
                lift = float(mine.roas / rest.roas - 1)
                metric = "roas"
            elif mine.cpa is not None and rest.cpa:
                lift = float(1 - mine.cpa / rest.cpa)
                metric = "cpa"
            else:
                continue
            if lift < 0.2:
                continue
            value = str(row.key[0])
            drafts.append(
                InsightDraft(
                    kind=InsightKind.OPPORTUNITY,
                    severity=Severity.LOW,
                    metric=metric,
                    title=f"{dimension.value.title()} {value} outperforms: "
                    f"{lift:.0%} better {metric.upper()}",
                    summary=(
                        f"Conversion rate {float(mine.cvr or 0):.2%} vs "
                        f"{float(rest.cvr or 0):.2%} for other {dimension.value} segments over "
                        f"{OPPORTUNITY_DAYS} days, on {mine.clicks:,} clicks. "
                        "Consider shifting budget or bids towards it."
                    ),
                    confidence=comparison.confidence,
                    period_start=window.start,
                    period_end=window.end,
                    fingerprint=f"opportunity:segment:{dimension.value}:{value}",
                    evidence={
                        "method": comparison.method,
                        "dimension": dimension.value,
                        "value": value,
                        "segment": {k: _json(v) for k, v in mine.as_dict().items()},
                        "rest": {k: _json(v) for k, v in rest.as_dict().items()},
                        "lift": _round(lift),
                        "p_value": comparison.p_value,
                    },
                )
            )
    return drafts


def _json(value: int | Decimal | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return round(float(value), 6)


def forecast_drafts(organization: Organization, as_of: dt.date) -> list[InsightDraft]:
    history = Period(start=as_of - dt.timedelta(days=FORECAST_HISTORY_DAYS - 1), end=as_of)
    report = get_metric_series(organization, period=history)
    if not any(row.metrics.spend for row in report.rows):
        return []
    drafts: list[InsightDraft] = []
    for metric in ("spend", "conversions", "revenue"):
        values = [float(row.metrics.value(metric) or 0) for row in report.rows]
        forecast = statistics.forecast_series(values, horizon=30, level=FORECAST_LEVEL)
        if forecast is None:
            continue
        week = forecast.total_through(7)
        days = [as_of + dt.timedelta(days=i + 1) for i in range(30)]
        drafts.append(
            InsightDraft(
                kind=InsightKind.FORECAST,
                severity=Severity.INFO,
                metric=metric,
                title=f"{metric.title()} forecast: {forecast.total_mean:,.0f} over the next 30 days",
                summary=(
                    f"Next 7 days: {week[0]:,.0f}; next 30 days: {forecast.total_mean:,.0f} "
                    f"({FORECAST_LEVEL:.0%} interval {forecast.total_lower:,.0f} – "
                    f"{forecast.total_upper:,.0f}). Model {forecast.model}."
                ),
                # The nominal coverage of the stated intervals.
                confidence=FORECAST_LEVEL,
                period_start=days[0],
                period_end=days[-1],
                fingerprint=f"forecast:organization:{metric}",
                evidence=_forecast_evidence(forecast, days, report.rows[-28:], metric),
            )
        )
    return drafts


def _forecast_evidence(
    forecast: statistics.Forecast, days: list[dt.date], history: Iterable[Any], metric: str
) -> dict[str, Any]:
    rows = list(history)
    return {
        "method": f"{forecast.model}, chosen by AICc; prediction intervals from 1,000 "
        "simulated paths (daily quantiles; horizon totals from each path's sum)",
        "level": forecast.level,
        "model": forecast.model,
        "next_7_days": {
            "mean": _round(forecast.total_through(7)[0], 2),
        },
        "next_30_days": {
            "mean": _round(forecast.total_mean, 2),
            "lower": _round(forecast.total_lower, 2),
            "upper": _round(forecast.total_upper, 2),
        },
        "forecast": {
            "dates": [d.isoformat() for d in days],
            "mean": [_round(v, 2) for v in forecast.mean],
            "lower": [_round(v, 2) for v in forecast.lower],
            "upper": [_round(v, 2) for v in forecast.upper],
        },
        "history": {
            "dates": [row.key[0].isoformat() for row in rows],
            "values": [_round(float(row.metrics.value(metric) or 0), 2) for row in rows],
        },
    }


def pacing_drafts(
    organization: Organization, campaigns: dict[int, Campaign], as_of: dt.date
) -> list[InsightDraft]:
    """Month-end spend projected against the month's budget (sum of daily budgets)."""
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    daily_budget = sum(
        (
            c.daily_budget
            for c in campaigns.values()
            if c.daily_budget and c.status == DeliveryStatus.ACTIVE
        ),
        Decimal(0),
    )
    if not daily_budget:
        return []
    planned = float(daily_budget) * days_in_month
    month = Period(start=as_of.replace(day=1), end=as_of)
    history = Period(start=as_of - dt.timedelta(days=FORECAST_HISTORY_DAYS - 1), end=as_of)
    series = get_metric_series(organization, period=history)
    month_to_date = float(
        sum((row.metrics.spend for row in series.rows[-month.days :]), Decimal(0))
    )
    remaining = days_in_month - as_of.day
    if remaining:
        forecast = statistics.forecast_series(
            [float(row.metrics.spend) for row in series.rows], horizon=remaining
        )
        if forecast is None:
            return []
        totals = [month_to_date + t for t in forecast.simulated_totals]
        projected = month_to_date + forecast.total_mean
        low, high = month_to_date + forecast.total_lower, month_to_date + forecast.total_upper
    else:
        totals, projected, low, high = [month_to_date], month_to_date, month_to_date, month_to_date
    ratio = projected / planned
    over = projected > planned
    probability = sum((t > planned) == over for t in totals) / len(totals)
    gap = abs(ratio - 1)
    severity = Severity.HIGH if gap > 0.25 else Severity.MEDIUM if gap > 0.1 else Severity.INFO
    state = "over" if over else "under"
    if severity == Severity.INFO:
        title = f"On pace: {ratio:.0%} of this month's budget projected"
    else:
        title = f"Pacing {state} budget: {ratio:.0%} of this month's budget projected"
    return [
        InsightDraft(
            kind=InsightKind.PACING,
            severity=severity,
            metric="spend",
            title=title,
            summary=(
                f"Spent {month_to_date:,.0f} by {as_of:%b %-d}; projected month end "
                f"{projected:,.0f} ({FORECAST_LEVEL:.0%} interval {low:,.0f} – {high:,.0f}) "
                f"against a budget of {planned:,.0f} ({float(daily_budget):,.0f} a day "
                f"across active campaigns)."
            ),
            confidence=probability,
            period_start=month.start,
            period_end=as_of.replace(day=days_in_month),
            fingerprint=f"pacing:organization:{as_of:%Y-%m}",
            evidence={
                "method": "Month-to-date spend plus simulated paths of the spend forecast "
                "(exponential smoothing, weekly season) for the remaining days; confidence "
                f"is the share of paths ending {state} budget",
                "month_to_date_spend": round(month_to_date, 2),
                "planned_budget": round(planned, 2),
                "projected_spend": round(projected, 2),
                "projected_lower": round(low, 2),
                "projected_upper": round(high, 2),
                "remaining_days": remaining,
                "probability": round(probability, 4),
            },
        )
    ]


def compute_insights(
    *, organization: Organization, as_of: dt.date | None = None, trigger: str = "on_demand"
) -> InsightRun:
    """Recompute every kind of insight for the organization, up to `as_of` (default:
    yesterday in its time zone), and store them. New high-severity ones are announced.

    Idempotent per day: findings are keyed by fingerprint and updated in place; findings
    of the present state (trends, opportunities, forecasts, pacing) that no longer hold
    are removed.
    """
    as_of = as_of or organization_today(organization) - dt.timedelta(days=1)
    run = InsightRun.objects.create(organization=organization, trigger=trigger, as_of=as_of)
    try:
        campaigns = {
            c.pk: c
            for c in Campaign.objects.filter(organization=organization).select_related("ad_account")
        }
        period = Period(start=as_of - dt.timedelta(days=HISTORY_DAYS - 1), end=as_of)
        series = _campaign_series(organization, period)
        steps: list[Callable[[], list[InsightDraft]]] = [
            lambda: anomaly_drafts(campaigns, series, period),
            lambda: trend_drafts(campaigns, series, period),
            lambda: budget_opportunity_drafts(campaigns, series, period),
            lambda: segment_opportunity_drafts(organization, period),
            lambda: forecast_drafts(organization, as_of),
            lambda: pacing_drafts(organization, campaigns, as_of),
        ]
        drafts = [draft for step in steps for draft in step()]
        created = _store(organization, run, drafts)
    except Exception as exc:
        InsightRun.objects.filter(pk=run.pk).update(
            status=InsightRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    notify_new_insights(organization=organization, insights=created)
    return run


@transaction.atomic
def _store(
    organization: Organization, run: InsightRun, drafts: list[InsightDraft]
) -> list[Insight]:
    fingerprints = [d.fingerprint for d in drafts]
    existing = {
        i.fingerprint: i
        for i in Insight.objects.filter(organization=organization, fingerprint__in=fingerprints)
    }
    created: list[Insight] = []
    updated: list[Insight] = []
    for draft in drafts:
        values = {
            "kind": draft.kind,
            "severity": draft.severity,
            "metric": draft.metric,
            "title": draft.title[:255],
            "summary": draft.summary,
            "confidence": Decimal(str(round(min(max(draft.confidence, 0.0), 1.0), 4))),
            "evidence": draft.evidence,
            "campaign_id": draft.campaign_id,
            "period_start": draft.period_start,
            "period_end": draft.period_end,
            "run": run,
        }
        insight = existing.get(draft.fingerprint)
        if insight is None:
            created.append(
                Insight(organization=organization, fingerprint=draft.fingerprint, **values)
            )
        else:
            for name, value in values.items():
                setattr(insight, name, value)
            insight.updated_at = timezone.now()  # bulk_update skips auto_now
            updated.append(insight)
    Insight.objects.bulk_create(created)
    if updated:
        Insight.objects.bulk_update(
            updated,
            ["kind", "severity", "metric", "title", "summary", "confidence", "evidence",
             "campaign", "period_start", "period_end", "run", "updated_at"],
        )  # fmt: skip
    Insight.objects.filter(organization=organization, kind__in=STATE_KINDS).exclude(
        fingerprint__in=fingerprints
    ).delete()
    InsightRun.objects.filter(pk=run.pk).update(
        status=InsightRun.Status.SUCCEEDED,
        insights_created=len(created),
        insights_updated=len(updated),
        finished_at=timezone.now(),
    )
    return created
