"""The built-in actions, registered by name. Each `plan` is pure: it reads the target's
current values and the rule's guardrails and says what the step would change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from analytics.metrics import Dimension, MetricFilters, MetricQuery, Metrics, Period
from analytics.selectors.metrics import get_metric_report
from automation import selectors
from automation.engine import StepContext, StepOutcome, money, window_period
from automation.models import AutomationRule, RuleAction
from automation.registry import ActionDefinition, ActionSkipped, register_action
from automation.schema import WINDOWS, Scope
from campaigns.models import Ad, Campaign, CampaignChange, ChangeKind, ChangeStatus, DeliveryStatus
from campaigns.services import Actor, activate_ad, expand_ad_group_audience, pause_ad
from campaigns.services.changes import BIDDABLE_STRATEGIES as BIDDABLE


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Percent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    percent: Decimal = Field(gt=0, le=1000)


class DecreasePercent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    percent: Decimal = Field(gt=0, lt=100)


class SignedPercent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    percent: Decimal = Field(gt=-100, le=1000)


class Amount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(gt=0, le=Decimal("100000000"))


class Notify(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    message: str = Field(default="", max_length=500)


def _status_plan(kind: str, wanted: str) -> ActionDefinition:
    def plan(context: StepContext) -> StepOutcome:
        if context.target.status == wanted:
            return StepOutcome(kind=kind, skip_reason=f"Already {wanted}.")
        return StepOutcome(kind=kind, expected_before={"status": context.target.status})

    return ActionDefinition(
        name=kind, label=f"{kind.title()} the campaign", params=NoParams, plan=plan
    )


def _budget_outcome(context: StepContext, new: Decimal) -> StepOutcome:
    current = context.target.daily_budget
    assert current is not None
    guardrails = context.guardrails
    new = money(new)
    checks: list[str] = []
    if guardrails.budget_floor is not None and new < guardrails.budget_floor:
        new = guardrails.budget_floor
        checks.append(f"raised to the floor {guardrails.budget_floor}")
    if guardrails.budget_ceiling is not None and new > guardrails.budget_ceiling:
        new = guardrails.budget_ceiling
        checks.append(f"capped at the ceiling {guardrails.budget_ceiling}")
    verdict: dict[str, object] = {
        "allowed": True,
        "checks": checks,
        "from": str(current),
        "to": str(new),
    }
    params = {"daily_budget": str(new)}
    expected = {"daily_budget": str(current)}
    if new == current:
        verdict.update(allowed=False, check="budget_bounds")
        return StepOutcome(kind=ChangeKind.DAILY_BUDGET, params=params, verdict=verdict,
                           skip_reason="The budget is already at its bound.")  # fmt: skip
    change_pct = abs(new - current) * 100 / current if current else None
    limit = guardrails.max_budget_change_pct
    if limit is not None and (change_pct is None or change_pct > limit):
        verdict.update(allowed=False, check="max_budget_change_pct")
        return StepOutcome(kind=ChangeKind.DAILY_BUDGET, params=params, verdict=verdict,
                           skip_reason=f"A change of {change_pct}% exceeds the limit of {limit}%.")  # fmt: skip
    return StepOutcome(kind=ChangeKind.DAILY_BUDGET, params=params, expected_before=expected,
                       verdict=verdict, budget_delta=new - current)  # fmt: skip


def _budget_action(name: str, label: str, params: type[BaseModel], sign: int) -> ActionDefinition:
    def plan(context: StepContext) -> StepOutcome:
        current = context.target.daily_budget
        if current is None:
            return StepOutcome(
                kind=ChangeKind.DAILY_BUDGET, skip_reason="The campaign has no daily budget."
            )
        if "amount" in context.params:
            return _budget_outcome(context, Decimal(str(context.params["amount"])))
        percent = Decimal(str(context.params["percent"]))
        return _budget_outcome(context, current * (1 + sign * percent / 100))

    return ActionDefinition(name=name, label=label, params=params, plan=plan)


def _bid_action(name: str, label: str, params: type[BaseModel]) -> ActionDefinition:
    def plan(context: StepContext) -> StepOutcome:
        target = context.target
        if target.bid_amount is None or target.bid_strategy not in BIDDABLE:
            return StepOutcome(kind=ChangeKind.BID, skip_reason="The campaign takes no bid amount.")
        if "amount" in context.params:
            new = Decimal(str(context.params["amount"]))
        else:
            new = target.bid_amount * (1 + Decimal(str(context.params["percent"])) / 100)
        new = money(new)
        if new == target.bid_amount:
            return StepOutcome(kind=ChangeKind.BID, skip_reason="The bid is unchanged.")
        return StepOutcome(
            kind=ChangeKind.BID,
            params={"bid_amount": str(new)},
            expected_before={"bid_amount": str(target.bid_amount)},
            verdict={"allowed": True, "from": str(target.bid_amount), "to": str(new)},
        )

    return ActionDefinition(name=name, label=label, params=params, plan=plan)


def _notify_plan(context: StepContext) -> StepOutcome:
    return StepOutcome(kind="notify", params=dict(context.params))


register_action(_status_plan(ChangeKind.PAUSE.value, DeliveryStatus.PAUSED.value))
register_action(_status_plan(ChangeKind.ACTIVATE.value, DeliveryStatus.ACTIVE.value))
register_action(_budget_action("increase_budget", "Increase the daily budget by %", Percent, 1))
register_action(
    _budget_action("decrease_budget", "Decrease the daily budget by %", DecreasePercent, -1)
)
register_action(_budget_action("set_budget", "Set the daily budget to an amount", Amount, 1))
register_action(_bid_action("adjust_bid", "Adjust the bid by %", SignedPercent))
register_action(_bid_action("set_bid", "Set the bid to an amount", Amount))
register_action(
    ActionDefinition(
        name="notify",
        label="Send a notification",
        params=Notify,
        plan=_notify_plan,
        changes_campaign=False,
    )  # fmt: skip
)


# --- Ad-level actions: rotate creatives, expand audience -------------------------------------
# The plan only says that the step applies (the campaign delivers); which ads and ad groups
# change is decided at run time on ad-level data (`execute`), through campaigns.services.
ROTATION_METRICS = ("ctr", "cvr", "roas", "cpa", "cpc", "cpm", "frequency")
# For these, the higher the value the worse the ad.
HIGHER_IS_WORSE = frozenset({"cpa", "cpc", "cpm", "frequency"})


class RotateCreatives(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: Literal["ctr", "cvr", "roas", "cpa", "cpc", "cpm", "frequency"] = "ctr"
    window: str = "last_7_days"
    # An ad is judged only once it has been seen this often over the window.
    min_impressions: int = Field(default=1000, ge=0, le=100_000_000)
    # With no paused ad to bring in, leave the group alone (true) or pause the worst ad
    # anyway as long as another ad keeps delivering (false).
    require_replacement: bool = True

    @field_validator("window")
    @classmethod
    def _known_window(cls, value: str) -> str:
        if value not in WINDOWS:
            raise ValueError(f"Unknown window {value!r}; choose one of {', '.join(WINDOWS)}.")
        return value


class ExpandAudience(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dimension: Literal["age_range", "lookalike", "interests"]
    # Years on each side of the age range; percentage points of a lookalike; unused for the
    # interests expansion (a switch).
    step: int = Field(default=0, ge=0, le=20)

    @model_validator(mode="after")
    def _step_fits(self) -> ExpandAudience:
        if self.dimension == "age_range" and not 1 <= self.step <= 20:
            raise ValueError("Widen the age range by 1 to 20 years on each side.")
        if self.dimension == "lookalike" and not 1 <= self.step <= 9:
            raise ValueError("Raise the lookalike by 1 to 9 percentage points.")
        return self


def _delivering_plan(kind: str) -> Callable[[StepContext], StepOutcome]:
    def plan(context: StepContext) -> StepOutcome:
        if context.target.status != DeliveryStatus.ACTIVE:
            return StepOutcome(kind=kind, skip_reason="The campaign is not delivering.")
        return StepOutcome(
            kind=kind, params=dict(context.params), verdict={"allowed": True, "level": "ad"}
        )

    return plan


def _rule_scope(rule: AutomationRule) -> Scope:
    return Scope.model_validate(rule.scope or {})


def _actor(rule: AutomationRule) -> Actor:
    return Actor.for_rule(rule.pk, rule.name)


def _reason(rule: AutomationRule, action: RuleAction, what: str) -> str:
    return f"Rule {rule.name!r} ({what}): {action.trigger_values}"


def _ad_values(
    rule: AutomationRule, campaign: Campaign, window: str, as_of: dt.date
) -> dict[int, Metrics]:
    """Each ad's summed measures over the window, from the analytics layer (one read)."""
    start, end = window_period(window, as_of)
    report = get_metric_report(
        rule.organization,
        MetricQuery(
            period=Period(start=start, end=end),
            group_by=(Dimension.AD,),
            filters=MetricFilters(campaign_ids=(campaign.pk,)),
        ),
    )
    return {int(row.key[0]): row.metrics for row in report.rows if row.key[0] is not None}


