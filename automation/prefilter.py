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
from typing import Any

from django.db.models import Expression, ExpressionWrapper, F, FloatField, Q, Value
from django.db.models.functions import Cast, Coalesce, NullIf

from automation.engine import Span, window_period
from automation.schema import Condition, ConditionGroup, RuleDefinition, SignalCondition

# Compared as floating point: exact enough for a prefilter (the tolerance is far above a
# double's rounding), and a ratio of two counts is never an integer division.
NUMBER: FloatField[float, float] = FloatField()
TOLERANCE = Decimal("0.000001")


# The condition is first built as a small tree, then rendered either as Django
# expressions (a HAVING over the ORM's aggregates) or as SQL text over a derived table of
# sums (the batched read on PostgreSQL). Nodes: ("sum", span index, measure),
# ("budget", days), ("number", value), ("times" | "minus" | "over", left, right) where
# "over" is a division by a non-zero right side, ("compare", node, lookup, value),
# ("and" | "or", parts).
Node = tuple[Any, ...]


def _metric(name: str, spans: dict[Span, int], span: Span) -> Node | None:
    """The metric over `span`, or None if the prefilter does not know it."""

    def measure(measure: str) -> Node:
        return ("sum", spans[span], measure)

    if name in ("impressions", "clicks", "spend", "conversions", "revenue"):
        return measure(name)
    ratios = {
        "ctr": ("clicks", "impressions", 1), "cpc": ("spend", "clicks", 1),
        "cpm": ("spend", "impressions", 1000), "cvr": ("conversions", "clicks", 1),
        "cpa": ("spend", "conversions", 1), "roas": ("revenue", "spend", 1),
    }  # fmt: skip
    if name in ratios:
        top, bottom, scale = ratios[name]
        return ("over", ("times", measure(top), ("number", scale)), measure(bottom))
    if name == "budget_spent_pct":
        days = (span[1] - span[0]).days + 1
        return ("over", ("times", measure("spend"), ("number", 100)), ("budget", days))
    return None


class _Builder:
    def __init__(self, spans: dict[Span, int], as_of: dt.date) -> None:
        self.spans, self.as_of = spans, as_of

    def compare(self, left: Node, operator: str, value: Decimal) -> Node | None:
        slack = abs(value) * TOLERANCE + TOLERANCE
        lookups = {"gt": ("gte", -slack), "gte": ("gte", -slack), "lt": ("lte", slack),
                   "lte": ("lte", slack)}  # fmt: skip
        if operator not in lookups:
            return None  # eq / neq: left to the engine
        lookup, shift = lookups[operator]
        return ("compare", left, lookup, float(value + shift))

    def leaf(self, condition: Condition | SignalCondition) -> Node | None:
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
        change = ("over", ("times", ("minus", current, before), ("number", 100)), before)
        return self.compare(change, condition.operator, condition.value)

    def group(
        self, operator: str, items: list[Condition | SignalCondition | ConditionGroup]
    ) -> Node | None:
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
        return known[0] if len(known) == 1 else (operator, known)


def _condition(definition: RuleDefinition, as_of: dt.date, spans: list[Span]) -> Node | None:
    """The rule's prefilter as a tree, None: no filter."""
    index = {span: position for position, span in enumerate(spans)}
    builder = _Builder(index, as_of)
    conditions = definition.conditions
    having = builder.group(conditions.operator, list(conditions.items))
    minimum = conditions.minimum_data
    if minimum is not None:
        span = window_period(minimum.window, as_of)
        for measure, least in (("impressions", minimum.impressions), ("clicks", minimum.clicks),
                               ("spend", minimum.spend), ("conversions", minimum.conversions)):  # fmt: skip
            if least:
                floor = builder.compare(("sum", index[span], measure), "gte", Decimal(least))
                having = floor if having is None else ("and", [having, floor])
    return having


