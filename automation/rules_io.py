"""Rules as code: a rule file (YAML or JSON) read and written with the one rule schema.

A file is `{"version": 1, "rules": [entry, ...]}`; an entry is a `RuleDefinition`
(scope, conditions, actions, guardrails — the schema the API and the engine use) plus the
rule's plain settings. Entries are matched to stored rules by name, which is the stable
key of a rule inside an organization. Everything here is pure; the writes are in
`automation.services.imports`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from automation.models import AutomationRule, RuleFrequency, RuleType
from automation.schema import (
    RuleDefinition,
    RuleDefinitionError,
    parse_rule_definition,
    validation_errors,
)

FILE_VERSION: Literal[1] = 1
MAX_RULES_PER_FILE = 500
# The settings of a rule besides its definition, in the order a file lists them.
PLAIN_FIELDS = (
    "name", "type", "description", "frequency", "is_enabled", "requires_approval",
    "is_dry_run", "max_consecutive_failures",
)  # fmt: skip
DEFINITION_FIELDS = ("scope", "conditions", "actions", "guardrails")
Format = Literal["yaml", "json"]


def _choice(value: str, choices: list[str], what: str) -> str:
    if value not in choices:
        raise ValueError(f"Unknown {what} {value!r}; choose one of {', '.join(choices)}.")
    return value


class RuleEntry(RuleDefinition):
    """One rule of a file: the rule schema plus its settings (absent settings keep the
    stored value on update and the model default on create)."""

    name: str = Field(min_length=1, max_length=200)
    type: str = RuleType.CUSTOM.value
    description: str = Field(default="", max_length=5000)
    frequency: str = RuleFrequency.EVERY_15_MINUTES.value
    is_enabled: bool = True
    requires_approval: bool = False
    is_dry_run: bool = False
    max_consecutive_failures: int = Field(default=3, ge=1, le=100)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _choice(value, RuleType.values, "type")

    @field_validator("frequency")
    @classmethod
    def _known_frequency(cls, value: str) -> str:
        return _choice(value, RuleFrequency.values, "frequency")

    def values(self) -> dict[str, Any]:
        """The fields the file set, as `create_rule`/`update_rule` take them."""
        data = self.model_dump(mode="json", exclude_none=True)
        given = self.model_fields_set | set(DEFINITION_FIELDS)
        return {name: data[name] for name in (*PLAIN_FIELDS, *DEFINITION_FIELDS) if name in given}


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = FILE_VERSION
    rules: list[RuleEntry] = Field(max_length=MAX_RULES_PER_FILE)


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = FILE_VERSION
    rules: list[dict[str, Any]] = Field(max_length=MAX_RULES_PER_FILE)


def parse_rule_file(data: Any) -> RuleFile:
    """Validate a loaded document, every entry with the rule schema (including each
    action's parameters). Raises RuleDefinitionError with every error, keyed by document
    path (`rules.2.conditions.items.0.metric`); two entries may not share a name."""
    if not isinstance(data, dict):
        raise RuleDefinitionError(
            {"non_field_errors": ['A rule file is a mapping: {"version": 1, "rules": [...]}.']}
        )
    try:
        envelope = _Envelope.model_validate(data)
    except ValidationError as exc:
        raise RuleDefinitionError(validation_errors(exc)) from exc
    errors: dict[str, list[str]] = {}
    entries: list[RuleEntry] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(envelope.rules):
        prefix = f"rules.{index}"
        try:
            entry = RuleEntry.model_validate(item)
            # The same check the API and builder make, for the actions' own parameters.
            parse_rule_definition({name: item[name] for name in DEFINITION_FIELDS if name in item})
        except ValidationError as exc:
            errors.update(validation_errors(exc, prefix))
            continue
        except RuleDefinitionError as exc:
            errors.update({f"{prefix}.{path}": messages for path, messages in exc.errors.items()})
            continue
        if entry.name in seen:
            errors[f"{prefix}.name"] = [
                f"The name is also used by rules.{seen[entry.name]}; names identify rules."
            ]
        seen.setdefault(entry.name, index)
        entries.append(entry)
    if errors:
        raise RuleDefinitionError(errors)
    return RuleFile(version=envelope.version, rules=entries)


def load_rule_file(text: str | bytes, *, format: Format | None = None) -> RuleFile:
    """Read YAML (safe subset only) or JSON text. JSON is valid YAML, so without a format
    YAML's reader takes both."""
    try:
        if format == "json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        kind = "JSON" if format == "json" else "YAML"
        raise RuleDefinitionError({"non_field_errors": [f"Not valid {kind}{where}."]}) from exc
    return parse_rule_file(data)


def rule_entry(rule: AutomationRule) -> dict[str, Any]:
    """A stored rule as a file entry (the stored JSON is already in schema form)."""
    entry: dict[str, Any] = {name: getattr(rule, name) for name in PLAIN_FIELDS}
    for name in DEFINITION_FIELDS:
        entry[name] = getattr(rule, name)
    return entry


def rule_file(rules: Iterable[AutomationRule]) -> dict[str, Any]:
    return {"version": FILE_VERSION, "rules": [rule_entry(rule) for rule in rules]}


def dump_rule_file(document: dict[str, Any], *, format: Format) -> str:
    if format == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)
