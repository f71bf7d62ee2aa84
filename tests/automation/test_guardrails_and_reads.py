"""Guardrails, set-based reads, and the backtest deciding what a live run decides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adplatform.models import Organization
from automation.models import ActionStatus, AutomationRule, RuleAction
from automation.services import backtest_rule, rule_definition, run_rule
from campaigns.models import Campaign, CampaignChange
from integrations.models import Connection
from tests.automation.conftest import CLOCK, TODAY
from tests.automation.factories import RuleFactory, campaign_days
from tests.campaigns.factories import AdAccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _sandbox_rule(
    organization: Organization, step: dict, guardrails: dict
) -> tuple[Campaign, AutomationRule]:
    campaign = Campaign.objects.get(organization=organization, daily_budget=500)
    rule = RuleFactory(
        organization=organization,
        scope={"include": {"campaign_ids": [campaign.pk]}},
        conditions={
            "items": [{"metric": "spend", "window": "last_3_days", "operator": "gt", "value": "0"}]
        },
        actions=[step],
        guardrails=guardrails,
    )
    return campaign, rule


def test_a_budget_change_above_the_limit_is_skipped_and_the_verdict_recorded(
    sandbox: Connection, organization: Organization
) -> None:
    campaign, rule = _sandbox_rule(
        organization, {"type": "increase_budget", "percent": "50"},
        {"max_budget_change_pct": "25", "cooldown_hours": 0},
    )  # fmt: skip

    execution = run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("500.0000")
    assert not CampaignChange.objects.exists()
    skipped = RuleAction.objects.get()
    assert skipped.status == ActionStatus.SKIPPED
    assert skipped.guardrail_verdict["check"] == "max_budget_change_pct"
    assert execution.actions_skipped == 1


def test_a_budget_increase_is_capped_at_the_ceiling(
    sandbox: Connection, organization: Organization
) -> None:
    campaign, rule = _sandbox_rule(
        organization, {"type": "increase_budget", "percent": "50"},
        {"budget_ceiling": "550", "cooldown_hours": 0},
    )  # fmt: skip

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("550.00")
    change = CampaignChange.objects.get()
    assert change.guardrail_verdict["checks"] == ["capped at the ceiling 550"]


def test_a_budget_decrease_stops_at_the_floor(
    sandbox: Connection, organization: Organization
) -> None:
    campaign, rule = _sandbox_rule(
        organization, {"type": "decrease_budget", "percent": "90"},
        {"budget_floor": "400", "cooldown_hours": 0},
    )  # fmt: skip

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("400.00")


def test_the_cooldown_keeps_a_rule_off_a_campaign_it_just_changed(
    sandbox: Connection, organization: Organization
) -> None:
    campaign, rule = _sandbox_rule(
        organization, {"type": "increase_budget", "percent": "10"}, {"cooldown_hours": 48}
    )

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)
    next_day = CLOCK + dt.timedelta(days=1)
    second = run_rule(rule_id=rule.pk, now=next_day, as_of=next_day.date())

    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("550.00")
    assert second.actions_skipped == 1
    assert (
        RuleAction.objects.get(status=ActionStatus.SKIPPED).guardrail_verdict["check"] == "cooldown"
    )


def test_max_actions_per_run_limits_how_many_campaigns_one_run_changes(
    sandbox: Connection, organization: Organization
) -> None:
    rule = RuleFactory(
        organization=organization,
        conditions={
            "items": [{"metric": "spend", "window": "today", "operator": "gt", "value": "0"}]
        },
        actions=[{"type": "pause"}],
        guardrails={"max_actions_per_run": 1, "cooldown_hours": 0},
    )

    execution = run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    assert CampaignChange.objects.count() == 1
    assert (execution.targets_matched, execution.actions_applied, execution.actions_skipped) == (
        2,
        1,
        1,
    )
    assert (
        RuleAction.objects.get(status=ActionStatus.SKIPPED).guardrail_verdict["check"]
        == "max_actions_per_run"
    )


# --- Conditions over stored rollups ----------------------------------------------------------
def _campaigns(organization: Organization, count: int) -> list[Campaign]:
    account = AdAccountFactory(organization=organization)
    campaigns = CampaignFactory.create_batch(count, organization=organization, ad_account=account)
    for index, campaign in enumerate(campaigns):
        campaign_days(
            campaign,
            {TODAY - dt.timedelta(days=d): {"spend": 10 + index + d, "conversions": d % 3,
                                             "revenue": 30 * (d % 4)} for d in range(0, 15)},
        )  # fmt: skip
    return campaigns


def _dry_rule(organization: Organization, conditions: dict, **extra: object) -> AutomationRule:
    return RuleFactory(
        organization=organization, conditions=conditions, actions=[{"type": "pause"}],
        is_dry_run=True, **extra,
    )  # fmt: skip


@pytest.mark.parametrize("count", [5, 50])
def test_an_evaluation_pass_reads_with_a_fixed_number_of_queries(
    organization: Organization, count: int, django_assert_max_num_queries: object
) -> None:
    _campaigns(organization, count)
    rule = _dry_rule(
        organization,
        {"operator": "or", "items": [
            {"metric": "cpa", "window": "last_7_days", "operator": "gt", "value": "100000"},
            {"operator": "and", "items": [
                {"metric": "spend", "window": "last_3_days", "operator": "gt", "value": "1000000",
                 "compare_to_previous": False},
                {"metric": "roas", "window": "last_14_days", "operator": "lt", "other_metric": "cpa"},
            ]},
            {"metric": "spend", "window": "last_7_days", "operator": "gt", "value": "900",
             "compare_to_previous": True},
        ], "minimum_data": {"spend": "1"}},
    )  # fmt: skip

    with CaptureQueriesContext(connection) as queries:
        execution = run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    assert execution.targets_evaluated == count
    assert execution.targets_matched == 0
    # Rule, execution insert, targets, rollups, cooldown, execution save, rule outcome.
    assert len(queries) == 7, [q["sql"] for q in queries.captured_queries]


def test_a_condition_can_compare_two_metrics_and_a_change_against_the_previous_window(
    organization: Organization,
) -> None:
    account = AdAccountFactory(organization=organization)
    rising, flat = CampaignFactory.create_batch(2, organization=organization, ad_account=account)
    campaign_days(
        rising,
        {TODAY - dt.timedelta(days=d): {"spend": 100 if d <= 3 else 50} for d in range(1, 7)},
    )
    campaign_days(flat, {TODAY - dt.timedelta(days=d): {"spend": 50} for d in range(1, 7)})
    rule = _dry_rule(
        organization,
        {"items": [{"metric": "spend", "window": "last_3_days", "operator": "gte", "value": "100",
                    "compare_to_previous": True}]},
    )  # fmt: skip

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    action = RuleAction.objects.get()
    assert action.campaign == rising
    assert action.trigger_values["spend:last_3_days:change_pct"] == "100"


def test_the_minimum_data_guard_keeps_thin_data_from_triggering(organization: Organization) -> None:
    account = AdAccountFactory(organization=organization)
    campaign = CampaignFactory(organization=organization, ad_account=account)
    campaign_days(campaign, {TODAY - dt.timedelta(days=1): {"spend": 5, "conversions": 0}})
    rule = _dry_rule(
        organization,
        {"items": [{"metric": "spend", "window": "yesterday", "operator": "gt", "value": "1"}],
         "minimum_data": {"window": "last_7_days", "spend": "50"}},
    )  # fmt: skip

    execution = run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    assert (execution.targets_evaluated, execution.targets_matched) == (1, 0)


def test_the_scope_excludes_what_it_names(organization: Organization) -> None:
    campaigns = _campaigns(organization, 3)
    rule = _dry_rule(
        organization,
        {"items": [{"metric": "spend", "window": "today", "operator": "gt", "value": "0"}]},
        scope={"exclude": {"campaign_ids": [campaigns[0].pk]}},
    )

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    assert set(RuleAction.objects.values_list("campaign_id", flat=True)) == {
        c.pk for c in campaigns[1:]
    }


def test_another_organizations_campaigns_are_never_judged(
    organization: Organization, other_organization: Organization
) -> None:
    _campaigns(other_organization, 2)
    rule = _dry_rule(
        organization,
        {"items": [{"metric": "spend", "window": "today", "operator": "gt", "value": "0"}]},
    )

    execution = run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    assert execution.targets_evaluated == 0
    assert not RuleAction.objects.exists()


# --- Backtest --------------------------------------------------------------------------------
def test_the_preview_decides_what_a_live_run_decides_on_the_same_data(
    organization: Organization,
) -> None:
    _campaigns(organization, 12)
    rule = RuleFactory(
        organization=organization, is_dry_run=True,
        conditions={"operator": "or", "items": [
            {"metric": "cpa", "window": "last_7_days", "operator": "gt", "value": "20"},
            {"metric": "roas", "window": "last_3_days", "operator": "lt", "value": "1.5"},
        ]},
        actions=[{"type": "decrease_budget", "percent": "10"}, {"type": "notify"}],
        guardrails={"max_actions_per_run": 4, "cooldown_hours": 0},
    )  # fmt: skip

    preview = backtest_rule(organization, definition=rule_definition(rule), days=1, end=TODAY)
    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    live = {
        (
            a.campaign_id,
            a.step,
            a.action_type,
            a.status == ActionStatus.SKIPPED,
            tuple(sorted(a.params.items())),
        )
        for a in RuleAction.objects.all()
    }
    previewed = {
        (f.campaign_id, f.step, f.action_type, bool(f.skipped), tuple(sorted(f.params.items())))
        for f in preview.firings
    }
    assert previewed == live
    assert len([f for f in preview.applied if f.step == 0]) == 4


def test_a_backtest_replays_days_with_the_cooldown_and_the_simulated_changes(
    organization: Organization,
) -> None:
    [campaign] = _campaigns(organization, 1)
    rule = RuleFactory(
        organization=organization,
        conditions={
            "items": [{"metric": "spend", "window": "yesterday", "operator": "gt", "value": "0"}]
        },
        actions=[{"type": "increase_budget", "percent": "10"}],
        guardrails={"cooldown_hours": 48, "budget_ceiling": "115"},
    )

    result = backtest_rule(organization, definition=rule_definition(rule), days=6, end=TODAY)

    fired = [(f.day, f.params.get("daily_budget"), f.skipped) for f in result.firings]
    applied = [(day, budget) for day, budget, skipped in fired if not skipped]
    # Day 1 raises 100 → 110, the cooldown skips day 2, day 3 hits the ceiling at 115 and
    # day 5 finds the budget at its bound.
    assert applied == [
        (TODAY - dt.timedelta(days=5), "110.00"),
        (TODAY - dt.timedelta(days=3), "115"),
    ]
    assert result.spend_affected == Decimal("15.00")
    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("100.0000")  # a backtest changes nothing
