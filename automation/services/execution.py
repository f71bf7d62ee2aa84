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
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db.models import CharField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from adplatform.bulk import build, in_values, insert_rows, is_postgresql, update_rows
from adplatform.metrics import RULE_EVALUATION_SECONDS
from adplatform.models import Organization
from automation import selectors
from automation.engine import (
    PlannedStep,
    StepContext,
    Target,
    TargetPlan,
    evaluate_target,
    lookback_start,
    needed_measures,
    plan_pass,
    skip_outcome,
    uses_late_data,
)
from automation.maturity import Maturity, maturity_for
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
from automation.prefilter import prefilter
from automation.registry import ACTIONS, ActionSkipped
from automation.schema import (
    RuleDefinition,
    RuleDefinitionError,
    Scope,
    ScopeFilter,
    parse_rule_definition,
)
from automation.services.notify import RuleEvent, notify_rule_event
from automation.signals import load_signals, uses_signals
from campaigns.models import Campaign, CampaignChange, ChangeStatus
from campaigns.services import (
    Actor,
    CampaignChangeError,
    ChangeRequest,
    record_dry_run_changes,
    request_campaign_change,
)

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
        maturity = _maturity(organization, definition, targets, now)
        measures = needed_measures(definition, as_of, maturity)
        spans = sorted(measures)
        having = prefilter(definition, as_of, spans)
        values = selectors.campaign_window_sums(
            organization, scope=definition.scope, spans=spans, measures=measures, having=having
        )
        evaluated = len(targets)
        if having is not None:
            # The database judged the rest: none of them can match.
            targets = [target for target in targets if target.campaign_id in values]
        since = now - dt.timedelta(hours=definition.guardrails.cooldown_hours)
        signals = load_signals(
            organization.pk, definition, [t.campaign_id for t in targets], now=now
        )
        plan = plan_pass(
            definition, targets=targets, daily_values=values, as_of=as_of, now=now,
            last_acted=selectors.last_acted_at(organization, rule=rule, since=since),
            local_hour=local_now(organization, now).hour, maturity=maturity, signals=signals,
        )  # fmt: skip
        execution.targets_evaluated = evaluated
        _carry_out(rule, execution, plan.plans, counts)
        _settle(execution, counts)
    except Exception as exc:  # any error counts towards the circuit breaker
        _settle(execution, counts, error=exc)
    execution.save()
    RULE_EVALUATION_SECONDS.observe(time.monotonic() - clock)
    _record_outcome(rule, execution)
    return execution


def _settle(
    execution: RuleExecution,
    counts: _Counts,
    *,
    error: Exception | None = None,
    at: dt.datetime | None = None,
) -> None:
    """The execution's status and counts once its pass is over (not saved)."""
    if error is not None:
        logger.error("rule execution failed", exc_info=error, extra={"rule_id": execution.rule_id})
        execution.status = ExecutionStatus.FAILED
        execution.error = str(error)[:2000]
    elif counts.failed and not counts.applied:
        execution.status = ExecutionStatus.FAILED
    elif counts.failed:
        execution.status = ExecutionStatus.PARTIAL
    else:
        execution.status = ExecutionStatus.SUCCEEDED
    execution.targets_matched = counts.matched
    execution.actions_proposed = counts.proposed
    execution.actions_applied = counts.applied
    execution.actions_failed = counts.failed
    execution.actions_skipped = counts.skipped
    execution.finished_at = at or timezone.now()


_EXECUTION_FIELDS = [
    "status", "error", "targets_evaluated", "targets_matched", "actions_proposed",
    "actions_applied", "actions_failed", "actions_skipped", "finished_at",
]  # fmt: skip


