from __future__ import annotations

from typing import Any

from rest_framework import serializers

from automation.models import AutomationRule, RuleAction, RuleExecution, RuleFrequency, RuleType
from automation.schema import RuleDefinitionError, parse_rule_definition
from automation.services.rules import DEFINITION_FIELDS
from automation.services.undo import undo_blocker


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


# --- Rules as code ---------------------------------------------------------------------------
class RuleFileEntrySerializer(serializers.Serializer[Any]):
    """One rule of a rule file (for the schema; `automation.rules_io` validates)."""

    name = serializers.CharField(max_length=200)
    # Plain text here (the rule schema checks the choices) so the enums keep one name.
    type = serializers.CharField(required=False, help_text=", ".join(RuleType.values))
    description = serializers.CharField(required=False, allow_blank=True)
    frequency = serializers.CharField(required=False, help_text=", ".join(RuleFrequency.values))
    is_enabled = serializers.BooleanField(required=False)
    requires_approval = serializers.BooleanField(required=False)
    is_dry_run = serializers.BooleanField(required=False)
    max_consecutive_failures = serializers.IntegerField(min_value=1, max_value=100, required=False)
    scope = serializers.JSONField(required=False)
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    guardrails = serializers.JSONField(required=False)


class RuleFileSerializer(serializers.Serializer[Any]):
    """A rule file: `{"version": 1, "rules": [...]}`, in YAML or JSON."""

    version = serializers.ChoiceField(choices=[1], default=1)
    rules = RuleFileEntrySerializer(many=True)


class RuleFileUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="A rule file, YAML or JSON.")
    dry_run = serializers.BooleanField(required=False, default=False)


class RuleExportQuerySerializer(serializers.Serializer[Any]):
    ids = serializers.CharField(
        required=False, help_text="Comma-separated rule ids; all rules when absent."
    )

    def validate_ids(self, value: str) -> list[int]:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts or not all(part.isdigit() and len(part) < 19 for part in parts):
            raise serializers.ValidationError("Give rule ids separated by commas.")
        return sorted({int(part) for part in parts})


class RuleImportQuerySerializer(serializers.Serializer[Any]):
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Validate and report; write nothing."
    )


class ImportedRuleSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"])
    id = serializers.IntegerField(allow_null=True)
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]


class RuleImportResultSerializer(serializers.Serializer[Any]):
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rules = ImportedRuleSerializer(many=True)


class ConflictSampleSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ConflictSerializer(serializers.Serializer[Any]):
    """An enabled rule that can act on the same campaigns in the same hours, the other way."""

    rule_id = serializers.IntegerField()
    rule_name = serializers.CharField()
    action = serializers.CharField(help_text="This rule's action.")
    other_action = serializers.CharField(help_text="The other rule's opposite action.")
    campaigns = serializers.IntegerField(help_text="Campaigns both rules can act on.")
    sample = ConflictSampleSerializer(many=True)


class ComparisonSerializer(serializers.Serializer[Any]):
    changes = serializers.IntegerField(help_text="Budget and bid changes compared.")
    after_days_observed = serializers.IntegerField()
    spend_before = serializers.DecimalField(max_digits=20, decimal_places=2, source="before.spend")
    spend_after = serializers.DecimalField(max_digits=20, decimal_places=2, source="after.spend")
    cpa_before = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    cpa_after = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    roas_before = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    roas_after = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)


class RulePerformanceSerializer(serializers.Serializer[Any]):
    """A rule's track record. Money in the organization's currency."""

    currency = serializers.CharField()
    times_fired = serializers.IntegerField(help_text="Steps applied or failed on a platform.")
    success_rate = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="Applied ÷ fired, %."
    )
    applied = serializers.IntegerField()
    failed = serializers.IntegerField()
    dry_run = serializers.IntegerField()
    skipped = serializers.IntegerField()
    awaiting_approval = serializers.IntegerField()
    rejected = serializers.IntegerField()
    undone = serializers.IntegerField()
    spend_affected = serializers.DecimalField(
        max_digits=20, decimal_places=2,
        help_text="The changed campaigns' spend in the 7 days before each change.",
    )  # fmt: skip
    budget_and_bid = ComparisonSerializer(
        allow_null=True,
        help_text="CPA/ROAS of the campaigns in the 7 days before vs after budget/bid changes.",
    )


class RuleActionWithUndoSerializer(RuleActionSerializer):
    undoable = serializers.SerializerMethodField()

    class Meta(RuleActionSerializer.Meta):
        fields = [*RuleActionSerializer.Meta.fields, "undoable"]
        read_only_fields = fields

    def get_undoable(self, action: RuleAction) -> bool:
        return undo_blocker(action) is None
