"""Creating, changing and switching rules; every change is validated and audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from adplatform.audit import record_audit
from adplatform.models import AuditAction, Organization
from automation.models import AutomationRule
from automation.schema import RuleDefinitionError, parse_rule_definition

DEFINITION_FIELDS = ("scope", "conditions", "actions", "guardrails")
PLAIN_FIELDS = (
    "name", "type", "description", "is_enabled", "requires_approval", "is_dry_run",
    "frequency", "max_consecutive_failures",
)  # fmt: skip


def _check_scope_ids(organization: Organization, scope: dict[str, Any]) -> None:
    # Ids in a scope must be this organization's: a rule never reaches another tenant's
    # campaigns anyway (every read is scoped), but a stored foreign id would leak existence.
    from campaigns.models import AdAccount, Campaign

    errors: dict[str, list[str]] = {}
    for part in ("include", "exclude"):
        section = scope.get(part) or {}
        for field, model in (("ad_account_ids", AdAccount), ("campaign_ids", Campaign)):
            ids = set(section.get(field) or [])
            if ids and model.objects.filter(organization=organization, pk__in=ids).count() != len(
                ids
            ):
                errors[f"scope.{part}.{field}"] = ["Unknown id(s) for this organization."]
    if errors:
        raise RuleDefinitionError(errors)


def _validated(organization: Organization, values: dict[str, Any]) -> dict[str, Any]:
    definition = parse_rule_definition({name: values.get(name) for name in DEFINITION_FIELDS
                                        if values.get(name) is not None})  # fmt: skip
    _check_scope_ids(organization, definition.scope.model_dump())
    return definition.model_dump(mode="json", exclude_none=True)


def validate_rule_values(organization: Organization, values: dict[str, Any]) -> dict[str, Any]:
    """The rule's definition in stored form, or RuleDefinitionError (schema, then scope ids)."""
    return _validated(organization, values)


def create_rule(
    organization: Organization, *, user: User | None, values: dict[str, Any]
) -> AutomationRule:
    """Validate and store a new rule. Raises RuleDefinitionError with field errors."""
    definition = _validated(organization, values)
    with transaction.atomic():
        rule = AutomationRule.objects.create(
            organization=organization,
            owner=user,
            **{name: values[name] for name in PLAIN_FIELDS if name in values},
            **definition,
        )
        record_audit(
            action=AuditAction.RULE_CHANGED, organization=organization, user=user,
            target=f"rule:{rule.pk}", data={"event": "created", "name": rule.name},
        )  # fmt: skip
    return rule


def update_rule(
    organization: Organization, *, rule: AutomationRule, user: User | None, values: dict[str, Any]
) -> AutomationRule:
    assert rule.organization_id == organization.pk
    merged = {name: values.get(name, getattr(rule, name)) for name in DEFINITION_FIELDS}
    definition = _validated(organization, merged)
    changed = sorted(name for name in (*PLAIN_FIELDS, *DEFINITION_FIELDS) if name in values)
    with transaction.atomic():
        for name in PLAIN_FIELDS:
            if name in values:
                setattr(rule, name, values[name])
        for name, value in definition.items():
            setattr(rule, name, value)
        if values.get("is_enabled"):
            rule.consecutive_failures, rule.disabled_reason = 0, ""
        rule.save()
        record_audit(
            action=AuditAction.RULE_CHANGED, organization=organization, user=user,
            target=f"rule:{rule.pk}", data={"event": "updated", "fields": changed},
        )  # fmt: skip
    return rule


def set_rule_enabled(
    organization: Organization, *, rule: AutomationRule, user: User | None, is_enabled: bool
) -> AutomationRule:
    return update_rule(organization, rule=rule, user=user, values={"is_enabled": is_enabled})


def delete_rule(organization: Organization, *, rule: AutomationRule, user: User | None) -> None:
    assert rule.organization_id == organization.pk
    with transaction.atomic():
        record_audit(
            action=AuditAction.RULE_CHANGED, organization=organization, user=user,
            target=f"rule:{rule.pk}", data={"event": "deleted", "name": rule.name},
        )  # fmt: skip
        rule.delete()