def _score(metrics: Metrics, metric: str) -> Decimal | None:
    if metric == "frequency":
        return Decimal(metrics.impressions) / metrics.reach if metrics.reach else None
    value = metrics.value(metric)
    return None if value is None else Decimal(value)


def _worst(ads: list[Ad], values: dict[int, Metrics], params: RotateCreatives) -> Ad | None:
    judged: list[tuple[Decimal, int, Ad]] = []
    for ad in ads:
        metrics = values.get(ad.pk)
        if metrics is None or metrics.impressions < params.min_impressions:
            continue
        score = _score(metrics, params.metric)
        if score is None:
            continue
        # Sort so the worst comes first: highest of a cost, lowest of a rate.
        judged.append((-score if params.metric in HIGHER_IS_WORSE else score, ad.pk, ad))
    return min(judged, key=lambda item: item[:2])[2] if judged else None


def _execute_rotation(
    *, rule: AutomationRule, action: RuleAction, campaign: Campaign, outcome: StepOutcome
) -> CampaignChange:
    """Per ad group in scope: pause the worst delivering ad by the chosen metric and bring in
    the paused ad that has rested longest. The activation waits for the pause to apply."""
    params = RotateCreatives.model_validate(outcome.params)
    organization = rule.organization
    ads = list(selectors.scoped_ads(organization, _rule_scope(rule), campaign_id=campaign.pk))
    values = _ad_values(rule, campaign, params.window, action.execution.as_of)
    rested = selectors.last_paused_at(organization, ad_ids=[ad.pk for ad in ads])
    first: CampaignChange | None = None
    reasons: list[str] = []
    for group_id in sorted({ad.ad_group_id for ad in ads}):
        group_ads = [ad for ad in ads if ad.ad_group_id == group_id]
        active = [ad for ad in group_ads if ad.status == DeliveryStatus.ACTIVE]
        paused = [ad for ad in group_ads if ad.status == DeliveryStatus.PAUSED]
        worst = _worst(active, values, params)
        if worst is None:
            reasons.append(f"ad group {group_id}: no ad with enough data to judge")
            continue
        # Paused longest ago first; ads never paused through us count as longest.
        paused.sort(key=lambda ad: (rested.get(ad.pk) is not None, rested.get(ad.pk), ad.pk))
        if not paused and (params.require_replacement or len(active) < 2):
            reasons.append(f"ad group {group_id}: no paused ad to rotate in")
            continue
        score = _score(values[worst.pk], params.metric)
        verdict = {**outcome.verdict, "metric": params.metric, "worst_value": str(score)}
        options = {"dry_run": rule.is_dry_run, "guardrail_verdict": verdict}
        paused_change = pause_ad(
            ad=worst, actor=_actor(rule), reason=_reason(rule, action, f"{params.metric} {score}"),
            idempotency_key=f"{action.idempotency_key}:ad:{worst.pk}:pause",
            expected_before={"status": DeliveryStatus.ACTIVE.value}, **options,
        )  # fmt: skip
        first = first or paused_change
        if paused_change.status not in (ChangeStatus.APPLIED, ChangeStatus.DRY_RUN):
            return paused_change  # the platform refused: the step failed, stop here
        if paused:
            started = activate_ad(
                ad=paused[0], actor=_actor(rule),
                reason=_reason(rule, action, f"replaces ad {worst.pk}"),
                idempotency_key=f"{action.idempotency_key}:ad:{paused[0].pk}:activate",
                expected_before={"status": DeliveryStatus.PAUSED.value}, **options,
            )  # fmt: skip
            if started.status not in (ChangeStatus.APPLIED, ChangeStatus.DRY_RUN):
                return started
    if first is None:
        raise ActionSkipped("Nothing to rotate: " + "; ".join(reasons or ["no ads in scope"]))
    return first


