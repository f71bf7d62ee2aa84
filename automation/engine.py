"""The rule engine's pure core: judge targets over daily values and plan each step.

No database here. The live run (`automation.services.execution`) and the backtest
(`automation.services.backtest`) both call `plan_pass` with the values they read, so a
preview and a live run on the same data decide the same things.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from analytics.metrics import BASE_METRICS, Metrics
from automation.maturity import AGES, Maturity
from automation.registry import ACTIONS, CONDITION_METRICS
from automation.schema import (
    WINDOWS,
    Condition,
    ConditionGroup,
    Guardrails,
    MinimumData,
    RuleDefinition,
    SignalCondition,
)

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "neq": operator.ne,
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Target:
    campaign_id: int
    name: str
    ad_account_id: int
    platform: str
    status: str
    daily_budget: Decimal | None
    bid_amount: Decimal | None
    bid_strategy: str


@dataclass(frozen=True)
class StepContext:
    target: Target
    params: dict[str, Any]
    guardrails: Guardrails


@dataclass(frozen=True)
class StepOutcome:
    """What a step would do: a campaign change (`kind` + `params`), a notification, or a
    skip with the reason. `expected_before` is the compare-and-set guard."""

    kind: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    expected_before: dict[str, str] | None = None
    skip_reason: str = ""
    verdict: dict[str, Any] = field(default_factory=dict)
    # Change of daily budget (new − old) for budget steps; spend at stake for pauses.
    budget_delta: Decimal = Decimal(0)

    @property
    def is_skipped(self) -> bool:
        return bool(self.skip_reason)


@dataclass(frozen=True)
class PlannedStep:
    step: int
    action_type: str
    stop_on_failure: bool
    outcome: StepOutcome


@dataclass(frozen=True)
class TargetPlan:
    target: Target
    values: dict[str, str]
    steps: list[PlannedStep]


@dataclass(frozen=True)
class PassPlan:
    as_of: dt.date
    targets_evaluated: int
    plans: list[TargetPlan]


Span = tuple[dt.date, dt.date]


class WindowSums(dict[Span, Metrics]):
    """A target's measures already summed (in SQL) over each span a rule's windows need,
    given to the engine in place of its day-by-day values: a live pass then moves one row
    per target out of the database instead of one per target and day."""


DailyValues = Mapping[int, Mapping[dt.date, Metrics] | WindowSums]
# Signal condition key (`SignalCondition.key`) -> campaign id -> evidence, loaded for the
# pass (`automation.signals.load_signals`); a campaign left out does not match.
Signals = Mapping[str, Mapping[int, str]]
NOTHING = Metrics()


# --- Windows and values ----------------------------------------------------------------------
@lru_cache(maxsize=4096)  # a pass asks for the same few windows of one day per target
def window_period(
    window: str, as_of: dt.date, *, previous: bool = False
) -> tuple[dt.date, dt.date]:
    first_back, last_back = WINDOWS[window]
    start, end = as_of - dt.timedelta(days=first_back), as_of - dt.timedelta(days=last_back)
    if previous:
        length = (end - start).days + 1
        start, end = start - dt.timedelta(days=length), end - dt.timedelta(days=length)
    return start, end


def lookback_start(definition: RuleDefinition, as_of: dt.date) -> dt.date:
    """The first day any condition of the rule needs."""
    starts = [as_of]
    for condition in _conditions(definition):
        starts.append(
            window_period(condition.window, as_of, previous=condition.compare_to_previous)[0]
        )
    if definition.conditions.minimum_data:
        starts.append(window_period(definition.conditions.minimum_data.window, as_of)[0])
    return min(starts)


def needed_spans(
    definition: RuleDefinition, as_of: dt.date, maturity: Maturity | None = None
) -> list[Span]:
    """Every (first day, last day) the rule's conditions and minimum-data guard sum over."""
    spans: set[Span] = set()
    for condition in _conditions(definition):
        for previous in (False, True) if condition.compare_to_previous else (False,):
            window = window_period(condition.window, as_of, previous=previous)
            spans.update(_late_spans(condition, window, maturity))
    if definition.conditions.minimum_data:
        spans.add(window_period(definition.conditions.minimum_data.window, as_of))
    return sorted(spans)


def needed_measures(
    definition: RuleDefinition, as_of: dt.date, maturity: Maturity | None = None
) -> dict[Span, frozenset[str]]:
    """The measures the rule reads over each span of `needed_spans`: a pass sums only
    those (a measure it does not read stays zero in the sums it is given)."""
    needed: dict[Span, set[str]] = defaultdict(set)
    for condition in _conditions(definition):
        measures: set[str] = set()
        for name in (condition.metric, condition.other_metric):
            if name is not None:
                known = CONDITION_METRICS[name].measures
                measures |= set(BASE_METRICS) if known is None else known
        for previous in (False, True) if condition.compare_to_previous else (False,):
            window = window_period(condition.window, as_of, previous=previous)
            for span in _late_spans(condition, window, maturity):
                needed[span] |= measures
    minimum = definition.conditions.minimum_data
    if minimum:  # `_enough_data` compares all four, whatever their floors
        needed[window_period(minimum.window, as_of)] |= {
            "impressions", "clicks", "spend", "conversions"
        }  # fmt: skip
    return {span: frozenset(measures) for span, measures in needed.items()}


