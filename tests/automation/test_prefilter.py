"""The SQL prefilter never drops a campaign the engine would match: a live pass (filtered
in the database) matches exactly what the engine matches judging every campaign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adplatform.models import Organization
from automation import selectors
from automation.engine import evaluate_target, needed_measures, needed_spans, window_period
from automation.models import AutomationRule, RuleAction, RuleExecution
from automation.prefilter import prefilter
from automation.services import rule_definition, run_rule, run_rules
from campaigns.models import Campaign
from tests.automation.conftest import CLOCK, TODAY
from tests.automation.factories import RuleFactory, campaign_days
from tests.campaigns.factories import AdAccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db

SHAPES: list[dict] = [
    {"items": [{"metric": "spend", "window": "today", "operator": "lt", "value": "20"}]},
    {"items": [{"metric": "spend", "window": "today", "operator": "gte", "value": "40"}]},
    {"items": [{"metric": "impressions", "window": "yesterday", "operator": "lte", "value": "1500"}]},
    {"items": [{"metric": "cpa", "window": "last_7_days", "operator": "gt", "value": "30"}]},
    {"items": [{"metric": "cpa", "window": "last_7_days", "operator": "gte", "value": "35.5"}]},
    {"items": [{"metric": "roas", "window": "last_3_days", "operator": "lt", "value": "1.2"}]},
    {"items": [{"metric": "ctr", "window": "last_14_days", "operator": "gt", "value": "0.03"}]},
    {"items": [{"metric": "cpm", "window": "last_7_days", "operator": "lte", "value": "30"}]},
    {"items": [{"metric": "cvr", "window": "yesterday", "operator": "gt", "value": "0.01"}]},
    {"items": [{"metric": "budget_spent_pct", "window": "today", "operator": "gte", "value": "45"}]},
    {"items": [{"metric": "spend", "window": "last_7_days", "operator": "gt", "value": "5",
                "compare_to_previous": True}]},
    {"items": [{"metric": "cpc", "window": "last_3_days", "operator": "gt", "other_metric": "cpa",
                "multiplier": "0.05"}]},
    {"items": [{"metric": "spend", "window": "today", "operator": "eq", "value": "30"}]},
    {"operator": "or", "items": [
        {"metric": "conversions", "window": "last_7_days", "operator": "lt", "value": "4"},
        {"operator": "and", "items": [
            {"metric": "roas", "window": "last_7_days", "operator": "gt", "value": "1"},
            {"metric": "clicks", "window": "today", "operator": "gte", "value": "55"}]}]},
    {"items": [{"metric": "spend", "window": "today", "operator": "lt", "value": "100"}],
     "minimum_data": {"window": "last_7_days", "spend": "150", "conversions": "2"}},
]  # fmt: skip


def _campaigns(organization: Organization) -> None:
    account = AdAccountFactory(organization=organization)
    for index in range(24):
        campaign = CampaignFactory(
            organization=organization, ad_account=account, daily_budget=40 + index * 5
        )
        if index == 0:
            continue  # no data at all: judged on zeros, by the database and the engine alike
        campaign_days(
            campaign,
            {TODAY - dt.timedelta(days=back): {
                "spend": 10 + (index * 7 + back * 3) % 40,
                "conversions": (index + back) % 4 if index % 5 else 0,
                "revenue": (index * 11 + back * 5) % 90,
                "impressions": 1000 + (index * 37 + back * 13) % 900,
                "clicks": 20 + (index * 3 + back) % 50,
            } for back in range(0, 16) if (index + back) % 6},
        )  # fmt: skip


def _engine_matches(rule: AutomationRule) -> set[int]:
    """What the engine matches judging every campaign in scope on its day-by-day values."""
    definition = rule_definition(rule)
    organization = rule.organization
    days = selectors.campaign_day_metrics(
        organization, scope=definition.scope, start=TODAY - dt.timedelta(days=30), end=TODAY
    )
    return {
        target.campaign_id
        for target in selectors.list_targets(organization, definition.scope)
        if evaluate_target(definition, target, days.get(target.campaign_id, {}), TODAY) is not None
    }


@pytest.mark.parametrize("conditions", SHAPES)
def test_the_prefiltered_pass_matches_what_the_engine_matches_on_every_campaign(
    organization: Organization, conditions: dict
) -> None:
    _campaigns(organization)
    rule = RuleFactory(
        organization=organization, conditions=conditions, actions=[{"type": "notify"}],
        is_dry_run=True,
    )  # fmt: skip
    expected = _engine_matches(rule)

    execution = run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    matched = set(rule.rule_actions.values_list("campaign_id", flat=True))
    assert execution.error == ""
    assert matched == expected
    assert execution.targets_evaluated == 24 and execution.targets_matched == len(expected)


def test_the_prefilter_leaves_out_campaigns_in_the_database() -> None:
    definition = rule_definition(RuleFactory.build(conditions=SHAPES[3]))
    spans = needed_spans(definition, TODAY)
    assert prefilter(definition, TODAY, spans) is not None
    # Equality and a comparison with another metric are left to the engine.
    for shape in (SHAPES[11], SHAPES[12]):
        definition = rule_definition(RuleFactory.build(conditions=shape))
        assert prefilter(definition, TODAY, needed_spans(definition, TODAY)) is None


def test_a_batched_pass_does_what_one_run_per_rule_does(organization: Organization) -> None:
    _campaigns(organization)
    campaign_ids = sorted(
        Campaign.objects.filter(organization=organization).values_list("pk", flat=True)
    )
    scopes = [{}, {"include": {"platforms": ["meta"]}},
              {"include": {"campaign_ids": campaign_ids[:10]}},
              {"exclude": {"campaign_ids": campaign_ids[5:15]}}]  # fmt: skip
    actions = [[{"type": "pause"}, {"type": "notify", "stop_on_failure": False}],
               [{"type": "decrease_budget", "percent": "10"}]]  # fmt: skip

    def rules(prefix: str) -> list[AutomationRule]:
        return [
            RuleFactory(organization=organization, name=f"{prefix} {index}", conditions=shape,
                        scope=scopes[index % len(scopes)], actions=actions[index % 2],
                        is_dry_run=True, guardrails={"max_actions_per_run": 3 + index % 4})
            for index, shape in enumerate(SHAPES)
        ]  # fmt: skip

    one_by_one, batched = rules("single"), rules("batched")
    singles = [run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY) for rule in one_by_one]
    with CaptureQueriesContext(connection) as queries:
        executions = run_rules(rule_ids=[rule.pk for rule in batched], now=CLOCK, as_of=TODAY)

    def outcome(execution: RuleExecution) -> tuple:
        actions = RuleAction.objects.filter(execution=execution)
        return (
            execution.status, execution.targets_evaluated, execution.targets_matched,
            execution.actions_applied, execution.actions_skipped,
            sorted(actions.values_list("campaign_id", "step", "status", "params")),
        )  # fmt: skip

    by_rule = {execution.rule_id: execution for execution in executions}
    assert len(by_rule) == len(batched)
    for single, rule in zip(singles, batched, strict=True):
        assert outcome(by_rule[rule.pk]) == outcome(single), rule.name
    assert sum(single.targets_matched for single in singles) > 0
    # One read for all the rules; bookkeeping only for the rules that matched.
    matched = sum(1 for single in singles if single.targets_matched)
    # (per matched rule: its campaigns, then per step claims, changes, statuses; skips)
    assert len(queries) <= 6 + 15 * matched, [q["sql"][:80] for q in queries.captured_queries]


def test_a_pass_sums_only_the_measures_its_conditions_read() -> None:
    definition = rule_definition(
        RuleFactory.build(
            conditions={
                "items": [
                    {"metric": "cpa", "window": "last_7_days", "operator": "gt", "value": "30"},
                    {"metric": "ctr", "window": "yesterday", "operator": "lt", "value": "0.01",
                     "compare_to_previous": True},
                ],
                "minimum_data": {"window": "today", "spend": "10"},
            }
        )
    )  # fmt: skip

    measures = needed_measures(definition, TODAY)

    last_7 = window_period("last_7_days", TODAY)
    yesterday = window_period("yesterday", TODAY)
    before = window_period("yesterday", TODAY, previous=True)
    today = window_period("today", TODAY)
    assert measures == {
        last_7: {"spend", "conversions"},
        yesterday: {"clicks", "impressions"},
        before: {"clicks", "impressions"},
        today: {"impressions", "clicks", "spend", "conversions"},
    }
    assert sorted(measures) == needed_spans(definition, TODAY)


def test_a_batched_pass_counts_the_campaigns_in_scope_when_none_may_match(
    organization: Organization,
) -> None:
    _campaigns(organization)
    campaign_ids = sorted(
        Campaign.objects.filter(organization=organization).values_list("pk", flat=True)
    )
    never = {"items": [{"metric": "spend", "window": "today", "operator": "gt", "value": "1e9"}]}
    everywhere = RuleFactory(organization=organization, conditions=never, is_dry_run=True)
    some = RuleFactory(
        organization=organization, conditions=never, is_dry_run=True,
        scope={"include": {"campaign_ids": campaign_ids[:7]}},
    )  # fmt: skip

    executions = run_rules(rule_ids=[everywhere.pk, some.pk], now=CLOCK, as_of=TODAY)

    by_rule = {execution.rule_id: execution for execution in executions}
    assert by_rule[everywhere.pk].targets_evaluated == 24
    assert by_rule[some.pk].targets_evaluated == 7
    assert by_rule[everywhere.pk].targets_matched == by_rule[some.pk].targets_matched == 0


def test_a_batched_pass_over_an_organization_without_campaigns_evaluates_none(
    organization: Organization,
) -> None:
    rule = RuleFactory(organization=organization, conditions=SHAPES[0], is_dry_run=True)

    (execution,) = run_rules(rule_ids=[rule.pk], now=CLOCK, as_of=TODAY)

    assert execution.error == ""
    assert execution.targets_evaluated == 0 and execution.targets_matched == 0
