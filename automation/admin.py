from __future__ import annotations

from functools import partial

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from automation.models import AutomationRule, ExecutionTrigger, RuleAction, RuleExecution
from automation.tasks import evaluate_rule_task


@admin.register(AutomationRule)
class AutomationRuleAdmin(admin.ModelAdmin[AutomationRule]):
    list_display = ["name", "organization", "type", "is_enabled", "requires_approval",
                    "is_dry_run", "frequency", "consecutive_failures", "last_run_at"]  # fmt: skip
    list_filter = ["type", "is_enabled", "requires_approval", "is_dry_run"]
    search_fields = ["name"]
    readonly_fields = ["consecutive_failures", "last_run_at", "created_at", "updated_at"]
    raw_id_fields = ["organization", "owner"]
    actions = ["run_now"]

    @admin.action(description="Run now")
    def run_now(self, request: HttpRequest, queryset: QuerySet[AutomationRule]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            transaction.on_commit(
                partial(evaluate_rule_task.delay, pk, ExecutionTrigger.MANUAL.value)
            )
        self.message_user(request, f"Queued {queryset.count()} rule(s).", messages.SUCCESS)


@admin.register(RuleExecution)
class RuleExecutionAdmin(admin.ModelAdmin[RuleExecution]):
    list_display = ["rule", "organization", "trigger", "status", "as_of", "targets_evaluated",
                    "targets_matched", "actions_applied", "actions_failed", "started_at"]  # fmt: skip
    list_filter = ["status", "trigger"]
    raw_id_fields = ["organization", "rule"]


@admin.register(RuleAction)
class RuleActionAdmin(admin.ModelAdmin[RuleAction]):
    list_display = ["action_type", "rule", "campaign", "status", "created_at"]
    list_filter = ["status", "action_type"]
    raw_id_fields = ["organization", "rule", "execution", "campaign", "change", "decided_by"]
