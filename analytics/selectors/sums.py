"""Grouped metric sums as plain numbers, for code that computes over many rows.

`get_metric_report` builds a `MetricRow` of Decimals (and labels) per group: right for
what people read, slow for 100k groups that only feed float statistics (an agent review
reads every campaign-day and ad-day of an account). This reads the same sums from the
same table with the same currency conversion, as one `values_list` of tuples;
`get_daily_sums` reads (key, day) sums straight into day-by-key arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connections
from django.db.models import ExpressionWrapper, F, FloatField, Func, IntegerField, Sum, Value
from django.db.models.functions import Cast

from adplatform.models import Organization
from analytics.metrics import (
    SEGMENT_DIMENSIONS,
    Dimension,
    MetricFilters,
    MetricQuery,
    Period,
)
from analytics.selectors.metrics import (
    _MONEY,
    InvalidMetricQuery,
    Source,
    _alias,
    _base_queryset,
    _currency_plan,
    _dimension_expression,
    _segment_dimension,
    choose_source,
)

# Money and conversions are stored (and summed by get_metric_report) with 4 decimals;
# rounding the float sums to the same places gives what float(Decimal sum) gives.
_PLACES = 4
MEASURES = ("impressions", "clicks", "spend", "conversions", "revenue")
_ID_DIMENSIONS = frozenset(
    {Dimension.AD_ACCOUNT, Dimension.CAMPAIGN, Dimension.AD_GROUP, Dimension.AD, Dimension.CREATIVE}
)
_BATCH = 2000
# Tables holding one row per (id, day) for these ids (unique constraints), and the column.
_ONE_ROW_PER_DAY = {
    (Source.CAMPAIGN_DAY, Dimension.CAMPAIGN): "campaign_id",
    (Source.AD_DAY, Dimension.AD): "ad_id",
}


@dataclass(frozen=True, slots=True)
class MetricSums:
    """`rows`: one tuple per group, the group keys (as in `MetricRow.key`) then
    impressions, clicks (ints), spend, conversions, revenue (floats, the organization's
    currency)."""

    currency: str
    rows: list[tuple[Any, ...]]
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class DailySums:
    """Day-by-day sums per group: row i of every array is `keys[i]`, column j `days[j]`;
    a day without rows is zero. Floats, the organization's currency."""

    currency: str
    keys: list[Any]
    days: list[dt.date]
    impressions: np.ndarray
    clicks: np.ndarray
    spend: np.ndarray
    conversions: np.ndarray
    revenue: np.ndarray
    warnings: list[str]


class _DaysSince(Func):
    """Whole days from a fixed date to a date column, computed by the database."""

    template = "(%(expressions)s)"  # PostgreSQL: date - date is an integer
    arg_joiner = " - "
    output_field = IntegerField()

    def __init__(self, column: str, start: dt.date) -> None:
        super().__init__(F(column), Value(start))

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS integer)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _grouped_sums(
    organization: Organization, query: MetricQuery, *, dates_as_days: bool = False
) -> tuple[Any, Any]:
    """The grouped `values_list` (group keys, then MEASURES) and its currency plan.

    `dates_as_days`: the date key as days since the period's start (an integer).
    """
    if query.compare or query.limit is not None or query.offset or query.order_by:
        raise InvalidMetricQuery("query", "Sums take no comparison, order_by or paging.")
    if not query.group_by or len(set(query.group_by)) != len(query.group_by):
        raise InvalidMetricQuery("group_by", "Sums need distinct group_by dimensions.")
    source = choose_source(query.group_by, query.filters)
    plan = _currency_plan(organization)
    rows_qs = _base_queryset(
        organization,
        source,
        start=query.period.start,
        end=query.period.end,
        filters=query.filters,
        plan=plan,
        segment_dimension=_segment_dimension(query),
    )

    keys = {_alias(d): _dimension_expression(d, source) for d in query.group_by}
    if dates_as_days:
        keys[_alias(Dimension.DATE)] = _DaysSince("date", query.period.start)
        key_column = _ONE_ROW_PER_DAY.get((source, query.group_by[0]))
        if key_column is not None:
            # One row per key and day already (a unique constraint): no grouping to do.
            rows_qs = rows_qs.filter(**{f"{key_column}__isnull": False})
            return _unsummed(rows_qs, keys, plan), plan
    return _summed(rows_qs, keys, plan), plan


def _money(column: str, plan: Any) -> Any:
    if plan.multiplier is None:
        return F(column)
    return ExpressionWrapper(F(column) * plan.multiplier, output_field=_MONEY)


def _unsummed(rows_qs: Any, keys: dict[str, Any], plan: Any) -> Any:
    """`_summed`'s columns read row by row, for tables that hold one row per group."""
    return (
        rows_qs.annotate(
            **keys,
            s_impressions=F("impressions"),
            s_clicks=F("clicks"),
            s_spend=Cast(_money("spend", plan), FloatField()),
            s_conversions=Cast("conversions", FloatField()),
            s_revenue=Cast(_money("conversion_value", plan), FloatField()),
        )
        .order_by()
        .values_list(*keys, *(f"s_{m}" for m in MEASURES))
    )