def run_rules(
    *,
    rule_ids: list[int],
    trigger: str = ExecutionTrigger.SCHEDULE,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[RuleExecution]:
    """A full pass: evaluate many rules, each organization's rules judged in one read
    (`selectors.rule_candidates`), then the bookkeeping of every rule of the pass done
    together (`_carry_out_jobs`: one claim INSERT per step of the chain, one dry-run
    record, one UPDATE per resulting status). What each rule does, and how it is
    recorded, is what `run_rule` does for it; rules with late-data conditions or an
    invalid definition take `run_rule` itself."""
    now = now or timezone.now()
    by_organization: dict[int, list[AutomationRule]] = defaultdict(list)
    for rule in AutomationRule.objects.select_related("organization").filter(pk__in=rule_ids):
        by_organization[rule.organization_id].append(rule)
    executions: list[RuleExecution] = []
    batches: list[tuple[Organization, dt.date, list[tuple[AutomationRule, RuleDefinition]]]] = []
    for rules in by_organization.values():
        organization = rules[0].organization
        day = as_of or local_today(organization, now)
        alone, batch = _split_organization_rules(rules, trigger=trigger, as_of=day, now=now)
        executions += alone
        if batch:
            batches.append((organization, day, batch))
    clock = time.monotonic()
    # Every batched rule's execution is started by one INSERT for the whole pass.
    started = RuleExecution.objects.bulk_create(
        RuleExecution(organization=organization, rule=rule, trigger=trigger, as_of=day,
                      is_dry_run=rule.is_dry_run, started_at=now)
        for organization, day, batch in batches for rule, _ in batch
    )  # fmt: skip
    jobs: list[_Job] = []
    position = 0
    for organization, day, batch in batches:
        jobs += _plan_organization_rules(
            organization, batch, started[position : position + len(batch)], as_of=day, now=now
        )
        position += len(batch)
    _carry_out_batch(jobs)
    _save_executions(started)
    if started:  # rules run alone were observed by run_rule
        RULE_EVALUATION_SECONDS.observe(time.monotonic() - clock)
    failed = [e for e in started if e.status == ExecutionStatus.FAILED]
    AutomationRule.objects.filter(
        pk__in=[e.rule_id for e in started if e.status != ExecutionStatus.FAILED]
    ).update(consecutive_failures=0, last_run_at=now)
    rules_by_pk = {rule.pk: rule for rules in by_organization.values() for rule in rules}
    for execution in failed:
        _record_outcome(rules_by_pk[execution.rule_id], execution)
    return executions + started


def _split_organization_rules(
    rules: list[AutomationRule], *, trigger: str, as_of: dt.date, now: dt.datetime
) -> tuple[list[RuleExecution], list[tuple[AutomationRule, RuleDefinition]]]:
    """Run the rules of one organization that cannot be batched (late-data conditions, an
    invalid definition); returns their executions and the others with their definitions."""
    batch: list[tuple[AutomationRule, RuleDefinition]] = []
    alone: list[RuleExecution] = []
    for rule in sorted(rules, key=lambda r: r.pk):
        try:
            definition = rule_definition(rule)
        except RuleDefinitionError:
            definition = None
        # Late-data and signal conditions (loaded per rule) take the one-rule path.
        if definition is None or uses_late_data(definition) or uses_signals(definition):
            alone.append(run_rule(rule_id=rule.pk, trigger=trigger, as_of=as_of, now=now))
        else:
            batch.append((rule, definition))
    return alone, batch


def _plan_organization_rules(
    organization: Organization,
    batch: list[tuple[AutomationRule, RuleDefinition]],
    started: list[RuleExecution],
    *,
    as_of: dt.date,
    now: dt.datetime,
) -> list[_Job]:
    """Read once for the batched rules of one organization and plan each; returns the
    planned jobs (an execution whose read or plan failed is settled as failed)."""
    try:
        candidates = selectors.rule_candidates(
            organization, definitions=[definition for _, definition in batch], as_of=as_of
        )
        acted = selectors.last_acted_by_rule(
            organization, rules={rule.pk: now - dt.timedelta(hours=d.guardrails.cooldown_hours)
                                 for rule, d in batch},
        )  # fmt: skip
    except Exception as exc:  # the shared read failed: every rule of the batch failed
        for execution in started:
            _settle(execution, _Counts(), error=exc)
        return []
    hour = local_now(organization, now).hour
    jobs: list[_Job] = []
    for ((rule, definition), execution), found in zip(
        zip(batch, started, strict=True), candidates, strict=True
    ):
        try:
            plan = plan_pass(
                definition, targets=found.targets, daily_values=found.values, as_of=as_of,
                now=now, last_acted=acted.get(rule.pk, {}), local_hour=hour,
            )  # fmt: skip
        except Exception as exc:  # any error counts towards the circuit breaker
            _settle(execution, _Counts(), error=exc)
            continue
        execution.targets_evaluated = found.in_scope
        jobs.append(_Job(rule, execution, plan.plans))
    return jobs


def _carry_out_batch(jobs: list[_Job]) -> None:
    """Carry out and settle many rules' plans together. If the shared bookkeeping fails,
    each rule is carried out again alone, so one rule's error fails only that rule: the
    claims make this safe (a step this execution already claimed is ours to finish, a
    recorded change is found by its key, not made again)."""
    try:
        _carry_out_jobs(jobs)
    except Exception:
        logger.exception("batched rule bookkeeping failed; retrying rule by rule")
        for job in jobs:
            job.counts = _Counts()
            try:
                _carry_out_jobs([job])
            except Exception as exc:  # any error counts towards the circuit breaker
                _settle(job.execution, job.counts, error=exc)
            else:
                _settle(job.execution, job.counts)
        return
    at = timezone.now()  # the batch's bookkeeping ended for all its rules at once
    for job in jobs:
        _settle(job.execution, job.counts, at=at)


def _save_executions(executions: list[RuleExecution]) -> None:
    # Executions whose outcome is the same (most rules of a pass match nothing) are
    # written by one UPDATE each; the others by a bulk UPDATE.
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for execution in executions:
        groups[tuple(getattr(execution, name) for name in _EXECUTION_FIELDS)].append(execution.pk)
    alike = [(values, pks) for values, pks in groups.items() if len(pks) > 1]
    for values, pks in alike:
        RuleExecution.objects.filter(pk__in=pks).update(
            **dict(zip(_EXECUTION_FIELDS, values, strict=True))
        )
    shared = {pk for _, pks in alike for pk in pks}
    rest = [execution for execution in executions if execution.pk not in shared]
    RuleExecution.objects.bulk_update(rest, _EXECUTION_FIELDS, batch_size=200)


def _maturity(
    organization: Organization, definition: RuleDefinition, targets: list[Target], now: dt.datetime
) -> Maturity | None:
    """What the rule's late-data conditions need: the clock alone to drop young days, the
    learned curves of the accounts in scope (three queries) to correct them."""
    mode = uses_late_data(definition)
    if not mode:
        return None
    if mode == "settled":
        return Maturity(now=now, time_zone=organization.time_zone or "UTC")
    return maturity_for(
        organization, ad_account_ids={target.ad_account_id for target in targets}, now=now
    )


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


@dataclass
class _Chain:
    """One matched target's action chain as the run walks it step by step."""

    plan: TargetPlan
    campaign: Campaign
    stopped: bool = False


@dataclass
class _Job:
    """One rule's planned pass, as the bookkeeping carries it out."""

    rule: AutomationRule
    execution: RuleExecution
    plans: list[TargetPlan]
    counts: _Counts = field(default_factory=_Counts)


@dataclass
class _Step:
    """A claimed step to carry out: whose, on which chain, and its claim."""

    job: _Job
    chain: _Chain
    step: PlannedStep
    action: RuleAction


def _carry_out(
    rule: AutomationRule, execution: RuleExecution, plans: list[TargetPlan], counts: _Counts
) -> None:
    """Claim and carry out one rule's planned steps (see `_carry_out_jobs`)."""
    _carry_out_jobs([_Job(rule, execution, plans, counts)])


def _carry_out_jobs(jobs: list[_Job]) -> None:
    """Claim and carry out the planned steps of one or many rules, all targets' step 0
    first, then step 1, ...

    Each wave claims its steps, whatever the rule, with one INSERT ... ON CONFLICT DO
    NOTHING before acting, so the number of bookkeeping queries depends on the length of
    the action chains, not on the number of rules, targets or matches; only live platform
    calls are made one target at a time.
    """
    ids = list({plan.target.campaign_id for job in jobs for plan in job.plans})
    rows = Campaign.objects.select_related("ad_account")
    campaigns = (
        {campaign.pk: campaign for campaign in rows.filter(pk__in=in_values(ids, cast="bigint"))}
        if is_postgresql() and ids
        else rows.in_bulk(ids)
    )
    chains = {
        id(job): [_Chain(plan, campaigns[plan.target.campaign_id]) for plan in job.plans]
        for job in jobs
    }
    for job in jobs:
        job.counts.matched += len(job.plans)
    skips: list[RuleAction] = []
    proposals: dict[int, int] = defaultdict(int)
    longest = max((len(plan.steps) for job in jobs for plan in job.plans), default=0)
    for position in range(longest):
        wave: list[tuple[_Job, _Chain, PlannedStep]] = []
        for job in jobs:
            for chain in chains[id(job)]:
                if chain.stopped or position >= len(chain.plan.steps):
                    continue
                step = chain.plan.steps[position]
                if step.outcome.is_skipped:
                    job.counts.skipped += 1
                    if step.outcome.verdict.get("check"):
                        skips.append(_skip_row(job.rule, job.execution, chain, step))
                    chain.stopped = step.stop_on_failure
                    continue
                wave.append((job, chain, step))
        claims = _claim_all(wave)
        to_act: list[_Step] = []
        for (job, chain, step), (action, created) in zip(wave, claims, strict=True):
            if not created and action.status in FINAL_ACTION_STATUSES | {
                ActionStatus.AWAITING_APPROVAL
            }:
                job.counts.skipped += 1  # done in an earlier pass over this window
                if action.status == ActionStatus.FAILED and step.stop_on_failure:
                    chain.stopped = True
                continue
            to_act.append(_Step(job, chain, step, action))
        if not to_act:
            continue
        proposed = [item for item in to_act if item.job.rule.requires_approval]
        if proposed:
            RuleAction.objects.filter(pk__in=[item.action.pk for item in proposed]).update(
                status=ActionStatus.AWAITING_APPROVAL
            )
            for item in proposed:
                item.job.counts.proposed += 1
                proposals[id(item.job)] += 1
        acting = [item for item in to_act if not item.job.rule.requires_approval]
        for item, status in zip(acting, _perform_wave(acting), strict=True):
            if status in (ActionStatus.APPLIED, ActionStatus.DRY_RUN):
                item.job.counts.applied += 1
            elif status == ActionStatus.FAILED:
                item.job.counts.failed += 1
                item.chain.stopped = item.step.stop_on_failure
    if skips:
        _record_skips(skips)
    for job in jobs:
        if proposals[id(job)]:
            rule, count = job.rule, proposals[id(job)]
            notify_rule_event(
                rule.organization, RuleEvent.APPROVAL_REQUESTED,
                {"rule_id": rule.pk, "rule": rule.name, "execution_id": job.execution.pk,
                 "proposals": count},
                subject=f"Rule {rule.name!r} proposes {count} action(s) for approval",
            )  # fmt: skip


def _claim_all(
    wave: list[tuple[_Job, _Chain, PlannedStep]],
) -> list[tuple[RuleAction, bool]]:
    """Write the claim of every step in `wave` (unique key: rule, target, window, step);
    returns, in order, each step's row and whether its execution wrote it. A key written
    by an earlier or a concurrent pass keeps that pass's row: ON CONFLICT DO NOTHING, then
    one read of all keys, where our own rows are the ones carrying our executions."""
    if not wave:
        return []
    rows = [
        build(
            RuleAction,
            {"organization_id": job.rule.organization_id, "rule_id": job.rule.pk,
             "execution_id": job.execution.pk, "campaign_id": chain.campaign.pk,
             "step": step.step, "action_type": step.action_type, "params": step.outcome.params,
             "trigger_values": chain.plan.values, "guardrail_verdict": step.outcome.verdict,
             "idempotency_key": action_key(job.rule, chain.campaign.pk, job.execution.as_of,
                                           step.step)},
            rule=job.rule, execution=job.execution, campaign=chain.campaign,
        )
        for job, chain, step in wave
    ]  # fmt: skip
    stored = _insert_claims(rows)
    claims: list[tuple[RuleAction, bool]] = []
    theirs: dict[int, int] = {}  # another pass's row we may resume: its pk -> position
    for row in rows:
        pk, execution_id, status = stored[row.idempotency_key]
        row.pk = pk
        row._state.adding = False
        ours = execution_id == row.execution_id
        if not ours:
            row.status = status
            if status not in FINAL_ACTION_STATUSES | {ActionStatus.AWAITING_APPROVAL}:
                theirs[pk] = len(claims)
        claims.append((row, ours))
    if theirs:  # resumed as they were written (rare: a pass that stopped half-way)
        for action in RuleAction.objects.filter(pk__in=list(theirs)):
            claims[theirs[action.pk]] = (action, False)
    return claims


def _insert_claims(rows: list[RuleAction]) -> dict[str, tuple[int, int, str]]:
    """INSERT ... ON CONFLICT DO NOTHING of the claims; returns each key's stored row as
    (pk, execution id, status). Only what deciding needs is read: our own rows are the
    ones just built. On PostgreSQL the INSERT returns the rows it wrote, and only the
    keys it did not write (taken by another pass) are read."""
    if not is_postgresql():
        RuleAction.objects.bulk_create(rows, ignore_conflicts=True)
        return {
            key: (pk, execution_id, status)
            for key, pk, execution_id, status in RuleAction.objects.filter(
                idempotency_key__in=[row.idempotency_key for row in rows]
            ).values_list("idempotency_key", "pk", "execution_id", "status")
        }
    written = insert_rows(
        RuleAction,
        [
            {"organization_id": row.organization_id, "rule_id": row.rule_id,
             "execution_id": row.execution_id, "campaign_id": row.campaign_id,
             "step": row.step, "action_type": row.action_type, "params": row.params,
             "trigger_values": row.trigger_values, "guardrail_verdict": row.guardrail_verdict,
             "idempotency_key": row.idempotency_key}
            for row in rows
        ],
        unique="idempotency_key", returning=("idempotency_key", "id", "execution_id", "status"),
    )  # fmt: skip
    stored = {key: (pk, execution_id, status) for key, pk, execution_id, status in written}
    taken = [row.idempotency_key for row in rows if row.idempotency_key not in stored]
    if taken:
        stored.update(
            (key, (pk, execution_id, status))
            for key, pk, execution_id, status in RuleAction.objects.filter(
                idempotency_key__in=in_values(taken)
            ).values_list("idempotency_key", "pk", "execution_id", "status")
        )
    return stored


def _skip_row(
    rule: AutomationRule, execution: RuleExecution, chain: _Chain, step: PlannedStep
) -> RuleAction:
    return build(
        RuleAction,
        {"organization_id": rule.organization_id, "rule_id": rule.pk,
         "execution_id": execution.pk, "campaign_id": chain.campaign.pk, "step": step.step,
         "action_type": step.action_type, "params": step.outcome.params,
         "trigger_values": chain.plan.values, "guardrail_verdict": step.outcome.verdict,
         "status": ActionStatus.SKIPPED, "error": step.outcome.skip_reason,
         "finished_at": timezone.now(),
         "idempotency_key": f"{action_key(rule, chain.campaign.pk, execution.as_of, step.step)}"
                            ":skipped"},
        rule=rule, execution=execution, campaign=chain.campaign,
    )  # fmt: skip


def _record_skips(rows: list[RuleAction]) -> None:
    # One row per target, step and window, upserted: a later pass may still act once the
    # guardrail (e.g. a cooldown) allows, under the step's own key.
    update = ["execution_id", "params", "trigger_values", "guardrail_verdict", "status", "error",
              "finished_at"]  # fmt: skip
    if not is_postgresql():
        RuleAction.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["idempotency_key"],
            update_fields=["execution", *update[1:]],
        )  # fmt: skip
        return
    insert_rows(
        RuleAction,
        [
            {"organization_id": row.organization_id, "rule_id": row.rule_id,
             "execution_id": row.execution_id, "campaign_id": row.campaign_id,
             "step": row.step, "action_type": row.action_type, "params": row.params,
             "trigger_values": row.trigger_values, "guardrail_verdict": row.guardrail_verdict,
             "status": row.status, "error": row.error, "finished_at": row.finished_at,
             "idempotency_key": row.idempotency_key}
            for row in rows
        ],
        unique="idempotency_key", update=update,
    )  # fmt: skip


