"""Backtest (preview): replay a rule day by day over stored metrics.

Each day is judged once, at its end, by the same `plan_pass` a live run uses, with the
cooldowns, guardrails and the effect of earlier simulated actions (a paused campaign stays
paused, a raised budget stays raised) carried from day to day. Nothing is written.

Values come from the campaign-day rollup (as they are now) or, with `as_known=True`, from
the restatement log as the platform had reported them at the end of each day
(`campaigns.selectors.daily_metrics_as_known_at`): one read per replayed day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from adplatform.models import Organization
from analytics.metrics import Metrics
from automation import selectors
from automation.engine import (
    apply_outcome,
    lookback_start,
    plan_pass,
    uses_late_data,
)
from automation.maturity import Curve, Maturity, learn_curves, settledness
from automation.registry import ACTIONS
from automation.schema import RuleDefinition
from automation.signals import load_signals
from campaigns.selectors import daily_metrics_as_known_at

MAX_BACKTEST_DAYS = 90


@dataclass(frozen=True)
class Firing:
    day: dt.date
    campaign_id: int
    campaign: str
    step: int
    action_type: str
    params: dict[str, object]
    values: dict[str, str]
    skipped: str = ""
    spend_at_stake: Decimal = Decimal(0)  # the day's spend of a campaign a step pauses
    budget_delta: Decimal = Decimal(0)


@dataclass
class BacktestResult:
    start: dt.date
    end: dt.date
    targets: int
    firings: list[Firing] = field(default_factory=list)
    # For rules with late-data conditions: how settled each account's last judged day
    # and the day before are now, by the account's learned curve.
    settledness: list[dict[str, object]] = field(default_factory=list)

    @property
    def applied(self) -> list[Firing]:
        return [f for f in self.firings if not f.skipped]

    @property
    def spend_affected(self) -> Decimal:
        return sum((f.spend_at_stake + f.budget_delta for f in self.applied), Decimal(0))

    def days(self) -> dict[dt.date, list[Firing]]:
        grouped: dict[dt.date, list[Firing]] = defaultdict(list)
        for firing in self.firings:
            grouped[firing.day].append(firing)
        return dict(grouped)


def _known_values(
    organization: Organization,
    *,
    campaign_ids: set[int],
    at: dt.datetime,
    start: dt.date,
    end: dt.date,
) -> selectors.DailyValues:
    values: dict[int, dict[dt.date, Metrics]] = defaultdict(dict)
    for row in daily_metrics_as_known_at(organization, at=at, start=start, end=end):
        if row.campaign_id not in campaign_ids:
            continue
        day = values[row.campaign_id]
        day[row.date] = day.get(row.date, Metrics()) + Metrics(
            impressions=row.impressions, clicks=row.clicks, spend=row.spend,
            conversions=row.conversions, revenue=row.conversion_value,
        )  # fmt: skip
    return values


def _maturity_at(
    organization: Organization, curves: dict[int, Curve], at: dt.datetime,
    known_at: dt.datetime | None = None,
) -> Maturity:  # fmt: skip
    """The clock of a tick: young days are left out as at `at`; corrections go by the age
    the values had when known (`at` for values as known then, today for stored ones)."""
    return Maturity(now=at, time_zone=organization.time_zone or "UTC", curves=curves,
                    known_at=known_at)  # fmt: skip


def backtest_rule(
    organization: Organization,
    *,
    definition: RuleDefinition,
    days: int = 14,
    end: dt.date | None = None,
    as_known: bool = False,
) -> BacktestResult:
    """Which days, targets and actions the rule would have fired over the last `days` days."""
    days = max(1, min(days, MAX_BACKTEST_DAYS))
    end = end or timezone.localdate() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=days - 1)
    targets = selectors.list_targets(organization, definition.scope)
    result = BacktestResult(start=start, end=end, targets=len(targets))
    first = lookback_start(definition, start)
    stored = None if as_known else selectors.campaign_day_metrics(
        organization, scope=definition.scope, start=first, end=end
    )  # fmt: skip
    state = {target.campaign_id: target for target in targets}
    # Late-data conditions judge each tick as a live run would at that moment. Corrections
    # apply to values as they were known then; today's stored values are settled already.
    late = uses_late_data(definition)
    accounts = {target.ad_account_id for target in targets}
    today = timezone.now()
    curves = learn_curves(organization, ad_account_ids=accounts, now=today) if late else {}
    if late:
        result.settledness = settledness(
            _maturity_at(organization, curves, today), accounts, [end, end - dt.timedelta(days=1)]
        )
    last_acted: dict[int, dt.datetime] = {}
    day = start
    while day <= end:
        tick = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        values = stored if stored is not None else _known_values(
            organization, campaign_ids=set(state), at=tick, start=first, end=day
        )  # fmt: skip
        plan = plan_pass(
            definition, targets=list(state.values()), daily_values=values, as_of=day,
            now=tick, last_acted=last_acted,
            maturity=_maturity_at(organization, curves, tick, None if as_known else today)
            if late
            else None,
            signals=load_signals(organization.pk, definition, state, now=tick, replay=True),
        )  # fmt: skip
        for target_plan in plan.plans:
            target = target_plan.target
            spend_today = values.get(target.campaign_id, {}).get(day, Metrics()).spend
            for step in target_plan.steps:
                outcome = step.outcome
                result.firings.append(
                    Firing(
                        day=day, campaign_id=target.campaign_id, campaign=target.name,
                        step=step.step, action_type=step.action_type, params=outcome.params,
                        values=target_plan.values, skipped=outcome.skip_reason,
                        spend_at_stake=spend_today if outcome.kind == "pause" and not outcome.is_skipped else Decimal(0),
                        budget_delta=outcome.budget_delta,
                    )
                )  # fmt: skip
                if not outcome.is_skipped and ACTIONS[step.action_type].changes_campaign:
                    state[target.campaign_id] = apply_outcome(state[target.campaign_id], outcome)
                    last_acted[target.campaign_id] = tick
        day += dt.timedelta(days=1)
    return result
