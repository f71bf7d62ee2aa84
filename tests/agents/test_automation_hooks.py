"""The "AI recommendation" trigger and "AI optimize" action, end to end on the sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from adplatform.models import Organization
from agents import automation_hooks
from agents.models import Recommendation, RecommendationStatus
from agents.runs import default_as_of
from agents.specialists import performance_optimizer_offline
from agents.tools.data import load_snapshot
from automation.models import ActionStatus, AutomationRule, RuleAction
from automation.schema import RuleDefinitionError, parse_rule_definition
from automation.services import approve_rule_action, run_rule
from campaigns.models import ActorKind, Campaign, CampaignChange, ChangeStatus, DeliveryStatus
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.services import create_sandbox_connection
from tests.agents.sandbox import CLOCK, build_sandbox_org
from tests.automation.factories import RuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_reports() -> None:
    # Test databases reuse row ids after a rollback; the per-execution cache must not
    # carry one test's agent report into the next.
    automation_hooks._REPORTS.clear()


def _synced(organization: Organization, seed: int = 3) -> list[Campaign]:
    """A week of one sandbox platform: enough for the trigger (no curves needed)."""
    connection = create_sandbox_connection(
        organization=organization, platform="tiktok", seed=seed, clock=CLOCK
    )
    import_ad_accounts(connection=connection)
    sync_connection(connection_id=connection.pk, since=CLOCK.date() - dt.timedelta(days=8))
    return list(Campaign.objects.filter(organization=organization).order_by("pk"))


def _recommend(campaign: Campaign, confidence: float, **extra: Any) -> Recommendation:
    values: dict[str, Any] = {
        "agent": "performance_optimizer", "action": "pause", "params": {},
        "title": f"Pause {campaign.name}", "confidence": confidence,
    }  # fmt: skip
    values.update(extra)
    organization_id = values.pop("organization_id", campaign.organization_id)
    return Recommendation.objects.create(
        organization_id=organization_id, campaign=campaign, **values
    )


def _signal(**params: Any) -> dict[str, Any]:
    return {"signal": "ai_recommendation", "action": "pause", "min_confidence": 0.8, **params}


def _run(rule: AutomationRule) -> Any:
    return run_rule(rule_id=rule.pk, now=CLOCK, as_of=CLOCK.date())


def _matched(rule: AutomationRule) -> set[int]:
    return set(RuleAction.objects.filter(rule=rule).values_list("campaign_id", flat=True))


# --- Trigger ---------------------------------------------------------------------------------
def test_the_trigger_matches_open_recommendations_above_the_confidence_only(
    organization: Organization, other_organization: Organization
) -> None:
    first, second, third = _synced(organization)[:3]
    confident = _recommend(first, 0.91)
    _recommend(second, 0.6)  # below the threshold
    _recommend(third, 0.95, status=RecommendationStatus.DISMISSED)  # decided already
    _recommend(second, 0.99, action="daily_budget", params={"daily_budget": 10})  # other action
    # A row of another organization naming this one's campaign must not count.
    _recommend(third, 0.99, organization_id=other_organization.pk)
    rule = RuleFactory(
        organization=organization, is_dry_run=True,
        conditions={"items": [_signal()]}, actions=[{"type": "notify"}],
    )  # fmt: skip

    execution = _run(rule)

    assert _matched(rule) == {first.pk}
    assert execution.targets_matched == 1
    action = RuleAction.objects.get(rule=rule)
    assert action.trigger_values == {
        "ai_recommendation:pause": f"#{confident.pk} performance_optimizer pause confidence 0.91"
    }


def test_the_trigger_honours_agent_and_age(organization: Organization) -> None:
    first, second = _synced(organization)[:2]
    _recommend(first, 0.9, agent="budget_manager")
    old = _recommend(second, 0.9)
    Recommendation.objects.filter(pk=old.pk).update(created_at=CLOCK - dt.timedelta(hours=100))
    rule = RuleFactory(
        organization=organization, is_dry_run=True,
        conditions={"items": [_signal(agent="performance_optimizer", max_age_hours=72)]},
        actions=[{"type": "notify"}],
    )  # fmt: skip

    _run(rule)

    assert _matched(rule) == set()


@pytest.mark.parametrize(("operator", "expected"), [("and", False), ("or", True)])
def test_the_trigger_combines_with_metric_conditions_in_groups(
    organization: Organization, operator: str, expected: bool
) -> None:
    first = _synced(organization)[0]
    _recommend(first, 0.9)
    impossible = {"metric": "spend", "window": "today", "operator": "gt", "value": "1000000000"}
    rule = RuleFactory(
        organization=organization, is_dry_run=True,
        conditions={"items": [{"operator": operator, "items": [_signal(), impossible]}]},
        actions=[{"type": "notify"}],
    )  # fmt: skip

    _run(rule)

    assert _matched(rule) == ({first.pk} if expected else set())


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        (_signal(min_confidence=1.5), "conditions.items.0.min_confidence"),
        (_signal(agent="oracle"), "conditions.items.0.agent"),
        (_signal(action="delete"), "conditions.items.0.action"),
        (_signal(max_age_hours=0), "conditions.items.0.max_age_hours"),
        ({"signal": "horoscope"}, "conditions.items.0.signal"),
        ({"signal": "ai_recommendation"}, "conditions.items.0.min_confidence"),
    ],
)
def test_invalid_ai_conditions_are_field_errors(condition: dict[str, Any], path: str) -> None:
    with pytest.raises(RuleDefinitionError) as caught:
        parse_rule_definition(
            {"conditions": {"items": [condition]}, "actions": [{"type": "pause"}]}
        )
    assert path in caught.value.errors


def test_invalid_ai_optimize_parameters_are_field_errors() -> None:
    with pytest.raises(RuleDefinitionError) as caught:
        parse_rule_definition(
            {"conditions": {"items": [_signal()]},
             "actions": [{"type": "ai_optimize", "min_confidence": -0.1, "source": "guess"}]}
        )  # fmt: skip
    assert {"actions.0.min_confidence", "actions.0.source"} <= set(caught.value.errors)


# --- Action ----------------------------------------------------------------------------------
@pytest.fixture
def optimized(organization: Organization) -> tuple[Campaign, float, Decimal]:
    """Three synced platforms (60 days, enough for response curves) and the campaign the
    offline Performance Optimizer is most confident about, its confidence and budget."""
    build_sandbox_org(organization)
    snapshot = load_snapshot(organization, as_of=default_as_of(organization))
    drafts = performance_optimizer_offline(snapshot).recommendations
    best = max((d for d in drafts if d.action == "daily_budget"), key=lambda d: d.confidence)
    return (
        Campaign.objects.get(pk=best.campaign_id),
        best.confidence,
        Decimal(str(best.params["daily_budget"])),
    )


def _optimize_rule(
    organization: Organization, campaign: Campaign, min_confidence: float, **extra: Any
) -> AutomationRule:
    return RuleFactory(
        organization=organization,
        scope={"include": {"campaign_ids": [campaign.pk]}},
        conditions={
            "items": [{"metric": "spend", "window": "today", "operator": "gte", "value": "0"}]
        },
        actions=[{"type": "ai_optimize", "min_confidence": min_confidence, "source": "run"}],
        **extra,
    )


def test_ai_optimize_runs_the_optimizer_and_applies_its_change_on_the_platform(
    organization: Organization, optimized: tuple[Campaign, float, Decimal]
) -> None:
    campaign, confidence, budget = optimized
    rule = _optimize_rule(organization, campaign, confidence - 0.01)

    execution = _run(rule)

    campaign.refresh_from_db()
    assert campaign.daily_budget == budget  # what the platform answered, stored by the sync path
    change = CampaignChange.objects.get(campaign=campaign)
    assert (change.status, change.kind, change.actor_kind) == (
        ChangeStatus.APPLIED, "daily_budget", ActorKind.RULE,
    )  # fmt: skip
    assert f"rule:{rule.pk}" in change.actor_label
    recommendation = Recommendation.objects.get(campaign=campaign)
    assert recommendation.status == RecommendationStatus.APPLIED
    assert recommendation.change == change
    assert f"recommendation #{recommendation.pk}" in change.reason
    action = RuleAction.objects.get(rule=rule)
    assert (action.status, action.change) == (ActionStatus.APPLIED, change)
    assert execution.actions_applied == 1


def test_ai_optimize_below_the_threshold_skips_with_the_reason(
    organization: Organization, optimized: tuple[Campaign, float, Decimal]
) -> None:
    campaign, confidence, _ = optimized
    before = campaign.daily_budget
    rule = _optimize_rule(organization, campaign, min(1.0, confidence + 0.01))

    _run(rule)

    campaign.refresh_from_db()
    assert campaign.daily_budget == before
    assert not CampaignChange.objects.filter(campaign=campaign).exists()
    action = RuleAction.objects.get(rule=rule)
    assert action.status == ActionStatus.SKIPPED
    assert "below the threshold" in action.error
    # The agent's answer is kept for a person to judge.
    assert Recommendation.objects.get(campaign=campaign).status == RecommendationStatus.PENDING


def test_ai_optimize_in_a_dry_run_records_without_calling_the_platform(
    organization: Organization, optimized: tuple[Campaign, float, Decimal]
) -> None:
    campaign, confidence, budget = optimized
    before = campaign.daily_budget
    rule = _optimize_rule(organization, campaign, confidence - 0.01, is_dry_run=True)

    _run(rule)

    campaign.refresh_from_db()
    assert campaign.daily_budget == before
    change = CampaignChange.objects.get(campaign=campaign)
    assert change.status == ChangeStatus.DRY_RUN
    assert Decimal(str(change.params["daily_budget"])) == budget
    assert RuleAction.objects.get(rule=rule).status == ActionStatus.DRY_RUN
    assert Recommendation.objects.get(campaign=campaign).status == RecommendationStatus.PENDING


def test_ai_optimize_keeps_the_rules_own_guardrails(
    organization: Organization, optimized: tuple[Campaign, float, Decimal]
) -> None:
    campaign, confidence, _ = optimized
    rule = _optimize_rule(
        organization, campaign, confidence - 0.01,
        guardrails={"cooldown_hours": 0, "max_budget_change_pct": "1"},
    )  # fmt: skip

    _run(rule)

    action = RuleAction.objects.get(rule=rule)
    assert action.status == ActionStatus.SKIPPED
    assert "exceeds the limit of 1%" in action.error
    assert not CampaignChange.objects.filter(campaign=campaign).exists()


def test_the_ai_trigger_and_action_apply_an_open_recommendation(
    organization: Organization,
) -> None:
    campaign = next(c for c in _synced(organization) if c.status == DeliveryStatus.ACTIVE)
    recommendation = _recommend(campaign, 0.93)
    rule = RuleFactory(
        organization=organization, scope={"include": {"campaign_ids": [campaign.pk]}},
        conditions={"items": [_signal(min_confidence=0.9)]},
        actions=[{"type": "ai_optimize", "min_confidence": 0.9, "source": "open"}],
    )  # fmt: skip

    _run(rule)

    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.PAUSED
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.APPLIED
    assert recommendation.change is not None
    assert recommendation.change.actor_kind == ActorKind.RULE
    # Applied once: the next pass finds no open recommendation, so nothing fires.
    _run(rule)
    assert RuleAction.objects.filter(rule=rule).count() == 1


def test_ai_optimize_waits_for_approval_and_rechecks(organization: Organization) -> None:
    campaign = next(c for c in _synced(organization) if c.status == DeliveryStatus.ACTIVE)
    _recommend(campaign, 0.93)
    rule = RuleFactory(
        organization=organization, requires_approval=True,
        scope={"include": {"campaign_ids": [campaign.pk]}},
        conditions={"items": [_signal(min_confidence=0.9)]},
        actions=[{"type": "ai_optimize", "min_confidence": 0.9, "source": "open"}],
    )  # fmt: skip

    _run(rule)
    proposal = RuleAction.objects.get(rule=rule)
    campaign.refresh_from_db()
    assert proposal.status == ActionStatus.AWAITING_APPROVAL
    assert campaign.status == DeliveryStatus.ACTIVE

    approve_rule_action(organization, action_id=proposal.pk, user=None, now=CLOCK)

    proposal.refresh_from_db()
    campaign.refresh_from_db()
    assert proposal.status == ActionStatus.APPLIED
    assert campaign.status == DeliveryStatus.PAUSED


# --- A recommendation turned into a rule -------------------------------------------------------
def test_a_recommendation_becomes_a_disabled_dry_run_rule_over_the_api(
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    campaign = _synced(organization)[0]
    recommendation = _recommend(campaign, 0.87)
    client = api_client_for(organization)

    response = client.post(f"/api/v1/recommendations/{recommendation.pk}/rule/")

    assert response.status_code == 201, response.json()
    rule = AutomationRule.objects.get(pk=response.json()["id"])
    assert (rule.organization, rule.is_enabled, rule.is_dry_run) == (organization, False, True)
    assert rule.scope["include"]["campaign_ids"] == [campaign.pk]
    assert rule.conditions["items"][0]["signal"] == "ai_recommendation"
    assert rule.conditions["items"][0]["min_confidence"] == 0.85
    assert rule.actions[0]["type"] == "ai_optimize"
    # Another organization cannot reach it.
    other = api_client_for(other_organization)
    assert other.post(f"/api/v1/recommendations/{recommendation.pk}/rule/").status_code == 404


def test_the_trigger_is_loaded_in_one_query_for_all_targets(organization: Organization) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from automation.signals import load_signals

    campaigns = _synced(organization)
    for campaign in campaigns:
        _recommend(campaign, 0.9)
    definition = parse_rule_definition(
        {"conditions": {"operator": "or", "items": [_signal(), _signal(), _signal(action="bid")]},
         "actions": [{"type": "notify"}]}
    )  # fmt: skip

    with CaptureQueriesContext(connection) as queries:
        signals = load_signals(organization.pk, definition, [c.pk for c in campaigns], now=CLOCK)

    assert signals is not None
    # Two distinct conditions (the repeated one is loaded once), one query each.
    assert len(queries) == 2
    assert set(signals[_key(_signal())]) == {c.pk for c in campaigns}
    assert signals[_key(_signal(action="bid"))] == {}


def _key(condition: dict[str, Any]) -> str:
    from automation.schema import SignalCondition

    return SignalCondition.model_validate(condition).key()


def test_ai_optimize_asked_again_reuses_its_open_recommendation(
    organization: Organization, optimized: tuple[Campaign, float, Decimal]
) -> None:
    campaign, confidence, _ = optimized
    rule = _optimize_rule(organization, campaign, min(1.0, confidence + 0.01))
    rule.actions = [{**rule.actions[0], "source": "open_or_run"}]
    rule.save()

    _run(rule)
    later = CLOCK + dt.timedelta(days=1)
    run_rule(rule_id=rule.pk, now=later, as_of=later.date())  # a new window: asked again

    skipped = RuleAction.objects.filter(rule=rule, status=ActionStatus.SKIPPED)
    assert skipped.count() == 2
    assert Recommendation.objects.filter(campaign=campaign).count() == 1


def test_the_preview_replays_which_recommendations_were_open_at_each_tick(
    organization: Organization,
) -> None:
    from automation.services.backtest import backtest_rule

    first, second = _synced(organization)[:2]
    recommendation = _recommend(first, 0.9)
    Recommendation.objects.filter(pk=recommendation.pk).update(
        created_at=dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC),
        decided_at=dt.datetime(2026, 3, 8, 12, tzinfo=dt.UTC),
        status=RecommendationStatus.DISMISSED,
    )
    _recommend(second, 0.9)  # open now, but created after every tick of the preview
    definition = parse_rule_definition(
        {"conditions": {"items": [_signal()]}, "actions": [{"type": "notify"}]}
    )

    result = backtest_rule(organization, definition=definition, days=5, end=dt.date(2026, 3, 9))

    # Each day is judged at its end: open from the 6th's end to the 8th's noon.
    assert {(f.day, f.campaign_id) for f in result.firings} == {
        (dt.date(2026, 3, 6), first.pk),
        (dt.date(2026, 3, 7), first.pk),
    }


@pytest.mark.parametrize(
    ("operator", "filtered"), [("and", True), ("or", False)], ids=["and", "or"]
)
def test_the_sql_prefilter_counts_the_ai_trigger_as_may_match(
    operator: str, filtered: bool
) -> None:
    from automation.engine import needed_spans
    from automation.prefilter import prefilter

    spend = {"metric": "spend", "window": "today", "operator": "gt", "value": "10"}
    alone = parse_rule_definition({"conditions": {"items": [_signal()]},
                                   "actions": [{"type": "notify"}]})  # fmt: skip
    mixed = parse_rule_definition(
        {"conditions": {"operator": operator, "items": [_signal(), spend]},
         "actions": [{"type": "notify"}]}
    )  # fmt: skip
    day = CLOCK.date()

    assert prefilter(alone, day, needed_spans(alone, day)) is None
    # AND: the metric still narrows the candidates; OR: the signal may match anything.
    assert (prefilter(mixed, day, needed_spans(mixed, day)) is not None) is filtered
