"""The built-in actions, registered by name. Each `plan` is pure: it reads the target's
current values and the rule's guardrails and says what the step would change."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from automation.engine import StepContext, StepOutcome, money
from automation.registry import ActionDefinition, register_action
from campaigns.models import ChangeKind, DeliveryStatus
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
