"""Importing a rule file into organizations: all or nothing, with a dry run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from adplatform.models import Organization
from automation.models import AutomationRule
from automation.rules_io import DEFINITION_FIELDS, RuleFile
from automation.schema import RuleDefinitionError
from automation.services.rules import create_rule, update_rule, validate_rule_values


@dataclass
class ImportedRule:
    name: str
    outcome: str  # "created", "updated" or "unchanged"
    id: int | None  # None for a rule a dry run would create
    fields: list[str] = field(default_factory=list)  # what an update changes


@dataclass
class ImportResult:
    organization: Organization
    dry_run: bool
    rules: list[ImportedRule]

    def count(self, outcome: str) -> int:
        return sum(1 for rule in self.rules if rule.outcome == outcome)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


@dataclass
class _Planned:
    entry_values: dict[str, Any]
    rule: AutomationRule | None
    changed: list[str]


def _plan(organization: Organization, document: RuleFile) -> list[_Planned]:
    """Validate every entry against the organization (scope ids must be its own) and
    decide create/update/unchanged. Raises RuleDefinitionError keyed by document path."""
    names = [entry.name for entry in document.rules]
    existing: dict[str, list[AutomationRule]] = {}
    for rule in AutomationRule.objects.filter(organization=organization, name__in=names):
        existing.setdefault(rule.name, []).append(rule)
    errors: dict[str, list[str]] = {}
    planned: list[_Planned] = []
    for index, entry in enumerate(document.rules):
        values = entry.values()
        try:
            definition = validate_rule_values(organization, values)
        except RuleDefinitionError as exc:
            for path, messages in exc.errors.items():
                errors[f"rules.{index}.{path}"] = messages
            continue
        matches = existing.get(entry.name, [])
        if len(matches) > 1:
            errors[f"rules.{index}.name"] = [
                "Several rules of the organization have this name; rename them to import."
            ]
            continue
        match = matches[0] if matches else None
        values.update(definition)
        changed = (
            sorted(name for name, value in values.items() if getattr(match, name) != value)
            if match is not None
            else []
        )
        planned.append(_Planned(entry_values=values, rule=match, changed=changed))
    if errors:
        raise RuleDefinitionError(errors)
    return planned


def import_rules(
    organization: Organization, *, user: User | None, document: RuleFile, dry_run: bool = False
) -> ImportResult:
    """Create or update the file's rules in `organization`, matched by name.

    All or nothing: any invalid entry raises RuleDefinitionError (paths like
    `rules.1.scope.include.campaign_ids`) and nothing is written. A dry run validates and
    reports what would happen without writing. Rules not in the file are left alone.
    """
    with transaction.atomic():
        planned = _plan(organization, document)
        results: list[ImportedRule] = []
        for item in planned:
            name = item.entry_values["name"]
            if item.rule is None:
                rule_id = None
                if not dry_run:
                    rule_id = create_rule(organization, user=user, values=item.entry_values).pk
                results.append(ImportedRule(name=name, outcome="created", id=rule_id))
            elif item.changed:
                if not dry_run:
                    values = {k: v for k, v in item.entry_values.items() if k in item.changed}
                    # update_rule re-validates the merged definition; pass it whole.
                    values.update({k: item.entry_values[k] for k in DEFINITION_FIELDS})
                    update_rule(organization, rule=item.rule, user=user, values=values)
                results.append(
                    ImportedRule(name=name, outcome="updated", id=item.rule.pk, fields=item.changed)
                )
            else:
                results.append(ImportedRule(name=name, outcome="unchanged", id=item.rule.pk))
    return ImportResult(organization=organization, dry_run=dry_run, rules=results)


def import_rules_into_many(
    organizations: list[Organization], *, document: RuleFile, dry_run: bool = False
) -> list[ImportResult]:
    """One file into several organizations (an agency's clients) in one transaction:
    if it is invalid for any of them, none is changed. Errors are prefixed with the slug."""
    errors: dict[str, list[str]] = {}
    results: list[ImportResult] = []
    with transaction.atomic():
        for organization in organizations:
            try:
                results.append(
                    import_rules(organization, user=None, document=document, dry_run=dry_run)
                )
            except RuleDefinitionError as exc:
                errors.update({f"{organization.slug}: {k}": v for k, v in exc.errors.items()})
        if errors:
            raise RuleDefinitionError(errors)
    return results