def _late_spans(condition: Condition, window: Span, maturity: Maturity | None) -> list[Span]:
    """The spans a condition's window is summed over once its late-data mode is applied:
    the window itself; its settled part ("settled"); or its settled part and each recent
    day on its own, to be corrected day by day ("corrected")."""
    start, end = window
    if maturity is None or condition.data == "as_reported":
        return [window]
    if condition.data == "settled":
        end = min(end, maturity.last_settled_day(condition.settled_after_hours))
        return [(start, end)] if start <= end else []
    settled_end = min(end, maturity.last_settled_day(AGES[-1]))
    spans = [(start, settled_end)] if start <= settled_end else []
    day = max(start, settled_end + dt.timedelta(days=1))
    while day <= end:
        spans.append((day, day))
        day += dt.timedelta(days=1)
    return spans


def uses_late_data(definition: RuleDefinition) -> str:
    """ "corrected" if a condition needs the learned curves, "settled" if one only drops
    young days, "" if every condition judges data as reported."""
    modes = {condition.data for condition in _conditions(definition)}
    return "corrected" if "corrected" in modes else "settled" if "settled" in modes else ""


def _conditions(definition: RuleDefinition) -> list[Condition]:
    """The metric conditions (signal conditions need no windows of metrics)."""
    found: list[Condition | SignalCondition] = []
    for item in definition.conditions.items:
        found.extend(item.items if isinstance(item, ConditionGroup) else [item])
    return [condition for condition in found if isinstance(condition, Condition)]


def _summed(days: Mapping[Any, Metrics], start: dt.date, end: dt.date) -> Metrics:
    if isinstance(days, WindowSums):
        return days.get((start, end), NOTHING)
    total = Metrics()
    for day, metrics in days.items():
        if start <= day <= end:
            total = total + metrics
    return total


def _metric(
    name: str, window: str, target: Target, days: Mapping[Any, Metrics], as_of: dt.date,
    *, previous: bool = False, condition: Condition | None = None,
    maturity: Maturity | None = None,
) -> Decimal | int | None:  # fmt: skip
    start, end = window_period(window, as_of, previous=previous)
    length = (end - start).days + 1
    if condition is None or maturity is None or condition.data == "as_reported":
        return CONDITION_METRICS[name].compute(_summed(days, start, end), target, length)
    spans = _late_spans(condition, (start, end), maturity)
    if not spans:
        return None  # nothing in the window is settled yet: no judgement
    total = Metrics()
    for span_start, span_end in spans:
        part = _summed(days, span_start, span_end)
        if condition.data == "corrected" and span_start == span_end:
            share_c = maturity.share(target.ad_account_id, span_start, "conversions")
            share_r = maturity.share(target.ad_account_id, span_start, "revenue")
            part = replace(
                part, conversions=part.conversions / share_c, revenue=part.revenue / share_r
            )
        total = total + part
    if condition.data == "settled":
        length = (spans[-1][1] - start).days + 1
    return CONDITION_METRICS[name].compute(total, target, length)


def _judge(
    condition: Condition, target: Target, days: Mapping[Any, Metrics], as_of: dt.date,
    values: dict[str, str] | None, maturity: Maturity | None = None,
) -> bool:  # fmt: skip
    """Is the condition true for the target? `values`, when given, collects the evidence
    (left out on the first judgement of every target: most match nothing)."""
    current = _metric(condition.metric, condition.window, target, days, as_of,
                      condition=condition, maturity=maturity)  # fmt: skip
    label = f"{condition.metric}:{condition.window}"
    if condition.data != "as_reported":
        label = f"{label}:{condition.data}"
    if values is not None:
        values[label] = str(current)
    if current is None:
        return False  # no value (e.g. CPA without conversions) proves nothing
    if condition.compare_to_previous:
        before = _metric(
            condition.metric, condition.window, target, days, as_of, previous=True,
            condition=condition, maturity=maturity,
        )  # fmt: skip
        if values is not None:
            values[f"{label}:previous"] = str(before)
        if not before:
            return False
        left: Decimal | int = (Decimal(current) - Decimal(before)) * 100 / Decimal(before)
        if values is not None:
            values[f"{label}:change_pct"] = str(left)
        right: Decimal | int | None = condition.value
    elif condition.other_metric is not None:
        other = _metric(condition.other_metric, condition.window, target, days, as_of,
                        condition=condition, maturity=maturity)  # fmt: skip
        if values is not None:
            values[f"{condition.other_metric}:{condition.window}"] = str(other)
        if other is None:
            return False
        left, right = current, Decimal(other) * condition.multiplier
    else:
        left, right = current, condition.value
    return COMPARE[condition.operator](Decimal(left), Decimal(right))  # type: ignore[arg-type]


