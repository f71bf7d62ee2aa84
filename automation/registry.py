"""Registries of what a rule can look at (condition metrics) and do (actions), by name.

Downstream apps (agents) register their own entries at start-up, e.g. an "AI
recommendation" metric and an "AI optimize" action; the engine and the validation only
ever look names up here, so new entries need no change in automation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from analytics.metrics import ALL_METRICS, Metrics

if TYPE_CHECKING:
    from automation.engine import StepContext, StepOutcome, Target


MetricFunction = Callable[["Metrics", "Target", int], "Decimal | int | None"]


@dataclass(frozen=True)
class ConditionMetric:
    name: str
    label: str
    # (summed measures over the window, the target, the window's length in days)
    compute: MetricFunction
    # The measures `compute` reads (a live pass sums only those); None: all of them.
    measures: frozenset[str] | None = None


@dataclass(frozen=True)
class ActionDefinition:
    name: str
    label: str
    params: type[BaseModel]
    # Plans the step against the target's current values (pure: no writes).
    plan: Callable[[StepContext], StepOutcome]
    changes_campaign: bool = True
    # Carries the step out when a plan alone cannot say what to change (which ad to pause
    # is chosen on ad-level data at run time). Called with keyword arguments rule, action
    # (the claimed RuleAction, whose idempotency_key prefixes every change made), campaign
    # and outcome; returns the step's main CampaignChange, raises ActionSkipped when there is
    # nothing to do, CampaignChangeError when the request is refused. None: the engine sends
    # the outcome's kind and params to `campaigns.services.request_campaign_change`.
    execute: Callable[..., Any] | None = None


class ActionSkipped(Exception):
    """An action's `execute` found nothing to do (e.g. no paused ad to rotate in)."""


@dataclass(frozen=True)
class SignalQuery:
    """What a signal's loader is asked for one rule's pass: which of these campaigns of
    this organization the condition (`params`, already validated) holds for at `now`."""

    organization_id: int
    campaign_ids: list[int]
    params: BaseModel
    now: dt.datetime
    # A backtest tick: answer as the facts stood at `now` (e.g. which recommendations were
    # open then), not as they stand today.
    replay: bool = False


@dataclass(frozen=True)
class ConditionSignal:
    """A condition judged on facts another app holds rather than on metrics (an agent's
    open recommendation). Metric hooks see one target's sums and cannot read the
    database, so a signal is loaded once per rule and pass for all its targets (`load`:
    one query, never one per target) and the pure engine only looks its answer up."""

    name: str
    label: str
    # The condition's fields besides `signal`, validated with the rule.
    params: type[BaseModel]
    # campaign id -> the evidence of the match (recorded in the action's trigger values);
    # campaigns the condition does not hold for are left out.
    load: Callable[[SignalQuery], dict[int, str]]


CONDITION_METRICS: dict[str, ConditionMetric] = {}
CONDITION_SIGNALS: dict[str, ConditionSignal] = {}
ACTIONS: dict[str, ActionDefinition] = {}


def register_signal(signal: ConditionSignal) -> None:
    CONDITION_SIGNALS[signal.name] = signal


def register_metric(metric: ConditionMetric) -> None:
    CONDITION_METRICS[metric.name] = metric


def register_action(action: ActionDefinition) -> None:
    ACTIONS[action.name] = action


def _measure(name: str) -> MetricFunction:
    return lambda metrics, target, days: metrics.value(name)


def _budget_spent_pct(metrics: Metrics, target: Target, days: int) -> Decimal | None:
    if not target.daily_budget:
        return None
    return metrics.spend * 100 / (target.daily_budget * days)


# What each of the metrics layer's metrics is computed from.
_MEASURES_OF = {
    "ctr": ("clicks", "impressions"), "cpc": ("spend", "clicks"),
    "cpm": ("spend", "impressions"), "cvr": ("conversions", "clicks"),
    "cpa": ("spend", "conversions"), "roas": ("revenue", "spend"),
}  # fmt: skip

for _name in ALL_METRICS:
    register_metric(
        ConditionMetric(name=_name, label=_name.upper(), compute=_measure(_name),
                        measures=frozenset(_MEASURES_OF.get(_name, (_name,))))
    )  # fmt: skip


def _frequency(metrics: Metrics, target: Target, days: int) -> Decimal | None:
    # Impressions per person reached. Daily reach is summed over the window (people seen
    # on two days count twice), so over several days this understates the true frequency.
    if not metrics.reach:
        return None
    return Decimal(metrics.impressions) / Decimal(metrics.reach)


register_metric(
    ConditionMetric(name="frequency", label="Frequency (impressions per person reached)",
                    compute=_frequency, measures=frozenset({"impressions", "reach"}))
)  # fmt: skip
register_metric(
    ConditionMetric(
        name="budget_spent_pct",
        label="Share of the daily budget spent (%)",
        compute=_budget_spent_pct,
        measures=frozenset({"spend"}),
    )
)
