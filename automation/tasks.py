"""Celery entry points: ids in, one service call inside."""

from __future__ import annotations

from celery import shared_task

from automation.models import ExecutionTrigger
from automation.services import claim_due_rules, run_rule


@shared_task
def evaluate_rules_task() -> int:
    """Every 15 minutes: run each enabled rule whose frequency has elapsed."""
    due = claim_due_rules()
    for rule_id in due:
        evaluate_rule_task.delay(rule_id)
    return len(due)


@shared_task
def evaluate_rule_task(rule_id: int, trigger: str = ExecutionTrigger.SCHEDULE) -> int:
    # Retrying is safe: every step is claimed by its idempotency key before acting.
    return run_rule(rule_id=rule_id, trigger=trigger).pk