def _judge_signal(
    condition: SignalCondition, target: Target, signals: Signals | None,
    values: dict[str, str] | None,
) -> bool:  # fmt: skip
    # Without loaded signals (a replay of past days) a signal condition does not hold.
    evidence = (signals or {}).get(condition.key(), {}).get(target.campaign_id)
    if values is not None:
        values[condition.label()] = evidence if evidence is not None else "no match"
    return evidence is not None


def _enough_data(minimum: MinimumData | None, days: Mapping[Any, Metrics], as_of: dt.date) -> bool:
    if minimum is None:
        return True
    total = _summed(days, *window_period(minimum.window, as_of))
    return (
        total.impressions >= minimum.impressions
        and total.clicks >= minimum.clicks
        and total.spend >= minimum.spend
        and total.conversions >= minimum.conversions
    )


def evaluate_target(
    definition: RuleDefinition,
    target: Target,
    days: Mapping[Any, Metrics],
    as_of: dt.date,
    *,
    local_hour: int | None = None,
    maturity: Maturity | None = None,
    signals: Signals | None = None,
) -> dict[str, str] | None:
    """The values that made the rule's conditions true for `target`, or None.

    `local_hour` None (a day-by-day replay) counts as inside the rule's hours.
    """
    hours = definition.conditions.hours
    if hours is not None and local_hour is not None and not hours.contains(local_hour):
        return None
    if not _enough_data(definition.conditions.minimum_data, days, as_of):
        return None

    def group(op: str, items: list[Any], values: dict[str, str] | None) -> bool:
        # Every condition is judged (no short circuit) so the evidence is complete.
        results = [
            group(item.operator, item.items, values)
            if isinstance(item, ConditionGroup)
            else _judge_signal(item, target, signals, values)
            if isinstance(item, SignalCondition)
            else _judge(item, target, days, as_of, values, maturity)
            for item in items
        ]
        return all(results) if op == "and" else any(results)

    conditions = definition.conditions
    if not group(conditions.operator, conditions.items, None):
        return None
    values: dict[str, str] = {}
    group(conditions.operator, conditions.items, values)
    return values


# --- Planning --------------------------------------------------------------------------------
def plan_pass(
    definition: RuleDefinition,
    *,
    targets: list[Target],
    daily_values: DailyValues,
    as_of: dt.date,
    now: dt.datetime,
    last_acted: Mapping[int, dt.datetime],
    local_hour: int | None = None,
    maturity: Maturity | None = None,
    signals: Signals | None = None,
) -> PassPlan:
    """Judge every target and plan its action chain under the rule's guardrails."""
    guardrails = definition.guardrails
    cooldown = dt.timedelta(hours=guardrails.cooldown_hours)
    acted = 0
    plans: list[TargetPlan] = []
    for target in targets:
        days = daily_values.get(target.campaign_id, {})
        values = evaluate_target(
            definition, target, days, as_of, local_hour=local_hour, maturity=maturity,
            signals=signals,
        )  # fmt: skip
        if values is None:
            continue
        steps: list[PlannedStep] = []
        state = target
        changes_here = False
        for index, step in enumerate(definition.actions):
            action = ACTIONS[step.type]
            outcome = action.plan(
                StepContext(target=state, params=step.params(), guardrails=guardrails)
            )
            if not outcome.is_skipped and action.changes_campaign:
                last = last_acted.get(target.campaign_id)
                if cooldown and last is not None and now - last < cooldown:
                    outcome = skip_outcome(outcome, "cooldown", f"Acted on at {last.isoformat()}; "
                                    f"cooldown {guardrails.cooldown_hours} h.")  # fmt: skip
                elif not changes_here and acted >= guardrails.max_actions_per_run:
                    outcome = skip_outcome(outcome, "max_actions_per_run",
                                    f"This run already changed {acted} campaigns.")  # fmt: skip
                else:
                    if not changes_here:
                        acted += 1
                    changes_here = True
                    state = apply_outcome(state, outcome)
            steps.append(PlannedStep(index, step.type, step.stop_on_failure, outcome))
            if outcome.is_skipped and step.stop_on_failure:
                break
        plans.append(TargetPlan(target=target, values=values, steps=steps))
    return PassPlan(as_of=as_of, targets_evaluated=len(targets), plans=plans)


def skip_outcome(outcome: StepOutcome, check: str, reason: str) -> StepOutcome:
    verdict = {**outcome.verdict, "allowed": False, "check": check, "reason": reason}
    return replace(outcome, skip_reason=reason, verdict=verdict)


def apply_outcome(target: Target, outcome: StepOutcome) -> Target:
    """The target as it would be after the step (for the next step and for replays)."""
    if outcome.is_skipped or outcome.kind is None:
        return target
    if outcome.kind in ("pause", "activate"):
        return replace(target, status="paused" if outcome.kind == "pause" else "active")
    if outcome.kind == "daily_budget":
        return replace(target, daily_budget=Decimal(outcome.params["daily_budget"]))
    if outcome.kind == "bid":
        return replace(target, bid_amount=Decimal(outcome.params["bid_amount"]))
    return target


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
