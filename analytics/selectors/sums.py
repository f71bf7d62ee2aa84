"""Grouped metric sums as plain numbers, for code that computes over many rows.

`get_metric_report` builds a `MetricRow` of Decimals (and labels) per group: right for
what people read, slow for 100k groups that only feed float statistics (an agent review
reads every campaign-day and ad-day of an account). This reads the same sums from the
same table with the same currency conversion, as one `values_list` of tuples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import ExpressionWrapper, F, FloatField, Sum
from django.db.models.functions import Cast

from adplatform.models import Organization
from analytics.metrics import MetricQuery
from analytics.selectors.metrics import (
    _MONEY,
    InvalidMetricQuery,
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


@dataclass(frozen=True, slots=True)
class MetricSums:
    """`rows`: one tuple per group, the group keys (as in `MetricRow.key`) then
    impressions, clicks (ints), spend, conversions, revenue (floats, the organization's
    currency)."""

    currency: str
    rows: list[tuple[Any, ...]]
    warnings: list[str]


def get_metric_sums(organization: Organization, query: MetricQuery) -> MetricSums:
    """The sums of `get_metric_report` for the same query, as tuples of ints and floats.

    No comparison, ordering, paging or labels: the groups come in no particular order.
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

    def money(column: str) -> Cast:
        expression: Any = F(column)
        if plan.multiplier is not None:
            expression = ExpressionWrapper(F(column) * plan.multiplier, output_field=_MONEY)
        return Cast(Sum(expression, output_field=_MONEY), FloatField())

    aliases = [_alias(d) for d in query.group_by]
    grouped = (
        rows_qs.values(**{_alias(d): _dimension_expression(d, source) for d in query.group_by})
        .annotate(
            s_impressions=Sum("impressions"),
            s_clicks=Sum("clicks"),
            s_spend=money("spend"),
            s_conversions=Cast(Sum("conversions"), FloatField()),
            s_revenue=money("conversion_value"),
        )
        .order_by()
        .values_list(*aliases, *(f"s_{m}" for m in MEASURES))
    )
    keys = len(aliases)
    rows = [
        (
            *row[:keys],
            int(row[keys] or 0),
            int(row[keys + 1] or 0),
            round(row[keys + 2] or 0.0, _PLACES),
            round(row[keys + 3] or 0.0, _PLACES),
            round(row[keys + 4] or 0.0, _PLACES),
        )
        for row in grouped
    ]
    return MetricSums(currency=plan.currency, rows=rows, warnings=list(plan.warnings))