def _execute_expansion(
    *, rule: AutomationRule, action: RuleAction, campaign: Campaign, outcome: StepOutcome
) -> CampaignChange:
    """Widen every delivering ad group in scope along the chosen dimension. A platform that
    cannot widen it refuses with a field error naming the platform (the step fails)."""
    params = ExpandAudience.model_validate(outcome.params)
    groups = list(
        selectors.scoped_ad_groups(rule.organization, _rule_scope(rule), campaign_id=campaign.pk)
    )
    if not groups:
        raise ActionSkipped("No delivering ad group in scope.")
    first: CampaignChange | None = None
    for group in groups:
        change = expand_ad_group_audience(
            ad_group=group, dimension=params.dimension, step=params.step, actor=_actor(rule),
            reason=_reason(rule, action, f"widen {params.dimension}"),
            idempotency_key=f"{action.idempotency_key}:ad_group:{group.pk}",
            expected_before={"targeting": group.targeting}, dry_run=rule.is_dry_run,
            guardrail_verdict=outcome.verdict,
        )  # fmt: skip
        first = first or change
        if change.status not in (ChangeStatus.APPLIED, ChangeStatus.DRY_RUN):
            return change
    assert first is not None
    return first


register_action(
    ActionDefinition(
        name="rotate_creatives",
        label="Rotate creatives (pause the worst ad per ad group, activate the next paused one)",
        params=RotateCreatives,
        plan=_delivering_plan("rotate_creatives"),
        execute=_execute_rotation,
    )
)
register_action(
    ActionDefinition(
        name="expand_audience",
        label="Expand the audience of the ad groups (age range, lookalike %, interests)",
        params=ExpandAudience,
        plan=_delivering_plan("expand_audience"),
        execute=_execute_expansion,
    )
)
