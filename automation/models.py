"""Automation rules, their executions, and the actions each execution took or proposed.

A rule's `scope`, `conditions`, `actions` and `guardrails` are JSON validated by
`automation.schema` (pydantic) before they are stored; the engine reads them back through
the same models, so what is stored is always something the engine understands.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from adplatform.models import Organization
from campaigns.models import Campaign, CampaignChange


class RuleType(models.TextChoices):
    BUDGET_PROTECTION = "budget_protection", "Budget protection"
    PERFORMANCE = "performance", "Performance"
    SCALING = "scaling", "Scaling"
    SCHEDULE = "schedule", "Schedule"
    CREATIVE_ROTATION = "creative_rotation", "Creative rotation"
    AUDIENCE_EXPANSION = "audience_expansion", "Audience expansion"
    AI_OPTIMIZATION = "ai_optimization", "AI optimization"
    CUSTOM = "custom", "Custom"


class RuleFrequency(models.TextChoices):
    EVERY_15_MINUTES = "15m", "Every 15 minutes"
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"


FREQUENCY_SECONDS: dict[str, int] = {
    RuleFrequency.EVERY_15_MINUTES: 15 * 60,
    RuleFrequency.HOURLY: 3600,
    RuleFrequency.DAILY: 24 * 3600,
}


class AutomationRule(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=32, choices=RuleType.choices, default=RuleType.CUSTOM)
    description = models.TextField(blank=True)
    # {"include": {"platforms": [], "ad_account_ids": [], "campaign_ids": []}, "exclude": {...}}
    scope = models.JSONField(default=dict, blank=True)
    # {"operator": "and"|"or", "items": [condition | group], "minimum_data": {...}}
    conditions = models.JSONField(default=dict)
    # [{"type": "pause", "stop_on_failure": true, ...}, ...]
    actions = models.JSONField(default=list)
    # {"max_budget_change_pct", "budget_floor", "budget_ceiling", "cooldown_hours",
    #  "max_actions_per_run"}
    guardrails = models.JSONField(default=dict, blank=True)
    is_enabled = models.BooleanField(default=True)
    # On: matches become proposals that a member approves before anything is applied.
    requires_approval = models.BooleanField(default=False)
    # Everything runs except the platform calls; changes are recorded as dry runs.
    is_dry_run = models.BooleanField(default=False)
    frequency = models.CharField(
        max_length=8, choices=RuleFrequency.choices, default=RuleFrequency.EVERY_15_MINUTES
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Circuit breaker: this many failed executions in a row disable the rule.
    max_consecutive_failures = models.PositiveSmallIntegerField(default=3)
    consecutive_failures = models.PositiveSmallIntegerField(default=0)
    disabled_reason = models.CharField(max_length=255, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "is_enabled"])]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ExecutionStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly failed"
    FAILED = "failed", "Failed"


class ExecutionTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual"
    APPROVAL = "approval", "Approval"


class RuleExecution(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="executions")
    trigger = models.CharField(
        max_length=16, choices=ExecutionTrigger.choices, default=ExecutionTrigger.SCHEDULE
    )
    status = models.CharField(
        max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.RUNNING
    )
    # The day whose data was judged; part of every action's idempotency key.
    as_of = models.DateField()
    is_dry_run = models.BooleanField(default=False)
    targets_evaluated = models.PositiveIntegerField(default=0)
    targets_matched = models.PositiveIntegerField(default=0)
    actions_proposed = models.PositiveIntegerField(default=0)
    actions_applied = models.PositiveIntegerField(default=0)
    actions_failed = models.PositiveIntegerField(default=0)
    actions_skipped = models.PositiveIntegerField(default=0)  # by a guardrail or already done
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "started_at"])]
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rule_id} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class ActionStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written, not yet acted on (or interrupted)
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPLIED = "applied", "Applied"
    DRY_RUN = "dry_run", "Dry run"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped by a guardrail"
    REJECTED = "rejected", "Rejected"


FINAL_ACTION_STATUSES = frozenset(
    {
        ActionStatus.APPLIED,
        ActionStatus.DRY_RUN,
        ActionStatus.FAILED,
        ActionStatus.SKIPPED,
        ActionStatus.REJECTED,
    }
)


class RuleAction(models.Model):
    """One step of a rule's action chain for one target, written before acting.

    The unique `idempotency_key` (rule, target, window, step) is the claim: a second
    evaluation of the same window finds the row and does not act again.
    """

    # A pass writes tens of thousands of these: no index the composite ones below cover.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    rule = models.ForeignKey(
        AutomationRule, on_delete=models.CASCADE, related_name="rule_actions", db_index=False
    )
    execution = models.ForeignKey(
        RuleExecution, on_delete=models.CASCADE, related_name="rule_actions"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    step = models.PositiveSmallIntegerField()
    action_type = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    # The metric values that made the conditions true, as strings.
    trigger_values = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=ActionStatus.choices, default=ActionStatus.PENDING
    )
    guardrail_verdict = models.JSONField(default=dict, blank=True)
    change = models.ForeignKey(
        CampaignChange, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Unique by a constraint (not `unique=True`, which on PostgreSQL adds a second index
    # for LIKE queries that nothing makes).
    idempotency_key = models.CharField(max_length=200)
    error = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="ruleaction_unique_key"),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["rule", "campaign", "created_at"]),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action_type} campaign={self.campaign_id} ({self.status})"
