from __future__ import annotations

from typing import Any

from rest_framework import serializers

from automation.models import AutomationRule, RuleAction, RuleExecution
from automation.schema import RuleDefinitionError, parse_rule_definition
from automation.services.rules import DEFINITION_FIELDS


class RuleExecutionSerializer(serializers.ModelSerializer[RuleExecution]):
    class Meta:
        model = RuleExecution
        fields = [
            "id", "rule", "trigger", "status", "as_of", "is_dry_run", "targets_evaluated",
            "targets_matched", "actions_proposed", "actions_applied", "actions_failed",
            "actions_skipped", "error", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class RuleSerializer(serializers.ModelSerializer[AutomationRule]):
    """A rule. `scope`, `conditions`, `actions` and `guardrails` are validated as a whole;
    errors name the offending path, e.g. `conditions.items.0.metric`."""

    scope = serializers.JSONField(required=False)
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    guardrails = serializers.JSONField(required=False)

    class Meta:
        model = AutomationRule
        fields = [
            "id", "name", "type", "description", "scope", "conditions", "actions", "guardrails",
            "is_enabled", "requires_approval", "is_dry_run", "frequency",
            "max_consecutive_failures", "consecutive_failures", "disabled_reason", "owner",
            "last_run_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "consecutive_failures", "disabled_reason", "owner", "last_run_at", "created_at",
            "updated_at",
        ]  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {
            name: attrs.get(name, getattr(self.instance, name, None)) for name in DEFINITION_FIELDS
        }
        try:
            parse_rule_definition({k: v for k, v in merged.items() if v is not None})
        except RuleDefinitionError as exc:
            raise serializers.ValidationError(exc.errors) from exc
        return attrs


class RuleActionSerializer(serializers.ModelSerializer[RuleAction]):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)

    class Meta:
        model = RuleAction
        fields = [
            "id", "rule", "rule_name", "execution", "campaign", "campaign_name", "step",
            "action_type", "params", "trigger_values", "status", "guardrail_verdict", "change",
            "error", "created_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class PreviewQuerySerializer(serializers.Serializer[Any]):
    days = serializers.IntegerField(min_value=1, max_value=90, default=14)
    as_known = serializers.BooleanField(default=False)


class FiringSerializer(serializers.Serializer[Any]):
    day = serializers.DateField()
    campaign_id = serializers.IntegerField()
    campaign = serializers.CharField()
    step = serializers.IntegerField()
    action_type = serializers.CharField()
    params = serializers.JSONField()
    values = serializers.JSONField()
    skipped = serializers.CharField()
    spend_at_stake = serializers.DecimalField(max_digits=20, decimal_places=4)
    budget_delta = serializers.DecimalField(max_digits=20, decimal_places=4)


class RuleTemplateSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    description = serializers.CharField()
    frequency = serializers.CharField()
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    guardrails = serializers.JSONField()
