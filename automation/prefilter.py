"""The rule's conditions as a SQL prefilter, so the database returns only the campaigns
that may match and the engine judges those, not every campaign in scope.

The prefilter is a superset of the engine's judgement, never a substitute for it: the
engine (`automation.engine`) still decides on the rows returned, with exact decimals.
Every comparison is loosened by a small tolerance (the database's division is not
Python's), and whatever the SQL cannot express — metrics and signals registered by
other apps, late-data modes, equality — counts as "may match". A NULL (no value, e.g. a CPA without
conversions) is "no match" on both sides, as in the engine.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Expression, ExpressionWrapper, F, FloatField, Q, Value
from django.db.models.functions import Cast, Coalesce, NullIf

from automation.engine import Span, window_period
from automation.schema import Condition, ConditionGroup, RuleDefinition, SignalCondition

# Compared as floating point: exact enough for a prefilter (the tolerance is far above a
# double's rounding), and a ratio of two counts is never an integer division.
NUMBER: FloatField[float, float] = FloatField()
TOLERANCE = Decimal("0.000001")


def _number(expression: Expression | F | Value) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=NUMBER)


def _literal(value: int | Decimal) -> Value:
    return Value(float(value), output_field=NUMBER)


def _sum(spans: dict[Span, int], span: Span, measure: str) -> ExpressionWrapper:
    # A span without rows sums to nothing; the engine counts that as zero.
    total = Coalesce(F(f"s{spans[span]}_{measure}"), Value(0))
    return _number(Cast(total, output_field=NUMBER))


def _ratio(top: ExpressionWrapper, bottom: ExpressionWrapper, scale: int = 1) -> ExpressionWrapper:
    return _number(top * _literal(scale) / NullIf(bottom, _literal(0)))


def _metric(name: str, spans: dict[Span, int], span: Span) -> ExpressionWrapper | None:
    """The metric over `span` in SQL, or None if the prefilter does not know it."""

    def measure(measure: str) -> ExpressionWrapper:
        return _sum(spans, span, measure)

    if name in ("impressions", "clicks", "spend", "conversions", "revenue"):
        return measure(name)
    ratios = {
        "ctr": ("clicks", "impressions", 1), "cpc": ("spend", "clicks", 1),
        "cpm": ("spend", "impressions", 1000), "cvr": ("conversions", "clicks", 1),
        "cpa": ("spend", "conversions", 1), "roas": ("revenue", "spend", 1),
    }  # fmt: skip
    if name in ratios:
        top, bottom, scale = ratios[name]
        return _ratio(measure(top), measure(bottom), scale)
    if name == "budget_spent_pct":
        days = (span[1] - span[0]).days + 1
        budget = _number(Cast(F("daily_budget"), output_field=NUMBER) * _literal(days))
        return _ratio(measure("spend"), budget, 100)
    return None


class _Builder:
    """Builds the HAVING condition; each compared expression becomes an annotation
    (`pf<n>`) the condition names, as Django filters on annotations."""

    def __init__(self, spans: dict[Span, int], as_of: dt.date, prefix: str) -> None:
        self.spans, self.as_of, self.prefix = spans, as_of, prefix
        self.annotations: dict[str, ExpressionWrapper] = {}

    def compare(self, left: ExpressionWrapper, operator: str, value: Decimal) -> Q | None:
        slack = abs(value) * TOLERANCE + TOLERANCE
        lookups = {"gt": ("gte", -slack), "gte": ("gte", -slack), "lt": ("lte", slack),
                   "lte": ("lte", slack)}  # fmt: skip
        if operator not in lookups:
            return None  # eq / neq: left to the engine
        lookup, shift = lookups[operator]
        alias = f"{self.prefix}pf{len(self.annotations)}"
        self.annotations[alias] = left
        return Q(**{f"{alias}__{lookup}": float(value + shift)})

    def leaf(self, condition: Condition | SignalCondition) -> Q | None:
        if isinstance(condition, SignalCondition):
            return None  # judged on data other apps hold: "may match"
        if condition.data != "as_reported" or condition.other_metric is not None:
            return None
        current = _metric(condition.metric, self.spans, window_period(condition.window, self.as_of))
        if current is None or condition.value is None:
            return None
        if not condition.compare_to_previous:
            return self.compare(current, condition.operator, condition.value)
        previous = window_period(condition.window, self.as_of, previous=True)
        before = _metric(condition.metric, self.spans, previous)
        if before is None:
            return None
        change = _number((current - before) * _literal(100) / NullIf(before, _literal(0)))
        return self.compare(change, condition.operator, condition.value)

    def group(
        self, operator: str, items: list[Condition | SignalCondition | ConditionGroup]
    ) -> Q | None:
        parts = [
            self.group(item.operator, list(item.items))
            if isinstance(item, ConditionGroup)
            else self.leaf(item)
            for item in items
        ]
        known = [part for part in parts if part is not None]
        if operator == "or" and len(known) < len(parts):
            return None  # an unknown branch may match whatever the others say
        if not known:
            return None
        combined = known[0]
        for part in known[1:]:
            combined = combined | part if operator == "or" else combined & part
        return combined


def prefilter(
    definition: RuleDefinition, as_of: dt.date, spans: list[Span], *, prefix: str = ""
) -> tuple[Q, dict[str, ExpressionWrapper]] | None:
    """A HAVING condition over the span sums (`s<index>_<measure>`) that every campaign
    the engine could match satisfies, with the annotations it names; None: no filter."""
    index = {span: position for position, span in enumerate(spans)}
    builder = _Builder(index, as_of, prefix)
    conditions = definition.conditions
    having = builder.group(conditions.operator, list(conditions.items))
    minimum = conditions.minimum_data
    if minimum is not None:
        span = window_period(minimum.window, as_of)
        for measure, least in (("impressions", minimum.impressions), ("clicks", minimum.clicks),
                               ("spend", minimum.spend), ("conversions", minimum.conversions)):  # fmt: skip
            floor = (
                builder.compare(_sum(index, span, measure), "gte", Decimal(least))
                if least
                else None
            )
            if floor is not None:
                having = floor if having is None else having & floor
    if having is None:
        return None
    return having, builder.annotations
