"""The one query layer for metrics: totals and breakdowns for an organization and a period.

Every read picks the coarsest table that can answer it (account-day, campaign-day,
ad-day or segment-day), sums in SQL, and derives ratios from the sums in `Metrics`.
Comparison with the previous period comes from the same scan where it can (conditional
aggregates), so a dashboard summary is one query plus one for currencies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Model,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, NullIf, TruncMonth, TruncWeek

from adplatform.models import Organization
from analytics.metrics import (
    AD_LEVEL_DIMENSIONS,
    ALL_METRICS,
    SEGMENT_DIMENSIONS,
    TIME_DIMENSIONS,
    Change,
    Dimension,
    MetricFilters,
    MetricQuery,
    Metrics,
    Period,
    change_between,
)
from analytics.models import AccountDailyMetric, ExchangeRate
from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    Campaign,
    CampaignDailyMetric,
    Creative,
    DailyMetric,
    Platform,
    SegmentDailyMetric,
)

_MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=24, decimal_places=4)


class InvalidMetricQuery(ValueError):
    """A query the data cannot answer; `field` names the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Source(StrEnum):
    ACCOUNT_DAY = "account_day"
    CAMPAIGN_DAY = "campaign_day"
    AD_DAY = "ad_day"
    SEGMENT_DAY = "segment_day"


