"""The simple rule builder: one condition, one action (plus an optional notification)."""

from __future__ import annotations

from typing import Any

from django import forms

from automation.models import RuleFrequency, RuleType
from automation.registry import ACTIONS, CONDITION_METRICS
from automation.schema import OPERATORS, WINDOWS, RuleDefinitionError, parse_rule_definition

OPERATOR_LABELS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "eq": "=", "neq": "≠"}
# Where a definition error is shown in the form.
ERROR_FIELDS = {
    "conditions.items.0.metric": "metric",
    "conditions.items.0.window": "window",
    "conditions.items.0.operator": "operator",
    "conditions.items.0.value": "value",
    "conditions.items.0": "value",
    "actions.0.type": "action",
    "actions.0.percent": "action_value",
    "actions.0.amount": "action_value",
    "guardrails.max_budget_change_pct": "max_budget_change_pct",
    "guardrails.cooldown_hours": "cooldown_hours",
    "guardrails.budget_ceiling": "budget_ceiling",
    "guardrails.budget_floor": "budget_floor",
    "guardrails": "budget_ceiling",
}


class RuleBuilderForm(forms.Form):
    name = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=RuleType.choices, initial=RuleType.CUSTOM)
    frequency = forms.ChoiceField(choices=RuleFrequency.choices)
    metric = forms.ChoiceField(choices=[])
    window = forms.ChoiceField(choices=[(w, w.replace("_", " ")) for w in WINDOWS])
    operator = forms.ChoiceField(choices=[(o, OPERATOR_LABELS[o]) for o in OPERATORS])
    value = forms.DecimalField(required=False)
    action = forms.ChoiceField(choices=[])
    action_value = forms.DecimalField(
        required=False, help_text="Percent for increase/decrease/adjust; amount for set."
    )
    notify = forms.BooleanField(required=False, label="Also send a notification")
    max_budget_change_pct = forms.DecimalField(required=False, label="Max budget change %")
    budget_floor = forms.DecimalField(required=False)
    budget_ceiling = forms.DecimalField(required=False)
    cooldown_hours = forms.IntegerField(initial=24, min_value=0)
    requires_approval = forms.BooleanField(required=False, label="Require approval")
    is_dry_run = forms.BooleanField(required=False, label="Dry run")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        metric_field = self.fields["metric"]
        action_field = self.fields["action"]
        assert isinstance(metric_field, forms.ChoiceField)
        assert isinstance(action_field, forms.ChoiceField)
        metric_field.choices = [(name, m.label) for name, m in sorted(CONDITION_METRICS.items())]
        action_field.choices = [
            (name, a.label) for name, a in sorted(ACTIONS.items()) if name != "notify"
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        step: dict[str, Any] = {"type": data["action"]}
        if data.get("action_value") is not None:
            key = "amount" if data["action"].startswith("set_") else "percent"
            step[key] = str(data["action_value"])
        actions = [step] + ([{"type": "notify", "priority": "high"}] if data.get("notify") else [])
        guardrails: dict[str, Any] = {"cooldown_hours": data.get("cooldown_hours") or 0}
        for name in ("max_budget_change_pct", "budget_floor", "budget_ceiling"):
            if data.get(name) is not None:
                guardrails[name] = str(data[name])
        condition: dict[str, Any] = {
            "metric": data["metric"], "window": data["window"], "operator": data["operator"],
            "value": None if data.get("value") is None else str(data["value"]),
        }  # fmt: skip
        definition = {
            "conditions": {"operator": "and", "items": [condition]},
            "actions": actions,
            "guardrails": guardrails,
        }
        try:
            parse_rule_definition(definition)
        except RuleDefinitionError as exc:
            for path, messages in exc.errors.items():
                field = ERROR_FIELDS.get(path)
                for message in messages:
                    self.add_error(field, message)
            return data
        self.definition = definition
        return data

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