def _summed(rows_qs: Any, keys: dict[str, Any], plan: Any) -> Any:
    """`rows_qs` grouped by `keys`, as a `values_list` of the keys then MEASURES."""

    def money(column: str) -> Cast:
        return Cast(Sum(_money(column, plan), output_field=_MONEY), FloatField())

    return (
        rows_qs.values(**keys)
        .annotate(
            s_impressions=Sum("impressions"),
            s_clicks=Sum("clicks"),
            s_spend=money("spend"),
            s_conversions=Cast(Sum("conversions"), FloatField()),
            s_revenue=money("conversion_value"),
        )
        .order_by()
        .values_list(*keys, *(f"s_{m}" for m in MEASURES))
    )


def _plain(rows: Any, keys: int) -> list[tuple[Any, ...]]:
    return [
        (
            *row[:keys],
            int(row[keys] or 0),
            int(row[keys + 1] or 0),
            round(row[keys + 2] or 0.0, _PLACES),
            round(row[keys + 3] or 0.0, _PLACES),
            round(row[keys + 4] or 0.0, _PLACES),
        )
        for row in rows
    ]


def get_metric_sums(organization: Organization, query: MetricQuery) -> MetricSums:
    """The sums of `get_metric_report` for the same query, as tuples of ints and floats.

    No comparison, ordering, paging or labels: the groups come in no particular order.
    """
    grouped, plan = _grouped_sums(organization, query)
    rows = _plain(grouped, len(query.group_by))
    return MetricSums(currency=plan.currency, rows=rows, warnings=list(plan.warnings))


def get_segment_sums(
    organization: Organization, *, period: Period, dimensions: Collection[Dimension]
) -> MetricSums:
    """Audience sums of every campaign in several segment dimensions at once.

    `rows`: (campaign id, dimension, value, impressions, clicks, spend, conversions,
    revenue), as `get_metric_sums` of (campaign, dimension) gives them one dimension at a
    time. One pass over the organization's segment-days of the period, the dimensions
    kept afterwards: filtering on them in SQL has SQLite walk its (organization,
    dimension, date) index and fetch the rows out of order, once per dimension — about
    three times the work of reading them in order.
    """
    if not dimensions or not set(dimensions) <= SEGMENT_DIMENSIONS:
        raise InvalidMetricQuery("dimensions", "Segment sums need audience dimensions.")
    plan = _currency_plan(organization)
    rows_qs = _base_queryset(
        organization,
        Source.SEGMENT_DAY,
        start=period.start,
        end=period.end,
        filters=MetricFilters(),
        plan=plan,
        segment_dimension=None,
    )
    keys = {"dim_campaign": F("campaign_id"), "dim_dimension": F("dimension"),
            "dim_value": F("value")}  # fmt: skip
    wanted = {d.value for d in dimensions}
    rows = _plain((r for r in _summed(rows_qs, keys, plan) if r[1] in wanted), 3)
    return MetricSums(currency=plan.currency, rows=rows, warnings=list(plan.warnings))


def get_daily_sums(organization: Organization, query: MetricQuery) -> DailySums:
    """`get_metric_sums` of an (id, date) grouping as (ids × days) arrays, ids sorted.

    For ~100k id-days (an agent review's campaign-days and ad-days): each date comes back
    as its day number in the period and the rows go from the database cursor into arrays
    a batch at a time. No Django converter runs per value (parsing every date, wrapping
    every number), and no row outlives its batch: 100k live row tuples set off the
    garbage collector's full passes, which cost as much as the query. Rows without an id
    (campaign-level rows when grouping by ad) belong to no series and are left out.
    """
    if (
        len(query.group_by) != 2
        or query.group_by[0] not in _ID_DIMENSIONS
        or query.group_by[1] is not Dimension.DATE
    ):
        raise InvalidMetricQuery("group_by", "Daily sums group by one kind of id, then date.")
    grouped, plan = _grouped_sums(organization, query, dates_as_days=True)
    days = [
        query.period.start + dt.timedelta(days=i)
        for i in range((query.period.end - query.period.start).days + 1)
    ]
    sql, params = grouped.query.get_compiler(using=grouped.db).as_sql()
    batches = []
    with connections[grouped.db].cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(_BATCH):
            # Sums arrive as ints, floats or Decimals (PostgreSQL's sum of bigint); a
            # missing id becomes NaN.
            batches.append(np.array(batch, dtype=float))
    table = np.concatenate(batches) if batches else np.zeros((0, 2 + len(MEASURES)))
    table = table[~np.isnan(table[:, 0])]
    unique_ids, key_rows = np.unique(table[:, 0].astype(np.int64), return_inverse=True)
    keys: list[Any] = unique_ids.tolist()
    at = (key_rows, table[:, 1].astype(np.intp))
    arrays = []
    for column, name in enumerate(MEASURES, start=2):
        values = np.zeros((len(keys), len(days)))
        values[at] = np.nan_to_num(table[:, column])
        if name not in ("impressions", "clicks"):
            values = np.round(values, _PLACES)  # as get_metric_sums
        arrays.append(values)
    impressions, clicks, spend, conversions, revenue = arrays
    return DailySums(
        currency=plan.currency,
        keys=keys,
        days=days,
        impressions=impressions,
        clicks=clicks,
        spend=spend,
        conversions=conversions,
        revenue=revenue,
        warnings=list(plan.warnings),
    )