# --- As Django expressions -------------------------------------------------------------------
def _number(expression: Expression | F | Value) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=NUMBER)


def _literal(value: float) -> Value:
    return Value(float(value), output_field=NUMBER)


class _Django:
    """Renders a tree as a Q over annotations: each compared expression becomes an
    annotation (`pf<n>`) the condition names, as Django filters on annotations."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.annotations: dict[str, ExpressionWrapper | Value] = {}

    def expression(self, node: Node) -> ExpressionWrapper | Value:
        kind = node[0]
        if kind == "sum":
            # A span without rows sums to nothing; the engine counts that as zero.
            total = Coalesce(F(f"s{node[1]}_{node[2]}"), Value(0))
            return _number(Cast(total, output_field=NUMBER))
        if kind == "budget":
            return _number(Cast(F("daily_budget"), output_field=NUMBER) * _literal(node[1]))
        if kind == "number":
            return _literal(node[1])
        left, right = self.expression(node[1]), self.expression(node[2])
        if kind == "times":
            return _number(left * right)
        if kind == "minus":
            return _number(left - right)
        return _number(left / NullIf(right, _literal(0)))

    def condition(self, node: Node) -> Q:
        kind = node[0]
        if kind == "compare":
            alias = f"{self.prefix}pf{len(self.annotations)}"
            self.annotations[alias] = self.expression(node[1])
            return Q(**{f"{alias}__{node[2]}": node[3]})
        parts = [self.condition(part) for part in node[1]]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined | part if kind == "or" else combined & part
        return combined


def prefilter(
    definition: RuleDefinition, as_of: dt.date, spans: list[Span], *, prefix: str = ""
) -> tuple[Q, dict[str, ExpressionWrapper | Value]] | None:
    """A HAVING condition over the span sums (`s<index>_<measure>`) that every campaign
    the engine could match satisfies, with the annotations it names; None: no filter."""
    tree = _condition(definition, as_of, spans)
    if tree is None:
        return None
    django = _Django(prefix)
    return django.condition(tree), django.annotations


# --- As SQL text -----------------------------------------------------------------------------
def _sql(node: Node, params: list[Any], *, sums: str, budget: str) -> str:
    kind = node[0]
    if kind == "sum":
        return f'CAST(COALESCE({sums}."s{node[1]}_{node[2]}", 0) AS DOUBLE PRECISION)'
    if kind == "budget":
        params.append(float(node[1]))
        return f"(CAST({budget} AS DOUBLE PRECISION) * %s)"
    if kind == "number":
        params.append(float(node[1]))
        return "%s"
    if kind == "compare":
        left = _sql(node[1], params, sums=sums, budget=budget)
        params.append(node[3])
        return f"({left} {'>=' if node[2] == 'gte' else '<='} %s)"
    if kind in ("and", "or"):
        parts = [_sql(part, params, sums=sums, budget=budget) for part in node[1]]
        return "(" + f" {kind.upper()} ".join(parts) + ")"
    left = _sql(node[1], params, sums=sums, budget=budget)
    right = _sql(node[2], params, sums=sums, budget=budget)
    if kind == "times":
        return f"({left} * {right})"
    if kind == "minus":
        return f"({left} - {right})"
    params.append(0.0)
    return f"({left} / NULLIF({right}, %s))"


def prefilter_sql(
    definition: RuleDefinition, as_of: dt.date, spans: list[Span], *, sums: str, budget: str
) -> tuple[str, list[Any]] | None:
    """`prefilter` as a SQL condition and its parameters, over a relation `sums` whose
    columns are the span sums (`s<index>_<measure>`, NULL for no rows) and the daily
    budget column `budget`; NULL (a ratio without a denominator) is "no match", as in
    the engine. None: no filter."""
    tree = _condition(definition, as_of, spans)
    if tree is None:
        return None
    params: list[Any] = []
    return _sql(tree, params, sums=sums, budget=budget), params
