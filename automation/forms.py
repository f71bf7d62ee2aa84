"""The rule builder (groups of conditions, an action chain) and the rule file import form."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms

from automation.models import AutomationRule, RuleFrequency, RuleType
from automation.registry import ACTIONS, CONDITION_METRICS, CONDITION_SIGNALS
from automation.schema import OPERATORS, WINDOWS, RuleDefinitionError, parse_rule_definition

OPERATOR_LABELS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "eq": "=", "neq": "≠"}
COMPARE_CHOICES = [
    ("value", "a value"),
    ("metric", "another metric"),
    ("previous", "% change vs the previous window"),
]
PRIORITIES = [("low", "low"), ("normal", "normal"), ("high", "high"), ("urgent", "urgent")]
MAX_GROUPS = 5
MAX_CONDITIONS = 10
MAX_STEPS = 10
# Where a guardrail error is shown.
GUARDRAIL_FIELDS = {
    "guardrails.max_budget_change_pct": "max_budget_change_pct",
    "guardrails.cooldown_hours": "cooldown_hours",
    "guardrails.budget_ceiling": "budget_ceiling",
    "guardrails.budget_floor": "budget_floor",
    "guardrails.max_actions_per_run": "max_actions_per_run",
    "guardrails": "budget_ceiling",
}
_CONDITION_KEY = re.compile(r"^g(\d+)-c(\d+)-metric$")
_GROUP_KEY = re.compile(r"^g(\d+)-operator$")
_STEP_KEY = re.compile(r"^a(\d+)-type$")
CONDITION_PARTS = (
    "metric", "window", "operator", "compare", "value", "other_metric", "data", "params",
)  # fmt: skip
DATA_CHOICES = [
    ("as_reported", "as reported"),
    ("settled", "settled days only"),
    ("corrected", "corrected for late conversions"),
]
# A signal is offered in the metric list as "signal:<name>".
SIGNAL_PREFIX = "signal:"
STEP_PARTS = ("type", "value", "priority", "params", "stop")
# Step keys the builder has fields for; any other parameter goes through "More parameters".
PERCENT_ACTIONS = ("increase_budget", "decrease_budget", "adjust_bid")
AMOUNT_ACTIONS = ("set_budget", "set_bid")


@dataclass
class Layout:
    """The builder's shape: groups of conditions and an ordered action chain, each item a
    dict of its raw form values. Read from a POST, edited by the +/− buttons, re-emitted."""

    match: str = "and"
    groups: list[dict[str, Any]] = field(
        default_factory=lambda: [{"operator": "and", "conditions": [{}]}]
    )
    steps: list[dict[str, Any]] = field(default_factory=lambda: [{"stop": True}])

    @classmethod
    def read(cls, data: Any) -> Layout:
        groups: dict[int, dict[str, Any]] = {}
        for key in data:
            if found := _GROUP_KEY.match(key):
                g = int(found[1])
                groups.setdefault(g, {"conditions": {}})["operator"] = data.get(key)
            elif found := _CONDITION_KEY.match(key):
                g, i = int(found[1]), int(found[2])
                group = groups.setdefault(g, {"conditions": {}, "operator": "and"})
                group["conditions"][i] = {
                    part: data.get(f"g{g}-c{i}-{part}", "") for part in CONDITION_PARTS
                }
        steps = {}
        for key in data:
            if found := _STEP_KEY.match(key):
                k = int(found[1])
                steps[k] = {part: data.get(f"a{k}-{part}", "") for part in STEP_PARTS}
                steps[k]["stop"] = bool(data.get(f"a{k}-stop"))
        layout = cls(
            match=data.get("match") or "and",
            groups=[
                {
                    "operator": groups[g].get("operator") or "and",
                    "conditions": [
                        groups[g]["conditions"][i] for i in sorted(groups[g]["conditions"])
                    ],
                }
                for g in sorted(groups)
            ],
            steps=[steps[k] for k in sorted(steps)],
        )
        layout.groups = [g for g in layout.groups if g["conditions"]] or cls().groups
        layout.steps = layout.steps or cls().steps
        return layout

    @classmethod
    def from_definition(cls, conditions: dict[str, Any], actions: list[dict[str, Any]]) -> Layout:
        """The builder's shape for a stored rule. What the builder cannot show is left out;
        RuleBuilderForm.for_rule() notices by comparing the round trip."""
        items = conditions.get("items") or []
        if any("items" in item for item in items):
            match = conditions.get("operator") or "and"
            groups = [
                {"operator": item.get("operator") or "and", "conditions": item["items"]}
                if "items" in item
                else {"operator": "and", "conditions": [item]}
                for item in items
            ]
        else:
            match = "and"
            groups = [{"operator": conditions.get("operator") or "and", "conditions": items}]
        return cls(
            match=match,
            groups=[
                {
                    "operator": group["operator"],
                    "conditions": [_condition_parts(c) for c in group["conditions"]],
                }
                for group in groups
            ]
            or cls().groups,
            steps=[_step_parts(step) for step in actions] or cls().steps,
        )

    def edit(self, op: str) -> None:
        """Apply one +/−/↑ button ("add_condition:0", "remove_step:2", ...); bad ops are
        ignored (the form is simply redrawn)."""
        name, _, rest = op.partition(":")
        args = [int(a) for a in rest.split(":") if a.isdigit()]
        if name == "add_group" and len(self.groups) < MAX_GROUPS:
            self.groups.append({"operator": "and", "conditions": [{}]})
        elif (
            name == "remove_group" and args and len(self.groups) > 1 and args[0] < len(self.groups)
        ):
            del self.groups[args[0]]
        elif name == "add_condition" and args and args[0] < len(self.groups):
            conditions = self.groups[args[0]]["conditions"]
            if len(conditions) < MAX_CONDITIONS:
                conditions.append({})
        elif name == "remove_condition" and len(args) == 2 and args[0] < len(self.groups):
            conditions = self.groups[args[0]]["conditions"]
            if len(conditions) > 1 and args[1] < len(conditions):
                del conditions[args[1]]
        elif name == "add_step" and len(self.steps) < MAX_STEPS:
            self.steps.append({"stop": True})
        elif name == "remove_step" and args and len(self.steps) > 1 and args[0] < len(self.steps):
            del self.steps[args[0]]
        elif name == "up_step" and args and 0 < args[0] < len(self.steps):
            k = args[0]
            self.steps[k - 1], self.steps[k] = self.steps[k], self.steps[k - 1]

    def initial(self) -> dict[str, Any]:
        values: dict[str, Any] = {"match": self.match}
        for g, group in enumerate(self.groups):
            values[f"g{g}-operator"] = group["operator"]
            for i, condition in enumerate(group["conditions"]):
                for part in CONDITION_PARTS:
                    if condition.get(part) not in (None, ""):
                        values[f"g{g}-c{i}-{part}"] = condition[part]
        for k, step in enumerate(self.steps):
            for part in STEP_PARTS:
                if step.get(part) not in (None, ""):
                    values[f"a{k}-{part}"] = step[part]
        return values


def _condition_parts(condition: dict[str, Any]) -> dict[str, Any]:
    if "signal" in condition:
        params = {k: v for k, v in condition.items() if k != "signal"}
        return {
            "metric": SIGNAL_PREFIX + str(condition["signal"]),
            "params": json.dumps(params, sort_keys=True, default=str) if params else "",
        }
    other = condition.get("other_metric")
    compare = "metric" if other else "previous" if condition.get("compare_to_previous") else "value"
    return {
        "metric": condition.get("metric", ""), "window": condition.get("window", "last_7_days"),
        "operator": condition.get("operator", ""), "compare": compare,
        "value": "" if condition.get("value") is None else str(condition["value"]),
        "other_metric": other or "", "data": condition.get("data", "as_reported"),
    }  # fmt: skip


def _managed_keys(kind: str) -> set[str]:
    keys = {"type", "stop_on_failure"}
    if kind == "notify":
        keys.add("priority")
    elif kind in PERCENT_ACTIONS:
        keys.add("percent")
    elif kind in AMOUNT_ACTIONS:
        keys.add("amount")
    return keys


def _step_parts(step: dict[str, Any]) -> dict[str, Any]:
    kind = step.get("type", "")
    value = step.get("percent", step.get("amount"))
    extra = {k: v for k, v in step.items() if k not in _managed_keys(kind)}
    return {
        "type": kind, "value": "" if value is None else str(value),
        "priority": step.get("priority", ""), "stop": bool(step.get("stop_on_failure", True)),
        "params": json.dumps(extra, sort_keys=True, default=str) if extra else "",
    }  # fmt: skip


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class RuleBuilderForm(forms.Form):
    """Conditions in AND/OR groups (one level), an ordered action chain with per-step
    stop-on-failure, minimum data and guardrails. Errors of the rule schema are shown on
    the field they concern."""

    name = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=RuleType.choices, initial=RuleType.CUSTOM)
    frequency = forms.ChoiceField(choices=RuleFrequency.choices)
    match = forms.ChoiceField(
        choices=[("and", "all groups (AND)"), ("or", "any group (OR)")], initial="and",
        label="Match", required=False,  # shown once there are two groups
    )  # fmt: skip
    min_spend = forms.DecimalField(required=False, min_value=0, label="Judge only after spend of")
    min_clicks = forms.IntegerField(required=False, min_value=0, label="…clicks")
    min_impressions = forms.IntegerField(required=False, min_value=0, label="…impressions")
    min_conversions = forms.DecimalField(required=False, min_value=0, label="…conversions")
    min_window = forms.ChoiceField(
        choices=[(w, w.replace("_", " ")) for w in WINDOWS], initial="last_7_days",
        required=False, label="over",
    )  # fmt: skip
    hours_start = forms.IntegerField(
        required=False, min_value=0, max_value=23, label="Act only from hour"
    )
    hours_end = forms.IntegerField(
        required=False, min_value=0, max_value=23, label="to hour (local, may wrap midnight)"
    )
    max_budget_change_pct = forms.DecimalField(required=False, label="Max budget change %")
    budget_floor = forms.DecimalField(required=False)
    budget_ceiling = forms.DecimalField(required=False)
    cooldown_hours = forms.IntegerField(initial=24, min_value=0)
    max_actions_per_run = forms.IntegerField(
        required=False, min_value=1, label="Max actions per run", help_text="50 when empty."
    )
    requires_approval = forms.BooleanField(required=False, label="Require approval")
    is_dry_run = forms.BooleanField(required=False, label="Dry run")

    PLAIN = ("name", "type", "frequency")
    MINIMUM_DATA = ("min_spend", "min_clicks", "min_impressions", "min_conversions", "min_window")
    HOURS = ("hours_start", "hours_end")
    GUARDRAILS = ("max_budget_change_pct", "budget_floor", "budget_ceiling", "cooldown_hours",
                  "max_actions_per_run", "requires_approval", "is_dry_run")  # fmt: skip
    SETTINGS = (*MINIMUM_DATA, *HOURS, *GUARDRAILS)

    def __init__(self, data: Any = None, *, layout: Layout | None = None, **kwargs: Any) -> None:
        self.layout = (
            Layout.read(data) if data is not None and layout is None else layout or Layout()
        )
        if data is None:
            kwargs["initial"] = {**self.layout.initial(), **kwargs.get("initial", {})}
        super().__init__(data, **kwargs)
        metrics = [(name, m.label) for name, m in sorted(CONDITION_METRICS.items())]
        signals = [
            (SIGNAL_PREFIX + name, signal.label)
            for name, signal in sorted(CONDITION_SIGNALS.items())
        ]
        actions = [(name, a.label) for name, a in sorted(ACTIONS.items())]
        for g, group in enumerate(self.layout.groups):
            self.fields[f"g{g}-operator"] = forms.ChoiceField(
                choices=[("and", "all of (AND)"), ("or", "any of (OR)")], label="Conditions"
            )
            for i in range(len(group["conditions"])):
                p = f"g{g}-c{i}-"
                # A row shows a metric's inputs or, once a signal is chosen, the signal's
                # parameters: both are in the page and CSS shows one set (no script).
                self.fields[p + "metric"] = forms.ChoiceField(
                    choices=[*metrics, *([("Signals", signals)] if signals else [])],
                    label="Metric",
                )
                self.fields[p + "window"] = forms.ChoiceField(
                    choices=[(w, w.replace("_", " ")) for w in WINDOWS], initial="last_7_days",
                    label="over", required=False,
                )  # fmt: skip
                self.fields[p + "operator"] = forms.ChoiceField(
                    choices=[(o, OPERATOR_LABELS[o]) for o in OPERATORS], label="is",
                    required=False,
                )  # fmt: skip
                self.fields[p + "compare"] = forms.ChoiceField(
                    choices=COMPARE_CHOICES, initial="value", label="compared with",
                    required=False,
                )  # fmt: skip
                self.fields[p + "value"] = forms.DecimalField(required=False, label="Value")
                self.fields[p + "other_metric"] = forms.ChoiceField(
                    choices=[("", "—"), *metrics], required=False, label="Other metric"
                )
                self.fields[p + "data"] = forms.ChoiceField(
                    choices=DATA_CHOICES, initial="as_reported", required=False, label="using data",
                )  # fmt: skip
                self.fields[p + "params"] = forms.CharField(
                    required=False, label="Signal parameters",
                    help_text='JSON, e.g. {"action": "pause", "min_confidence": 0.8}.',
                )  # fmt: skip
        for k in range(len(self.layout.steps)):
            p = f"a{k}-"
            self.fields[p + "type"] = forms.ChoiceField(choices=actions, label=f"Step {k + 1}")
            self.fields[p + "value"] = forms.DecimalField(
                required=False, label="% or amount",
                help_text="Percent for increase/decrease/adjust; amount for set.",
            )  # fmt: skip
            self.fields[p + "priority"] = forms.ChoiceField(
                choices=PRIORITIES, initial="normal", required=False, label="Priority"
            )
            self.fields[p + "params"] = forms.CharField(
                required=False, label="More parameters",
                help_text='JSON, e.g. {"metric": "ctr", "window": "last_3_days"} to rotate '
                'creatives by CTR, or {"message": "…"} for a notification.',
            )  # fmt: skip
            self.fields[p + "stop"] = forms.BooleanField(
                required=False, initial=True, label="Stop the chain if this step fails"
            )

    @classmethod
    def for_rule(cls, rule: AutomationRule) -> RuleBuilderForm | None:
        """The builder filled in with `rule`, or None when saving it back would change the
        rule (a signal condition, a scope-level minimum-data window, action parameters the
        builder has no field for...): such rules are edited through their rule file or the
        API, never silently trimmed. The scope is not part of the builder and is kept."""
        layout = Layout.from_definition(rule.conditions, rule.actions)
        minimum = rule.conditions.get("minimum_data") or {}
        hours = rule.conditions.get("hours") or {}
        guardrails = rule.guardrails or {}
        initial: dict[str, Any] = {
            **layout.initial(),
            "name": rule.name, "type": rule.type, "frequency": rule.frequency,
            "requires_approval": rule.requires_approval, "is_dry_run": rule.is_dry_run,
            "cooldown_hours": guardrails.get("cooldown_hours", 24),
            "min_spend": minimum.get("spend"), "min_clicks": minimum.get("clicks"),
            "min_impressions": minimum.get("impressions"),
            "min_conversions": minimum.get("conversions"),
            "min_window": minimum.get("window") if minimum else None,
            "hours_start": hours.get("start"), "hours_end": hours.get("end"),
            "max_actions_per_run": guardrails.get("max_actions_per_run"),
            **{name: guardrails.get(name) for name in
               ("max_budget_change_pct", "budget_floor", "budget_ceiling")},
        }  # fmt: skip
        posted = {
            name: "on" if value is True else str(value)
            for name, value in initial.items()
            if value is not None and value is not False and value != ""
        }
        trial = cls(posted, layout=layout)
        if not trial.is_valid():
            return None
        scope = {"scope": rule.scope} if rule.scope else {}
        before = parse_rule_definition(
            {**scope, "conditions": rule.conditions, "actions": rule.actions,
             "guardrails": rule.guardrails}
        )  # fmt: skip
        after = parse_rule_definition({**scope, **trial.definition})
        if before.model_dump(mode="json") != after.model_dump(mode="json"):
            return None
        return cls(layout=layout, initial={k: v for k, v in initial.items() if v is not None})

    # --- For the template ---------------------------------------------------------------
    def group_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "index": g,
                "operator": self[f"g{g}-operator"],
                "conditions": [
                    {"index": i, "fields": [self[f"g{g}-c{i}-{part}"] for part in CONDITION_PARTS]}
                    for i in range(len(group["conditions"]))
                ],
            }
            for g, group in enumerate(self.layout.groups)
        ]

    def step_rows(self) -> list[dict[str, Any]]:
        return [
            {"index": k, "fields": [self[f"a{k}-{part}"] for part in STEP_PARTS]}
            for k in range(len(self.layout.steps))
        ]

    def minimum_data_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.MINIMUM_DATA]

    def hours_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.HOURS]

    def setting_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.GUARDRAILS]

    def plain_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.PLAIN]

    # --- Validation -------------------------------------------------------------------------
    def _condition(self, data: dict[str, Any], prefix: str) -> dict[str, Any]:
        if data[prefix + "metric"].startswith(SIGNAL_PREFIX):
            params = self._json_object(data, prefix + "params", '{"min_confidence": 0.8}')
            return {**params, "signal": data[prefix + "metric"].removeprefix(SIGNAL_PREFIX)}
        condition: dict[str, Any] = {
            "metric": data[prefix + "metric"], "window": data[prefix + "window"],
            "operator": data[prefix + "operator"],
        }  # fmt: skip
        compare = data.get(prefix + "compare") or "value"
        if compare == "metric":
            condition["other_metric"] = data.get(prefix + "other_metric") or None
        else:
            condition["value"] = _decimal(data.get(prefix + "value"))
            condition["compare_to_previous"] = compare == "previous"
        if data.get(prefix + "data") not in (None, "", "as_reported"):
            condition["data"] = data[prefix + "data"]
        return condition

    def _step(self, data: dict[str, Any], prefix: str) -> dict[str, Any]:
        kind = data[prefix + "type"]
        extra = self._json_object(data, prefix + "params", '{"metric": "ctr"}')
        # The builder's own fields win over the same key in "More parameters".
        step: dict[str, Any] = {k: v for k, v in extra.items() if k not in _managed_keys(kind)}
        step.update(type=kind, stop_on_failure=bool(data.get(prefix + "stop")))
        value = data.get(prefix + "value")
        if kind == "notify":
            step["priority"] = data.get(prefix + "priority") or "normal"
        elif kind in PERCENT_ACTIONS:
            step["percent"] = _decimal(value)
        elif kind in AMOUNT_ACTIONS:
            step["amount"] = _decimal(value)
        return step

    def _json_object(self, data: dict[str, Any], name: str, example: str) -> dict[str, Any]:
        raw = (data.get(name) or "").strip()
        try:
            params = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise forms.ValidationError({name: f"Not valid JSON: {exc}."}) from exc
        if not isinstance(params, dict):
            raise forms.ValidationError({name: f"Give a JSON object, e.g. {example}."})
        return params

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        # Build the definition, remembering which form prefix each schema path came from.
        paths: dict[str, str] = {}
        groups = [
            [self._condition(data, f"g{g}-c{i}-") for i in range(len(group["conditions"]))]
            for g, group in enumerate(self.layout.groups)
        ]
        if len(groups) == 1:
            operator, items = data["g0-operator"], list[dict[str, Any]](groups[0])
            paths.update({f"conditions.items.{i}": f"g0-c{i}-" for i in range(len(items))})
        else:
            operator, items = data.get("match") or "and", []
            for g, members in enumerate(groups):
                x = len(items)
                if len(members) == 1:
                    items.append(members[0])
                    paths[f"conditions.items.{x}"] = f"g{g}-c0-"
                else:
                    items.append({"operator": data[f"g{g}-operator"], "items": members})
                    paths.update(
                        {
                            f"conditions.items.{x}.items.{i}": f"g{g}-c{i}-"
                            for i in range(len(members))
                        }
                    )
        conditions: dict[str, Any] = {"operator": operator, "items": items}
        if any(data.get(name) for name in self.MINIMUM_DATA if name != "min_window"):
            conditions["minimum_data"] = {
                "window": data.get("min_window") or "last_7_days",
                "spend": str(data.get("min_spend") or 0), "clicks": data.get("min_clicks") or 0,
                "impressions": data.get("min_impressions") or 0,
                "conversions": str(data.get("min_conversions") or 0),
            }  # fmt: skip
        start, end = data.get("hours_start"), data.get("hours_end")
        if (start is None) != (end is None):
            self.add_error("hours_end" if end is None else "hours_start", "Give both hours.")
            return data
        if start is not None:
            conditions["hours"] = {"start": start, "end": end}
        actions = [self._step(data, f"a{k}-") for k in range(len(self.layout.steps))]
        paths.update({f"actions.{k}": f"a{k}-" for k in range(len(actions))})
        guardrails: dict[str, Any] = {"cooldown_hours": data.get("cooldown_hours") or 0}
        for name in ("max_budget_change_pct", "budget_floor", "budget_ceiling"):
            if data.get(name) is not None:
                guardrails[name] = str(data[name])
        if data.get("max_actions_per_run") is not None:
            guardrails["max_actions_per_run"] = data["max_actions_per_run"]
        definition = {"conditions": conditions, "actions": actions, "guardrails": guardrails}
        try:
            parse_rule_definition(definition)
        except RuleDefinitionError as exc:
            for path, messages in exc.errors.items():
                for message in messages:
                    self.add_error(self._field_for(path, paths), message)
            return data
        self.definition = definition
        return data

    def _field_for(self, path: str, paths: dict[str, str]) -> str | None:
        if path in GUARDRAIL_FIELDS:
            return GUARDRAIL_FIELDS[path]
        if path.startswith("conditions.minimum_data"):
            return "min_spend"
        if path.startswith("conditions.hours"):
            return "hours_start"
        # The longest known prefix: "conditions.items.1.items.0" + ".metric".
        for known in sorted(paths, key=len, reverse=True):
            if path == known or path.startswith(known + "."):
                prefix, rest = paths[known], path[len(known) + 1 :]
                if prefix.startswith("a"):
                    part = {"type": "type", "priority": "priority", "percent": "value",
                            "amount": "value"}.get(rest.split(".")[0], "params")  # fmt: skip
                else:
                    part = rest if rest in ("metric", "window", "operator", "data") else "value"
                    if rest == "other_metric":
                        part = "other_metric"
                    if str(self.data.get(prefix + "metric", "")).startswith(SIGNAL_PREFIX):
                        part = "metric" if rest == "signal" else "params"
                return prefix + part
        return None

    def rule_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"], "type": data["type"], "frequency": data["frequency"],
            "requires_approval": data["requires_approval"], "is_dry_run": data["is_dry_run"],
            **self.definition,
        }  # fmt: skip


MAX_RULE_FILE_BYTES = 1_000_000


class RuleImportForm(forms.Form):
    """A rule file to import: uploaded, or pasted as YAML/JSON."""

    file = forms.FileField(required=False, label="Rule file (YAML or JSON)")
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), label="…or paste it"
    )
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run (report only)")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is None and not (data.get("text") or "").strip():
            raise forms.ValidationError("Choose a file or paste a rule file.")
        if upload is not None and upload.size > MAX_RULE_FILE_BYTES:
            self.add_error("file", "A rule file is at most 1 MB.")
        return data

    def content(self) -> str | bytes:
        upload = self.cleaned_data.get("file")
        return upload.read() if upload is not None else self.cleaned_data["text"]
