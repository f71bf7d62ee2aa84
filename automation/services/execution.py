"""Live rule runs: read set-based, plan with the engine, act through campaigns.services.

Exactly-once: each step for a target and a window is claimed by writing a `RuleAction`
whose unique key is rule + campaign + window (the judged day) + step, before acting; the
same key, scoped by organization, is the `CampaignChange` idempotency key, so a retry
after a crash between the platform call and our bookkeeping finds the change already
made and the platform is not called twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from adplatform.metrics import RULE_EVALUATION_SECONDS
from adplatform.models import Organization
from automation import selectors
from automation.engine import (
    PlannedStep,
    StepContext,
    Target,
    evaluate_target,
    lookback_start,
    plan_pass,
    skip_outcome,
)
from automation.models import (
    FINAL_ACTION_STATUSES,
    FREQUENCY_SECONDS,
    ActionStatus,
    AutomationRule,
    ExecutionStatus,
    ExecutionTrigger,
    RuleAction,
    RuleExecution,
)
from automation.registry import ACTIONS, ActionSkipped
from automation.schema import RuleDefinition, Scope, ScopeFilter, parse_rule_definition
from automation.services.notify import RuleEvent, notify_rule_event
from campaigns.models import Campaign, CampaignChange, ChangeStatus
from campaigns.services import Actor, CampaignChangeError, request_campaign_change

logger = logging.getLogger(__name__)


def rule_definition(rule: AutomationRule) -> RuleDefinition:
    return parse_rule_definition(
        {"scope": rule.scope, "conditions": rule.conditions, "actions": rule.actions,
         "guardrails": rule.guardrails}
    )  # fmt: skip


def local_now(organization: Organization, now: dt.datetime) -> dt.datetime:
    return now.astimezone(ZoneInfo(organization.time_zone or "UTC"))


def local_today(organization: Organization, now: dt.datetime) -> dt.date:
    return local_now(organization, now).date()


def action_key(rule: AutomationRule, campaign_id: int, as_of: dt.date, step: int) -> str:
    return f"rule:{rule.pk}:campaign:{campaign_id}:window:{as_of.isoformat()}:step:{step}"


@dataclass
class _Counts:
    matched: int = 0
    proposed: int = 0
    applied: int = 0
    failed: int = 0
    skipped: int = 0


def run_rule(
    *,
    rule_id: int,
    trigger: str = ExecutionTrigger.SCHEDULE,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
) -> RuleExecution:
    """Evaluate one rule over every target in its scope and act (or propose) once per window."""
    rule = AutomationRule.objects.select_related("organization").get(pk=rule_id)
    organization = rule.organization
    now = now or timezone.now()
    as_of = as_of or local_today(organization, now)
    execution = RuleExecution.objects.create(
        organization=organization, rule=rule, trigger=trigger, as_of=as_of,
        is_dry_run=rule.is_dry_run, started_at=now,
    )  # fmt: skip
    counts = _Counts()
    clock = time.monotonic()
    try:
        definition = rule_definition(rule)
        targets = selectors.list_targets(organization, definition.scope)
        values = selectors.campaign_day_metrics(
            organization, scope=definition.scope, start=lookback_start(definition, as_of), end=as_of
        )
        since = now - dt.timedelta(hours=definition.guardrails.cooldown_hours)
        plan = plan_pass(
            definition, targets=targets, daily_values=values, as_of=as_of, now=now,
            last_acted=selectors.last_acted_at(organization, rule=rule, since=since),
            local_hour=local_now(organization, now).hour,
        )  # fmt: skip
        execution.targets_evaluated = plan.targets_evaluated
        _carry_out(rule, execution, plan.plans, counts)
        if counts.failed and not counts.applied:
            execution.status = ExecutionStatus.FAILED
        elif counts.failed:
            execution.status = ExecutionStatus.PARTIAL
        else:
            execution.status = ExecutionStatus.SUCCEEDED
    except Exception as exc:  # any error counts towards the circuit breaker
        logger.exception("rule execution failed", extra={"rule_id": rule.pk})
        execution.status = ExecutionStatus.FAILED
        execution.error = str(exc)[:2000]
    execution.targets_matched = counts.matched
    execution.actions_proposed = counts.proposed
    execution.actions_applied = counts.applied
    execution.actions_failed = counts.failed
    execution.actions_skipped = counts.skipped
    execution.finished_at = timezone.now()
    execution.save()
    RULE_EVALUATION_SECONDS.observe(time.monotonic() - clock)
    _record_outcome(rule, execution)
    return execution


def _record_outcome(rule: AutomationRule, execution: RuleExecution) -> None:
    rules = AutomationRule.objects.filter(pk=rule.pk)
    if execution.status != ExecutionStatus.FAILED:
        rules.update(consecutive_failures=0, last_run_at=execution.started_at)
        return
    rules.update(
        consecutive_failures=F("consecutive_failures") + 1, last_run_at=execution.started_at
    )
    tripped = rules.filter(
        is_enabled=True, consecutive_failures__gte=F("max_consecutive_failures")
    ).update(is_enabled=False, disabled_reason="Disabled after repeated failed executions.")
    if tripped:
        notify_rule_event(
            rule.organization, RuleEvent.RULE_DISABLED,
            {"rule_id": rule.pk, "rule": rule.name, "error": execution.error},
            priority="high", subject=f"Rule {rule.name!r} was disabled after repeated failures",
        )  # fmt: skip


def _carry_out(
    rule: AutomationRule, execution: RuleExecution, plans: list[Any], counts: _Counts
) -> None:
    campaigns = Campaign.objects.select_related("ad_account").in_bulk(
        [plan.target.campaign_id for plan in plans]
    )
    proposals = 0
    for plan in plans:
        counts.matched += 1
        campaign = campaigns[plan.target.campaign_id]
        for step in plan.steps:
            key = action_key(rule, campaign.pk, execution.as_of, step.step)
            if step.outcome.is_skipped:
                counts.skipped += 1
                if step.outcome.verdict.get("check"):
                    _record_skip(rule, execution, campaign, step, plan.values, key)
                if step.stop_on_failure:
                    break
                continue
            action, created = _claim(rule, execution, campaign, step, plan.values, key)
            if not created and action.status in FINAL_ACTION_STATUSES | {
                ActionStatus.AWAITING_APPROVAL
            }:
                counts.skipped += 1  # done in an earlier pass over this window
                if action.status == ActionStatus.FAILED and step.stop_on_failure:
                    break
                continue
            if rule.requires_approval:
                action.status = ActionStatus.AWAITING_APPROVAL
                action.save(update_fields=["status"])
                counts.proposed += 1
                proposals += 1
                continue
            status = perform_action(
                rule=rule, action=action, campaign=campaign, step=step, now=execution.started_at
            )
            if status in (ActionStatus.APPLIED, ActionStatus.DRY_RUN):
                counts.applied += 1
            elif status == ActionStatus.FAILED:
                counts.failed += 1
                if step.stop_on_failure:
                    break
    if proposals:
        notify_rule_event(
            rule.organization, RuleEvent.APPROVAL_REQUESTED,
            {"rule_id": rule.pk, "rule": rule.name, "execution_id": execution.pk, "proposals": proposals},
            subject=f"Rule {rule.name!r} proposes {proposals} action(s) for approval",
        )  # fmt: skip


def _claim(
    rule: AutomationRule, execution: RuleExecution, campaign: Campaign, step: PlannedStep,
    values: dict[str, str], key: str,
) -> tuple[RuleAction, bool]:  # fmt: skip
    try:
        with transaction.atomic():
            return RuleAction.objects.create(
                organization_id=rule.organization_id, rule=rule, execution=execution,
                campaign=campaign, step=step.step, action_type=step.action_type,
                params=step.outcome.params, trigger_values=values,
                guardrail_verdict=step.outcome.verdict, idempotency_key=key,
            ), True  # fmt: skip
    except IntegrityError:
        return RuleAction.objects.get(idempotency_key=key), False


def _record_skip(
    rule: AutomationRule, execution: RuleExecution, campaign: Campaign, step: PlannedStep,
    values: dict[str, str], key: str,
) -> None:  # fmt: skip
    # One row per target, step and window: a later pass may still act once the guardrail
    # (e.g. a cooldown) allows, under the step's own key.
    RuleAction.objects.update_or_create(
        idempotency_key=f"{key}:skipped",
        defaults={
            "organization_id": rule.organization_id, "rule": rule, "execution": execution,
            "campaign": campaign, "step": step.step, "action_type": step.action_type,
            "params": step.outcome.params, "trigger_values": values,
            "guardrail_verdict": step.outcome.verdict, "status": ActionStatus.SKIPPED,
            "error": step.outcome.skip_reason, "finished_at": timezone.now(),
        },
    )  # fmt: skip


def _change_params(params: dict[str, Any]) -> dict[str, Any]:
    return {name: Decimal(str(value)) for name, value in params.items()}


def perform_action(
    *,
    rule: AutomationRule,
    action: RuleAction,
    campaign: Campaign,
    step: PlannedStep,
    now: dt.datetime | None = None,
) -> str:
    """Carry out one claimed step; returns the action's new status. `now` (the run's
    clock) stamps `finished_at`, which the cooldown measures from."""
    now = now or timezone.now()
    outcome = step.outcome
    if outcome.kind == "notify":
        if not rule.is_dry_run:
            notify_rule_event(
                rule.organization, RuleEvent.ACTION_NOTIFY,
                {"rule_id": rule.pk, "rule": rule.name, "campaign_id": campaign.pk,
                 "campaign": campaign.name, "values": action.trigger_values,
                 "message": outcome.params.get("message", "")},
                priority=outcome.params.get("priority", "normal"),
                subject=f"Rule {rule.name!r} matched {campaign.name!r}",
            )  # fmt: skip
        status = ActionStatus.DRY_RUN if rule.is_dry_run else ActionStatus.APPLIED
        return _finish(action, status, at=now)
    assert outcome.kind is not None
    execute = ACTIONS[action.action_type].execute if action.action_type in ACTIONS else None
    try:
        if execute is not None:  # ad-level actions choose their ads at run time
            change = execute(rule=rule, action=action, campaign=campaign, outcome=outcome)
        else:
            change = request_campaign_change(
                campaign=campaign, kind=outcome.kind, actor=Actor.for_rule(rule.pk, rule.name),
                params=_change_params(outcome.params), reason=f"Rule {rule.name!r}: {action.trigger_values}",
                idempotency_key=action.idempotency_key, expected_before=outcome.expected_before,
                dry_run=rule.is_dry_run,
            )  # fmt: skip
    except ActionSkipped as exc:
        return _finish(action, ActionStatus.SKIPPED, error=str(exc), at=now)
    except CampaignChangeError as exc:
        return _finish(action, ActionStatus.FAILED, error=str(exc), at=now)
    if change.guardrail_verdict != outcome.verdict:
        CampaignChange.objects.filter(pk=change.pk).update(guardrail_verdict=outcome.verdict)
    action.change = change
    if change.status == ChangeStatus.APPLIED:
        return _finish(action, ActionStatus.APPLIED, at=now)
    if change.status == ChangeStatus.DRY_RUN:
        return _finish(action, ActionStatus.DRY_RUN, at=now)
    if change.status in (ChangeStatus.FAILED, ChangeStatus.CONFLICT):
        return _finish(action, ActionStatus.FAILED, error=change.error or change.status, at=now)
    # Another worker is applying it right now; leave the claim for it to finish.
    action.save(update_fields=["change"])
    return ActionStatus.PENDING


def _finish(
    action: RuleAction, status: str, *, error: str = "", at: dt.datetime | None = None
) -> str:
    action.status = status
    action.error = error[:2000]
    action.finished_at = at or timezone.now()
    action.save(update_fields=["status", "error", "finished_at", "change"])
    return status


# --- Scheduling ------------------------------------------------------------------------------
def claim_due_rules(*, now: dt.datetime | None = None) -> list[int]:
    """Enabled rules whose frequency has elapsed, each claimed with a conditional UPDATE
    of `last_run_at` so two schedulers never run a rule twice for one slot."""
    now = now or timezone.now()
    due: list[int] = []
    candidates = AutomationRule.objects.filter(is_enabled=True).values_list(
        "pk", "frequency", "last_run_at"
    )
    for pk, frequency, last_run_at in candidates:
        # A minute of slack: a 15-minute beat must not miss a 15-minute rule by seconds.
        interval = dt.timedelta(seconds=FREQUENCY_SECONDS.get(frequency, 900) - 60)
        if last_run_at is not None and now - last_run_at < interval:
            continue
        claimed = (
            AutomationRule.objects.filter(pk=pk)
            .filter(Q(last_run_at=last_run_at) if last_run_at else Q(last_run_at__isnull=True))
            .update(last_run_at=now)
        )
        if claimed:
            due.append(pk)
    return due


# --- Approvals -------------------------------------------------------------------------------
class ApprovalError(Exception):
    pass


def approve_rule_action(
    organization: Organization, *, action_id: int, user: User | None, now: dt.datetime | None = None
) -> RuleAction:
    """Apply a proposal after re-checking it: the rule must still match the campaign on
    today's data and the step must still pass the guardrails on the campaign's live values."""
    now = now or timezone.now()
    claimed = RuleAction.objects.filter(
        organization=organization, pk=action_id, status=ActionStatus.AWAITING_APPROVAL
    ).update(status=ActionStatus.PENDING, decided_by=user)
    if not claimed:
        raise ApprovalError("This proposal is not awaiting approval.")
    action = RuleAction.objects.select_related("rule__organization", "campaign__ad_account").get(
        pk=action_id
    )
    rule, campaign = action.rule, action.campaign
    definition = rule_definition(rule)
    scope = Scope(include=ScopeFilter(campaign_ids=[campaign.pk]))
    targets = selectors.list_targets(organization, scope)
    as_of = local_today(organization, now)
    if not targets:
        _finish(action, ActionStatus.SKIPPED, error="The campaign is no longer active.")
        return action
    target: Target = targets[0]
    values = selectors.campaign_day_metrics(
        organization, scope=scope, start=lookback_start(definition, as_of), end=as_of
    )
    matched = evaluate_target(
        definition, target, values.get(campaign.pk, {}), as_of,
        local_hour=local_now(organization, now).hour,
    )  # fmt: skip
    if matched is None:
        _finish(action, ActionStatus.SKIPPED, error="The rule no longer matches this campaign.")
        return action
    step_definition = definition.actions[action.step]
    outcome = ACTIONS[action.action_type].plan(
        StepContext(
            target=target, params=step_definition.params(), guardrails=definition.guardrails
        )
    )
    cooldown = dt.timedelta(hours=definition.guardrails.cooldown_hours)
    last = selectors.last_acted_at(organization, rule=rule, since=now - cooldown).get(campaign.pk)
    if cooldown and last is not None and ACTIONS[action.action_type].changes_campaign:
        outcome = skip_outcome(outcome, "cooldown", f"Acted on at {last.isoformat()}; cooldown "
                        f"{definition.guardrails.cooldown_hours} h.")  # fmt: skip
    if outcome.is_skipped:
        action.guardrail_verdict = outcome.verdict
        action.save(update_fields=["guardrail_verdict"])
        _finish(action, ActionStatus.SKIPPED, error=outcome.skip_reason)
        return action
    action.params, action.guardrail_verdict = outcome.params, outcome.verdict
    action.save(update_fields=["params", "guardrail_verdict"])
    step = PlannedStep(action.step, action.action_type, step_definition.stop_on_failure, outcome)
    perform_action(rule=rule, action=action, campaign=campaign, step=step, now=now)
    return action


def reject_rule_action(
    organization: Organization, *, action_id: int, user: User | None
) -> RuleAction:
    rejected = RuleAction.objects.filter(
        organization=organization, pk=action_id, status=ActionStatus.AWAITING_APPROVAL
    ).update(status=ActionStatus.REJECTED, decided_by=user, finished_at=timezone.now())
    if not rejected:
        raise ApprovalError("This proposal is not awaiting approval.")
    return RuleAction.objects.get(pk=action_id)