_MODELS: dict[Source, type[Model]] = {
    Source.ACCOUNT_DAY: AccountDailyMetric,
    Source.CAMPAIGN_DAY: CampaignDailyMetric,
    Source.AD_DAY: DailyMetric,
    Source.SEGMENT_DAY: SegmentDailyMetric,
}


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One group of a breakdown: its dimension values, their labels, and the sums."""

    key: tuple[Any, ...]
    labels: tuple[str, ...]
    metrics: Metrics
    previous: Metrics | None = None

    def change(self, metric: str) -> Change:
        if self.previous is None:
            return Change(absolute=None, percent=None)
        return change_between(self.metrics.value(metric), self.previous.value(metric))


@dataclass(frozen=True, slots=True)
class MetricReport:
    """The answer to a `MetricQuery`, money in `currency` (the organization's)."""

    query: MetricQuery
    currency: str
    source: Source
    rows: list[MetricRow]
    previous_period: Period | None
    has_more: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def period(self) -> Period:
        return self.query.period

    @property
    def group_by(self) -> tuple[Dimension, ...]:
        return self.query.group_by


@dataclass(frozen=True, slots=True)
class MetricTotals:
    currency: str
    source: Source
    period: Period
    current: Metrics
    previous: Metrics | None
    previous_period: Period | None
    warnings: list[str] = field(default_factory=list)

    def change(self, metric: str) -> Change:
        if self.previous is None:
            return Change(absolute=None, percent=None)
        return change_between(self.current.value(metric), self.previous.value(metric))


def choose_source(group_by: Sequence[Dimension], filters: MetricFilters) -> Source:
    """The coarsest table that can answer; raises `InvalidMetricQuery` when none can."""
    dims = set(group_by)
    segment_dims = dims & SEGMENT_DIMENSIONS
    if filters.segment:
        segment_dims.add(Dimension(filters.segment[0]))
    if segment_dims:
        if len(segment_dims) > 1:
            raise InvalidMetricQuery(
                "group_by",
                "Audience segments are reported one dimension at a time; choose one of "
                + ", ".join(sorted(d.value for d in segment_dims))
                + ".",
            )
        if dims & AD_LEVEL_DIMENSIONS or filters.needs_ad_level:
            raise InvalidMetricQuery(
                "group_by",
                "Audience segments are reported per campaign; they cannot be combined with "
                "ad_group, ad or creative.",
            )
        return Source.SEGMENT_DAY
    if dims & AD_LEVEL_DIMENSIONS or filters.needs_ad_level:
        return Source.AD_DAY
    if Dimension.CAMPAIGN in dims or filters.campaign_ids:
        return Source.CAMPAIGN_DAY
    return Source.ACCOUNT_DAY


def _dimension_expression(dimension: Dimension, source: Source) -> Expression | F:
    if dimension is Dimension.DATE:
        return F("date")
    if dimension is Dimension.WEEK:
        return TruncWeek("date", output_field=DateField())
    if dimension is Dimension.MONTH:
        return TruncMonth("date", output_field=DateField())
    if dimension is Dimension.PLATFORM:
        return F("ad_account__platform") if source is Source.AD_DAY else F("platform")
    if dimension in SEGMENT_DIMENSIONS:
        return F("value")
    column = {
        Dimension.AD_ACCOUNT: "ad_account_id",
        Dimension.CAMPAIGN: "campaign_id",
        Dimension.AD_GROUP: "ad_group_id",
        Dimension.AD: "ad_id",
        Dimension.CREATIVE: "ad__creative_id",
    }[dimension]
    return F(column)


def _alias(dimension: Dimension) -> str:
    return f"dim_{dimension.value}"


@dataclass(frozen=True, slots=True)
class _CurrencyPlan:
    currency: str
    multiplier: Expression | None
    excluded_account_ids: tuple[int, ...]
    warnings: list[str]


def _currency_plan(organization: Organization) -> _CurrencyPlan:
    """How to bring each account's money into the organization's currency, as SQL."""
    foreign = list(
        AdAccount.objects.filter(organization=organization)
        .exclude(currency=organization.currency)
        .values_list("id", "currency")
    )
    if not foreign:
        return _CurrencyPlan(organization.currency, None, (), [])
    rates = dict(
        ExchangeRate.objects.filter(
            organization=organization, currency__in={c for _, c in foreign}
        ).values_list("currency", "rate")
    )
    by_currency: dict[str, list[int]] = {}
    for account_id, currency in foreign:
        by_currency.setdefault(currency, []).append(account_id)
    whens = [
        When(ad_account_id__in=ids, then=Value(rates[currency]))
        for currency, ids in sorted(by_currency.items())
        if currency in rates
    ]
    missing = sorted(c for c in by_currency if c not in rates)
    excluded = tuple(i for c in missing for i in by_currency[c])
    warnings = [
        f"Accounts in {c} are left out: no exchange rate from {c} to {organization.currency}."
        for c in missing
    ]
    multiplier = (
        Case(
            *whens,
            default=Value(Decimal(1)),
            output_field=DecimalField(max_digits=18, decimal_places=8),
        )
        if whens
        else None
    )
    return _CurrencyPlan(organization.currency, multiplier, excluded, warnings)


def _base_queryset(
    organization: Organization,
    source: Source,
    *,
    start: dt.date,
    end: dt.date,
    filters: MetricFilters,
    plan: _CurrencyPlan,
    segment_dimension: Dimension | None,
) -> QuerySet[Any]:
    model = _MODELS[source]
    rows = model._default_manager.filter(organization=organization, date__gte=start, date__lte=end)
    if filters.platforms:
        platform_field = "ad_account__platform" if source is Source.AD_DAY else "platform"
        rows = rows.filter(**{f"{platform_field}__in": filters.platforms})
    if filters.ad_account_ids:
        rows = rows.filter(ad_account_id__in=filters.ad_account_ids)
    if filters.campaign_ids:
        rows = rows.filter(campaign_id__in=filters.campaign_ids)
    if filters.ad_group_ids:
        rows = rows.filter(ad_group_id__in=filters.ad_group_ids)
    if filters.ad_ids:
        rows = rows.filter(ad_id__in=filters.ad_ids)
    if filters.creative_ids:
        rows = rows.filter(ad__creative_id__in=filters.creative_ids)
    if segment_dimension is not None:
        rows = rows.filter(dimension=segment_dimension.value)
        if filters.segment and filters.segment[1]:
            rows = rows.filter(value__in=filters.segment[1])
    if plan.excluded_account_ids:
        rows = rows.exclude(ad_account_id__in=plan.excluded_account_ids)
    return rows


def _measure_aggregates(
    source: Source, plan: _CurrencyPlan, prefix: str, condition: Q | None
) -> dict[str, Any]:
    def money(column: str) -> Sum:
        expression: Any = F(column)
        if plan.multiplier is not None:
            expression = ExpressionWrapper(F(column) * plan.multiplier, output_field=_MONEY)
        return Sum(expression, filter=condition, output_field=_MONEY)

    aggregates: dict[str, Any] = {
        f"{prefix}impressions": Sum("impressions", filter=condition),
        f"{prefix}clicks": Sum("clicks", filter=condition),
        f"{prefix}spend": money("spend"),
        f"{prefix}conversions": Sum("conversions", filter=condition),
        f"{prefix}revenue": money("conversion_value"),
        f"{prefix}rows": Count("pk", filter=condition),
    }
    if source is not Source.SEGMENT_DAY:
        aggregates[f"{prefix}reach"] = Sum("reach", filter=condition)
    return aggregates


def _metrics_from(values: dict[str, Any], prefix: str) -> Metrics:
    def dec(name: str) -> Decimal:
        value = values.get(prefix + name)
        return Decimal(0) if value is None else Decimal(value)

    reach = values.get(prefix + "reach")
    return Metrics(
        impressions=int(values.get(prefix + "impressions") or 0),
        clicks=int(values.get(prefix + "clicks") or 0),
        spend=dec("spend"),
        conversions=dec("conversions"),
        revenue=dec("revenue"),
        reach=None if reach is None else int(reach),
    )


_RATIO_PARTS = {
    "ctr": ("clicks", "impressions", 1.0),
    "cpc": ("spend", "clicks", 1.0),
    "cpm": ("spend", "impressions", 1000.0),
    "cvr": ("conversions", "clicks", 1.0),
    "cpa": ("spend", "conversions", 1.0),
    "roas": ("revenue", "spend", 1.0),
}


def _ordering(query: MetricQuery, prefix: str) -> tuple[dict[str, Any], list[Any]]:
    """Extra annotations and the ORDER BY for the query's `order_by` (SQL, so LIMIT works)."""
    aliases = [_alias(d) for d in query.group_by]
    order = query.order_by
    if order is None:
        if any(d in TIME_DIMENSIONS for d in query.group_by):
            return {}, [*aliases]
        order = "-spend" if query.group_by else None
    if order is None:
        return {}, []
    descending = order.startswith("-")
    name = order.lstrip("-")
    extra: dict[str, Any] = {}
    if name in _RATIO_PARTS:
        numerator, denominator, scale = _RATIO_PARTS[name]
        target = f"sort_{name}"
        extra[target] = ExpressionWrapper(
            Cast(F(prefix + numerator), FloatField())
            * Value(scale)
            / NullIf(Cast(F(prefix + denominator), FloatField()), Value(0.0)),
            output_field=FloatField(),
        )
    elif name in ALL_METRICS:
        target = prefix + name
    else:
        target = _alias(Dimension(name))
    key = F(target).desc(nulls_last=True) if descending else F(target).asc(nulls_last=True)
    return extra, [key, *aliases]


def _segment_dimension(query: MetricQuery) -> Dimension | None:
    for dimension in query.group_by:
        if dimension in SEGMENT_DIMENSIONS:
            return dimension
    if query.filters.segment:
        return Dimension(query.filters.segment[0])
    return None


def validate_order_by(order_by: str | None, group_by: Sequence[Dimension]) -> None:
    if order_by is None:
        return
    name = order_by.lstrip("-")
    allowed = [*ALL_METRICS, *(d.value for d in group_by)]
    if name not in allowed:
        raise InvalidMetricQuery(
            "order_by", f"Unknown order_by {name!r}; valid values are: {', '.join(allowed)}."
        )


def get_metric_report(organization: Organization, query: MetricQuery) -> MetricReport:
    """Sum the organization's metrics over `query.period`, grouped by `query.group_by`."""
    if len(set(query.group_by)) != len(query.group_by):
        raise InvalidMetricQuery("group_by", "Each dimension may appear once in group_by.")
    if len(set(query.group_by) & TIME_DIMENSIONS) > 1:
        raise InvalidMetricQuery("group_by", "Group by at most one of date, week and month.")
    validate_order_by(query.order_by, query.group_by)
    source = choose_source(query.group_by, query.filters)
    plan = _currency_plan(organization)
    warnings = list(plan.warnings)
    period = query.period
    previous = period.previous() if query.compare else None
    has_time = any(d in TIME_DIMENSIONS for d in query.group_by)
    # Non-time groups compare within one scan; time buckets of two periods never share a
    # key, so they take a second query and are aligned bucket by bucket.
    same_scan = previous is not None and not has_time
    if previous is not None and has_time and len(query.group_by) > 1:
        warnings.append("Comparison is only given when grouping by time alone.")
        previous = None

    segment_dimension = _segment_dimension(query)
    rows_qs = _base_queryset(
        organization,
        source,
        start=previous.start if same_scan and previous else period.start,
        end=period.end,
        filters=query.filters,
        plan=plan,
        segment_dimension=segment_dimension,
    )
    group_values = {_alias(d): _dimension_expression(d, source) for d in query.group_by}
    if same_scan:
        aggregates = {
            **_measure_aggregates(source, plan, "cur_", Q(date__gte=period.start)),
            **_measure_aggregates(source, plan, "prev_", Q(date__lt=period.start)),
        }
    else:
        aggregates = _measure_aggregates(source, plan, "cur_", None)
    if group_values:
        grouped = rows_qs.values(**group_values).annotate(**aggregates)
        if same_scan:
            # Only groups present in the current period, as without comparison.
            grouped = grouped.filter(cur_rows__gt=0)
        extra, ordering = _ordering(query, "cur_")
        if extra:
            grouped = grouped.annotate(**extra)
        if ordering:
            grouped = grouped.order_by(*ordering)
        if query.limit is None:
            # Internal callers (insights, exports) read whole breakdowns; the API caps it.
            fetched = list(grouped[query.offset :] if query.offset else grouped)
            has_more = False
        else:
            fetched = list(grouped[query.offset : query.offset + query.limit + 1])
            has_more = len(fetched) > query.limit
            fetched = fetched[: query.limit]
    else:
        fetched = [rows_qs.aggregate(**aggregates)]
        has_more = False

    labels = _labels_for(organization, query.group_by, fetched)
    rows = [
        MetricRow(
            key=tuple(values[_alias(d)] for d in query.group_by),
            labels=tuple(
                labels[d].get(values[_alias(d)], _fallback_label(d, values[_alias(d)]))
                for d in query.group_by
            ),
            metrics=_metrics_from(values, "cur_"),
            previous=_metrics_from(values, "prev_") if same_scan else None,
        )
        for values in fetched
    ]
    if has_time and len(query.group_by) == 1 and query.order_by is None and not query.offset:
        rows = _zero_filled(rows, query.group_by[0], period)
        if previous is not None:
            rows = _with_previous_buckets(
                organization, source, query, plan, segment_dimension, rows, previous
            )
    return MetricReport(
        query=query,
        currency=plan.currency,
        source=source,
        rows=rows,
        previous_period=previous,
        has_more=has_more,
        warnings=warnings,
    )


def get_metric_totals(
    organization: Organization,
    *,
    period: Period,
    filters: MetricFilters | None = None,
    compare: bool = False,
) -> MetricTotals:
    """Totals over the period (and the previous one of equal length when `compare`)."""
    report = get_metric_report(
        organization,
        MetricQuery(period=period, filters=filters or MetricFilters(), compare=compare),
    )
    row = report.rows[0]
    return MetricTotals(
        currency=report.currency,
        source=report.source,
        period=period,
        current=row.metrics,
        previous=row.previous,
        previous_period=report.previous_period,
        warnings=report.warnings,
    )


def get_metric_series(
    organization: Organization,
    *,
    period: Period,
    grain: Dimension = Dimension.DATE,
    filters: MetricFilters | None = None,
    compare: bool = False,
) -> MetricReport:
    """A time series with every bucket of the period present (empty buckets are zeros)."""
    if grain not in TIME_DIMENSIONS:
        raise InvalidMetricQuery("grain", "A series is by date, week or month.")
    return get_metric_report(
        organization,
        MetricQuery(
            period=period, group_by=(grain,), filters=filters or MetricFilters(), compare=compare
        ),
    )


def _bucket_start(day: dt.date, grain: Dimension) -> dt.date:
    if grain is Dimension.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if grain is Dimension.MONTH:
        return day.replace(day=1)
    return day


def _buckets(period: Period, grain: Dimension) -> list[dt.date]:
    buckets: list[dt.date] = []
    day = period.start
    while day <= period.end:
        bucket = _bucket_start(day, grain)
        if not buckets or buckets[-1] != bucket:
            buckets.append(bucket)
        day += dt.timedelta(days=1)
    return buckets


def _as_date(value: Any) -> dt.date:
    # TruncWeek/TruncMonth give datetimes on some backends and dates on others.
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def _zero_filled(rows: list[MetricRow], grain: Dimension, period: Period) -> list[MetricRow]:
    by_bucket = {_as_date(row.key[0]): row for row in rows}
    return [
        by_bucket.get(bucket)
        or MetricRow(key=(bucket,), labels=(bucket.isoformat(),), metrics=Metrics())
        for bucket in _buckets(period, grain)
    ]


def _with_previous_buckets(
    organization: Organization,
    source: Source,
    query: MetricQuery,
    plan: _CurrencyPlan,
    segment_dimension: Dimension | None,
    rows: list[MetricRow],
    previous: Period,
) -> list[MetricRow]:
    grain = query.group_by[0]
    alias = _alias(grain)
    earlier = (
        _base_queryset(
            organization,
            source,
            start=previous.start,
            end=previous.end,
            filters=query.filters,
            plan=plan,
            segment_dimension=segment_dimension,
        )
        .values(**{alias: _dimension_expression(grain, source)})
        .annotate(**_measure_aggregates(source, plan, "cur_", None))
        .order_by(alias)
    )
    by_bucket = {_as_date(values[alias]): _metrics_from(values, "cur_") for values in earlier}
    buckets = _buckets(previous, grain)
    # Align from the end: the last bucket of each period is "the same" bucket.
    offset = len(rows) - len(buckets)
    aligned: list[MetricRow] = []
    for index, row in enumerate(rows):
        earlier_index = index - offset
        previous_metrics = (
            by_bucket.get(buckets[earlier_index], Metrics())
            if 0 <= earlier_index < len(buckets)
            else None
        )
        aligned.append(
            MetricRow(
                key=row.key, labels=row.labels, metrics=row.metrics, previous=previous_metrics
            )
        )
    return aligned


def _fallback_label(dimension: Dimension, value: Any) -> str:
    if value is None:
        if dimension in {Dimension.AD, Dimension.CREATIVE, Dimension.AD_GROUP}:
            return "(campaign level)"
        return "(none)"
    if dimension in TIME_DIMENSIONS:
        return _as_date(value).isoformat()
    return str(value)


def _names(model: type[Model], organization: Organization, ids: Iterable[Any]) -> dict[Any, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    objects = model._default_manager.filter(organization=organization, pk__in=wanted)
    return {obj.pk: str(obj) for obj in objects}


def _labels_for(
    organization: Organization, group_by: Sequence[Dimension], rows: list[dict[str, Any]]
) -> dict[Dimension, dict[Any, str]]:
    """Human labels for each dimension's values: one query per id dimension, none for others."""
    labels: dict[Dimension, dict[Any, str]] = {}
    models: dict[Dimension, type[Model]] = {
        Dimension.AD_ACCOUNT: AdAccount,
        Dimension.CAMPAIGN: Campaign,
        Dimension.AD_GROUP: AdGroup,
        Dimension.AD: Ad,
        Dimension.CREATIVE: Creative,
    }
    for dimension in group_by:
        values = {row[_alias(dimension)] for row in rows}
        if dimension in models:
            labels[dimension] = _names(models[dimension], organization, values)
        elif dimension is Dimension.PLATFORM:
            labels[dimension] = {
                v: Platform(v).label if v in Platform.values else str(v) for v in values
            }
        else:
            labels[dimension] = {}
    return labels
