"""A dry-run pass records its actions in bulk: its number of queries does not grow with the
number of campaigns it judges or matches, and what it records is what one-by-one did."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automation.models import ActionStatus, AutomationRule, RuleAction, RuleExecution
from automation.services import run_rule
from campaigns.models import CampaignChange, ChangeStatus
from tests.adplatform.factories import OrganizationFactory
from tests.automation.conftest import CLOCK, TODAY
from tests.automation.factories import RuleFactory, campaign_days
from tests.campaigns.factories import AdAccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _organization_with_rule(size: int) -> AutomationRule:
    """`size` campaigns that all match; the rule may change at most half of them per run,
    the rest are skipped by max_actions_per_run."""
    organization = OrganizationFactory(slug=f"bulk-{size}")
    account = AdAccountFactory(organization=organization)
    for index in range(size):
        campaign = CampaignFactory(organization=organization, ad_account=account)
        campaign_days(campaign, {TODAY: {"spend": 50 + index}})
    return RuleFactory(
        organization=organization,
        conditions={"items": [{"metric": "spend", "window": "today", "operator": "gt", "value": "1"}]},
        actions=[{"type": "decrease_budget", "percent": "10"},
                 {"type": "notify", "stop_on_failure": False}],
        guardrails={"cooldown_hours": 24, "max_actions_per_run": size // 2},
        is_dry_run=True,
    )  # fmt: skip


def _queries_of_a_pass(rule: AutomationRule, now: dt.datetime) -> tuple[int, RuleExecution]:
    with CaptureQueriesContext(connection) as queries:
        execution = run_rule(rule_id=rule.pk, now=now, as_of=TODAY)
    return len(queries), execution


def test_a_dry_run_pass_issues_as_many_queries_for_4_as_for_24_matched_campaigns() -> None:
    small, large = _organization_with_rule(4), _organization_with_rule(24)

    small_queries, small_run = _queries_of_a_pass(small, CLOCK)
    large_queries, large_run = _queries_of_a_pass(large, CLOCK)

    assert (small_run.targets_matched, large_run.targets_matched) == (4, 24)
    # Half the campaigns get both steps; for the rest the budget step is over the per-run
    # limit and, stopping on failure, ends their chain.
    assert (large_run.actions_applied, large_run.actions_skipped) == (24, 12)
    assert (small_run.actions_applied, small_run.actions_skipped) == (4, 2)
    assert small_queries == large_queries, (small_queries, large_queries)


def test_later_passes_act_on_what_the_limit_held_back_once_in_as_many_queries() -> None:
    small, large = _organization_with_rule(4), _organization_with_rule(24)
    run_rule(rule_id=small.pk, now=CLOCK, as_of=TODAY)
    run_rule(rule_id=large.pk, now=CLOCK, as_of=TODAY)

    # The changed half is in its cooldown; the held-back half is changed now.
    second = CLOCK + dt.timedelta(minutes=15)
    small_queries, _ = _queries_of_a_pass(small, second)
    large_queries, large_run = _queries_of_a_pass(large, second)
    assert (large_run.actions_applied, large_run.actions_skipped) == (24, 12)
    assert small_queries == large_queries, (small_queries, large_queries)
    budget_changes = CampaignChange.objects.filter(organization=large.organization)
    assert budget_changes.count() == 24
    assert budget_changes.values("campaign").distinct().count() == 24

    # Everything is in its cooldown now: nothing new is recorded.
    third = CLOCK + dt.timedelta(minutes=30)
    small_queries, _ = _queries_of_a_pass(small, third)
    large_queries, large_run = _queries_of_a_pass(large, third)
    assert (large_run.actions_applied, large_run.actions_skipped) == (0, 24)
    assert budget_changes.count() == 24
    assert small_queries == large_queries, (small_queries, large_queries)


def test_bulk_dry_run_rows_match_what_the_one_by_one_path_recorded() -> None:
    rule = _organization_with_rule(6)

    execution = run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    budget_steps = RuleAction.objects.filter(rule=rule, step=0, status=ActionStatus.DRY_RUN)
    assert budget_steps.count() == 3
    for action in budget_steps:
        change = action.change
        assert change is not None
        assert change.idempotency_key == f"{rule.organization_id}:{action.idempotency_key}"
        assert (change.status, change.is_dry_run, change.kind) == (
            ChangeStatus.DRY_RUN, True, "daily_budget"
        )  # fmt: skip
        assert change.params == {"daily_budget": "90.00"}
        assert change.expected_before == {"daily_budget": "100.0000"}
        assert change.before["daily_budget"] == "100.0000"
        assert change.guardrail_verdict == action.guardrail_verdict
        assert action.finished_at == CLOCK and action.execution == execution
    notify_steps = RuleAction.objects.filter(rule=rule, step=1)
    assert {(a.status, a.change_id) for a in notify_steps} == {(ActionStatus.DRY_RUN, None)}
    skipped = RuleAction.objects.filter(rule=rule, status=ActionStatus.SKIPPED)
    assert skipped.count() == 3
    assert {a.guardrail_verdict["check"] for a in skipped} == {"max_actions_per_run"}
    assert all(a.idempotency_key.endswith(":skipped") for a in skipped)


def _pass_over(organizations: int, rules_each: int) -> tuple[int, list[RuleExecution]]:
    """A full pass over `organizations` organizations of 6 matching campaigns, each with
    `rules_each` dry-run rules (one of them in approval mode)."""
    from automation.services import run_rules

    rules: list[AutomationRule] = []
    for index in range(organizations):
        rule = _organization_with_rule(6)
        organization = rule.organization
        organization.slug = f"{organization.slug}-{rules_each}-{index}"
        organization.save(update_fields=["slug"])
        rules.append(rule)
        for extra in range(1, rules_each):
            rules.append(
                RuleFactory(
                    organization=organization, conditions=rule.conditions, actions=rule.actions,
                    guardrails=rule.guardrails, is_dry_run=True, requires_approval=extra == 1,
                )
            )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        executions = run_rules(rule_ids=[rule.pk for rule in rules], now=CLOCK, as_of=TODAY)
    return len(queries), executions


def test_a_full_pass_writes_for_all_its_rules_at_once() -> None:
    # The reads are per organization; the writes do not grow with the number of rules.
    few_queries, few = _pass_over(2, 2)
    many_queries, many = _pass_over(2, 5)

    assert len(few) == 4 and len(many) == 10
    assert few_queries == many_queries, (few_queries, many_queries)
    for execution in many:
        execution.refresh_from_db()
        rule = execution.rule
        assert execution.targets_matched == 6
        if rule.requires_approval:
            assert (execution.actions_proposed, execution.actions_applied) == (6, 0)
        else:
            assert (execution.actions_applied, execution.actions_skipped) == (6, 3)
        changes = CampaignChange.objects.filter(actor_label=f"rule:{rule.pk} {rule.name}")
        assert changes.count() == (0 if rule.requires_approval else 3)
        assert RuleAction.objects.filter(rule=rule).exclude(execution=execution).count() == 0


def test_when_the_shared_bookkeeping_fails_each_rule_is_carried_out_alone(monkeypatch) -> None:
    from automation.services import execution as module

    real = module._carry_out_jobs
    calls: list[int] = []

    def failing_when_shared(jobs: list) -> None:  # type: ignore[type-arg]
        calls.append(len(jobs))
        if len(jobs) > 1:
            real(jobs[:1])  # half-way: the first rule's bookkeeping is done, then it fails
            raise RuntimeError("lost the connection")
        real(jobs)

    monkeypatch.setattr(module, "_carry_out_jobs", failing_when_shared)
    _, executions = _pass_over(1, 3)

    assert calls == [3, 1, 1, 1]
    for execution in executions:
        execution.refresh_from_db()
        assert execution.status == "succeeded", execution.error
        assert execution.targets_matched == 6
    # Carried out twice, the first rule recorded each change once.
    first = executions[0]
    assert (
        CampaignChange.objects.filter(actor_label=f"rule:{first.rule_id} {first.rule.name}").count()
        == 3
    )