def _perform_wave(items: list[_Step]) -> list[str]:
    """Each claimed step's final status, in order. Dry runs record campaign changes in
    bulk, for all their rules at once; actions that choose their own targets at run time
    (`ActionDefinition.execute`, e.g. rotate creatives) and every live call go through
    `perform_action` one by one."""

    def one(item: _Step) -> str:
        return perform_action(
            rule=item.job.rule, action=item.action, campaign=item.chain.campaign,
            step=item.step, now=item.job.execution.started_at,
        )  # fmt: skip

    in_bulk = [
        index
        for index, item in enumerate(items)
        if item.job.rule.is_dry_run
        and (item.step.action_type not in ACTIONS or ACTIONS[item.step.action_type].execute is None)
    ]
    bulk = _dry_run_all([items[i] for i in in_bulk])
    statuses = dict(zip(in_bulk, bulk, strict=True))
    return [statuses[index] if index in statuses else one(item) for index, item in enumerate(items)]


def _dry_run_all(items: list[_Step]) -> list[str]:
    """`perform_action` for dry-run steps of any rules, in a fixed number of queries: the
    campaign changes are recorded (not applied) in bulk through campaigns.services, and
    the claims are finished with one UPDATE per resulting status."""
    if not items:
        return []
    actors = {item.job.rule.pk: Actor.for_rule(item.job.rule.pk, item.job.rule.name)
              for item in items}  # fmt: skip
    requests = [
        ChangeRequest(
            campaign=item.chain.campaign, kind=str(item.step.outcome.kind),
            idempotency_key=item.action.idempotency_key,
            params=_change_params(item.step.outcome.params),
            reason=_reason(item.job.rule, item.action),
            expected_before=item.step.outcome.expected_before,
            guardrail_verdict=item.step.outcome.verdict,
            actor=actors[item.job.rule.pk],
        )
        for item in items
        if item.step.outcome.kind not in (None, "notify")
    ]  # fmt: skip
    answers = record_dry_run_changes(requests) if requests else {}
    statuses: list[str] = []
    finished: dict[tuple[str, str, dt.datetime], list[int]] = defaultdict(list)
    stale_verdicts: list[CampaignChange] = []
    linked: list[dict[str, Any]] = []  # PostgreSQL: every claim's outcome, one UPDATE
    fast = is_postgresql()
    for item in items:
        status: str
        answer = answers.get(item.action.idempotency_key)
        if answer is None:  # a notification: nothing is sent in a dry run
            status, error = ActionStatus.DRY_RUN, ""
        elif isinstance(answer, CampaignChangeError):
            status, error = ActionStatus.FAILED, str(answer)
        else:
            status, error = _status_of(answer)
            if answer.guardrail_verdict != item.step.outcome.verdict:
                answer.guardrail_verdict = item.step.outcome.verdict
                stale_verdicts.append(answer)
        statuses.append(status)
        # `finished_at` is the run's clock, which the cooldown measures from.
        if fast and status != ActionStatus.PENDING:
            linked.append(
                {"id": item.action.pk, "status": status, "error": error[:2000],
                 "finished_at": item.job.execution.started_at,
                 "change_id": answer.pk if isinstance(answer, CampaignChange) else None}
            )  # fmt: skip
            continue
        finished[(status, error[:2000], item.job.execution.started_at)].append(item.action.pk)
    if stale_verdicts:  # only for changes an earlier pass recorded
        CampaignChange.objects.bulk_update(stale_verdicts, ["guardrail_verdict"])
    # The change recorded under the claim's key is the answer for that key.
    update_rows(RuleAction, linked)
    # The claim links to the change recorded under its key (none for notifications or
    # refused requests), read in the same UPDATE: "<organization id>:<the claim's key>".
    change = Subquery(
        CampaignChange.objects.filter(
            idempotency_key=Concat(
                Cast(OuterRef("organization_id"), CharField()), Value(":"),
                OuterRef("idempotency_key"), output_field=CharField(),
            )
        ).values("pk")[:1]
    )  # fmt: skip
    for (status, error, now), ids in finished.items():
        actions = RuleAction.objects.filter(pk__in=ids)
        if status == ActionStatus.PENDING:  # another worker is applying it; leave it the claim
            actions.update(change=change)
        else:
            actions.update(status=status, error=error, finished_at=now, change=change)
    return statuses


def _status_of(change: CampaignChange) -> tuple[str, str]:
    """The claim's status for the change recorded under its key (as `perform_action`)."""
    if change.status == ChangeStatus.APPLIED:
        return ActionStatus.APPLIED, ""
    if change.status == ChangeStatus.DRY_RUN:
        return ActionStatus.DRY_RUN, ""
    if change.status in (ChangeStatus.FAILED, ChangeStatus.CONFLICT):
        return ActionStatus.FAILED, change.error or change.status
    return ActionStatus.PENDING, ""


def _reason(rule: AutomationRule, action: RuleAction) -> str:
    return f"Rule {rule.name!r}: {action.trigger_values}"


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
                params=_change_params(outcome.params), reason=_reason(rule, action),
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
        maturity=_maturity(organization, definition, [target], now),
        signals=load_signals(organization.pk, definition, [campaign.pk], now=now),
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
