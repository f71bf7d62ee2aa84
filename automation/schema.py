"""The shape of a rule's JSON fields, validated with pydantic at the boundary.

`validate_rule_definition` returns field errors keyed by dotted paths
("conditions.items.0.metric") so the API and the builder form can show them in place.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from automation.registry import ACTIONS, CONDITION_METRICS, CONDITION_SIGNALS
from integrations.vocabulary import Platform

# Name -> (first day back, last day back) relative to the evaluated day ("as of").
WINDOWS: dict[str, tuple[int, int]] = {
    "today": (0, 0),
    "yesterday": (1, 1),
    "last_3_days": (3, 1),
    "last_7_days": (7, 1),
    "last_14_days": (14, 1),
    "last_30_days": (30, 1),
}
OPERATORS = ("gt", "gte", "lt", "lte", "eq", "neq")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Condition(_Strict):
    """`metric` over `window` compared with a value, another metric (times a multiplier),
    or — with `compare_to_previous` — its % change against the window just before."""

    metric: str
    window: str = "last_7_days"
    operator: Literal["gt", "gte", "lt", "lte", "eq", "neq"]
    value: Decimal | None = None
    other_metric: str | None = None
    multiplier: Decimal = Field(default=Decimal(1), gt=0, le=1000)
    compare_to_previous: bool = False
    # Late data (platforms restate recent days): "as_reported" judges what the platform
    # says now; "settled" leaves out days that ended less than `settled_after_hours` ago;
    # "corrected" divides each recent day's conversions and revenue by the share of them
    # the account usually has reported at that day's age (`automation.maturity`).
    data: Literal["as_reported", "settled", "corrected"] = "as_reported"
    settled_after_hours: int = Field(default=24, ge=1, le=168)

    @field_validator("metric", "other_metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        if value is not None and value not in CONDITION_METRICS:
            raise ValueError(
                f"Unknown metric {value!r}; choose one of {', '.join(sorted(CONDITION_METRICS))}."
            )
        return value

    @field_validator("window")
    @classmethod
    def _known_window(cls, value: str) -> str:
        if value not in WINDOWS:
            raise ValueError(f"Unknown window {value!r}; choose one of {', '.join(WINDOWS)}.")
        return value

    @model_validator(mode="after")
    def _one_comparand(self) -> Condition:
        if (self.value is None) == (self.other_metric is None):
            raise ValueError("Give either a value or another metric to compare with.")
        if self.compare_to_previous and self.value is None:
            raise ValueError("A change against the previous window is compared with a value (%).")
        return self


class SignalCondition(BaseModel):
    """A condition on a signal another app registers (`automation.registry.register_signal`),
    e.g. `{"signal": "ai_recommendation", "action": "pause", "min_confidence": 0.8}`; its
    other fields are the signal's parameters, validated against the signal's model."""

    model_config = ConfigDict(extra="allow")

    signal: str

    @field_validator("signal")
    @classmethod
    def _known_signal(cls, value: str) -> str:
        if value not in CONDITION_SIGNALS:
            known = ", ".join(sorted(CONDITION_SIGNALS)) or "none"
            raise ValueError(f"Unknown signal {value!r}; choose one of {known}.")
        return value

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def key(self) -> str:
        """Names the condition within a pass (two equal conditions share one load)."""
        return json.dumps({"signal": self.signal, **self.params()}, sort_keys=True, default=str)

    def label(self) -> str:
        return ":".join(
            str(part) for part in (self.signal, self.params().get("action")) if part is not None
        )


def _leaf_kind(value: Any) -> str:
    has_signal = "signal" in value if isinstance(value, dict) else hasattr(value, "signal")
    return "signal_condition" if has_signal else "condition"


LeafCondition = Annotated[
    Annotated[Condition, Tag("condition")] | Annotated[SignalCondition, Tag("signal_condition")],
    Discriminator(_leaf_kind),
]


class ConditionGroup(_Strict):
    operator: Literal["and", "or"] = "and"
    items: list[LeafCondition] = Field(min_length=1, max_length=20)

    @model_validator(mode="before")
    @classmethod
    def _one_level(cls, data: Any) -> Any:
        items = data.get("items") if isinstance(data, dict) else None
        if isinstance(items, list) and any(isinstance(i, dict) and "items" in i for i in items):
            raise ValueError("Groups nest one level: a group holds conditions, not groups.")
        return data


class MinimumData(_Strict):
    """Judge a target only once its data says something (over `window`)."""

    window: str = "last_7_days"
    impressions: int = Field(default=0, ge=0)
    clicks: int = Field(default=0, ge=0)
    spend: Decimal = Field(default=Decimal(0), ge=0)
    conversions: Decimal = Field(default=Decimal(0), ge=0)

    @field_validator("window")
    @classmethod
    def _known_window(cls, value: str) -> str:
        return Condition._known_window(value)


class Hours(_Strict):
    """Local hours (organization time zone) in which the rule may act; may wrap midnight."""

    start: int = Field(ge=0, le=23)
    end: int = Field(ge=0, le=23)

    def contains(self, hour: int) -> bool:
        if self.start <= self.end:
            return self.start <= hour <= self.end
        return hour >= self.start or hour <= self.end


def _item_kind(value: Any) -> str:
    items = value.get("items") if isinstance(value, dict) else getattr(value, "items", None)
    return "group" if isinstance(items, list) else _leaf_kind(value)


ConditionItem = Annotated[
    Annotated[Condition, Tag("condition")]
    | Annotated[SignalCondition, Tag("signal_condition")]
    | Annotated[ConditionGroup, Tag("group")],
    Discriminator(_item_kind),
]


class Conditions(_Strict):
    operator: Literal["and", "or"] = "and"
    # Groups nest one level: a group holds conditions only.
    items: list[ConditionItem] = Field(min_length=1, max_length=20)
    minimum_data: MinimumData | None = None
    hours: Hours | None = None


class ActionStep(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    stop_on_failure: bool = True

    @field_validator("type")
    @classmethod
    def _known_action(cls, value: str) -> str:
        if value not in ACTIONS:
            raise ValueError(
                f"Unknown action {value!r}; choose one of {', '.join(sorted(ACTIONS))}."
            )
        return value

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ScopeFilter(_Strict):
    platforms: list[str] = Field(default_factory=list)
    ad_account_ids: list[int] = Field(default_factory=list, max_length=10000)
    campaign_ids: list[int] = Field(default_factory=list, max_length=10000)
    # Ad groups and ads: included ones make their campaigns targets and confine ad-level
    # actions (rotate creatives, expand audience) to them; excluded ones are left alone.
    ad_group_ids: list[int] = Field(default_factory=list, max_length=10000)
    ad_ids: list[int] = Field(default_factory=list, max_length=10000)

    @field_validator("platforms")
    @classmethod
    def _known_platforms(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(Platform.values))
        if unknown:
            raise ValueError(
                f"Unknown platform(s) {', '.join(unknown)}; choose from {', '.join(Platform.values)}."
            )
        return value


class Scope(_Strict):
    include: ScopeFilter = Field(default_factory=ScopeFilter)
    exclude: ScopeFilter = Field(default_factory=ScopeFilter)


class Guardrails(_Strict):
    max_budget_change_pct: Decimal | None = Field(default=None, gt=0, le=1000)
    budget_floor: Decimal | None = Field(default=None, ge=0)
    budget_ceiling: Decimal | None = Field(default=None, gt=0)
    cooldown_hours: int = Field(default=24, ge=0, le=720)
    max_actions_per_run: int = Field(default=50, ge=1, le=10000)

    @model_validator(mode="after")
    def _floor_below_ceiling(self) -> Guardrails:
        if (
            self.budget_floor is not None
            and self.budget_ceiling is not None
            and self.budget_floor > self.budget_ceiling
        ):
            raise ValueError("The budget floor is above the ceiling.")
        return self


class RuleDefinition(_Strict):
    scope: Scope = Field(default_factory=Scope)
    conditions: Conditions
    actions: list[ActionStep] = Field(min_length=1, max_length=10)
    guardrails: Guardrails = Field(default_factory=Guardrails)


class RuleDefinitionError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _errors_of(exc: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        # Drop pydantic's branch labels (union tags, validator names) from the path.
        parts = [
            str(p) for p in error["loc"]
            if p not in ("condition", "group", "signal_condition") and not str(p).startswith("function-")
        ]  # fmt: skip
        key = ".".join([prefix, *parts] if prefix else parts) or "non_field_errors"
        message = str(error["msg"]).removeprefix("Value error, ")
        if message not in errors.setdefault(key, []):
            errors[key].append(message)
    return errors


def parse_rule_definition(data: dict[str, Any]) -> RuleDefinition:
    """Validate scope, conditions, actions (with their parameters) and guardrails."""
    try:
        definition = RuleDefinition.model_validate(data)
    except ValidationError as exc:
        raise RuleDefinitionError(_errors_of(exc)) from exc
    errors: dict[str, list[str]] = {}
    for path, condition in signal_conditions(definition):
        try:
            CONDITION_SIGNALS[condition.signal].params.model_validate(condition.params())
        except ValidationError as exc:
            errors.update(_errors_of(exc, path))
    for index, step in enumerate(definition.actions):
        try:
            ACTIONS[step.type].params.model_validate(step.params())
        except ValidationError as exc:
            errors.update(_errors_of(exc, f"actions.{index}"))
    if errors:
        raise RuleDefinitionError(errors)
    return definition


def signal_conditions(definition: RuleDefinition) -> list[tuple[str, SignalCondition]]:
    """The rule's signal conditions with their dotted paths ("conditions.items.1.items.0")."""
    found: list[tuple[str, SignalCondition]] = []
    for index, item in enumerate(definition.conditions.items):
        if isinstance(item, SignalCondition):
            found.append((f"conditions.items.{index}", item))
        elif isinstance(item, ConditionGroup):
            found.extend(
                (f"conditions.items.{index}.items.{inner}", leaf)
                for inner, leaf in enumerate(item.items)
                if isinstance(leaf, SignalCondition)
            )
    return found


def validation_errors(exc: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    """A pydantic error as field errors keyed by dotted path (for models that embed a rule)."""
    return _errors_of(exc, prefix)
