"""Celery entry points: ids in, one service call inside."""

from __future__ import annotations

from celery import shared_task

from automation.models import AutomationRule, ExecutionTrigger
from automation.services import claim_due_rules, run_rule, run_rules


@shared_task
def evaluate_rules_task() -> int:
    """Every 15 minutes: run each enabled rule whose frequency has elapsed, one task per
    organization so that its rules share one read."""
    due = claim_due_rules()
    by_organization: dict[int, list[int]] = {}
    for rule_id, organization_id in AutomationRule.objects.filter(pk__in=due).values_list(
        "pk", "organization_id"
    ):
        by_organization.setdefault(organization_id, []).append(rule_id)
    for rule_ids in by_organization.values():
        evaluate_organization_rules_task.delay(rule_ids)
    return len(due)


@shared_task
def evaluate_organization_rules_task(rule_ids: list[int]) -> int:
    # Retrying is safe: every step is claimed by its idempotency key before acting.
    return len(run_rules(rule_ids=rule_ids))


@shared_task
def evaluate_rule_task(rule_id: int, trigger: str = ExecutionTrigger.SCHEDULE) -> int:
    # Retrying is safe: every step is claimed by its idempotency key before acting.
    return run_rule(rule_id=rule_id, trigger=trigger).pk
