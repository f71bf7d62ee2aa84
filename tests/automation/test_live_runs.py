"""Rules run live against the sandbox platform: the platform's campaign really changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from adplatform.models import Membership, Organization
from automation.models import ActionStatus, AutomationRule, ExecutionStatus, RuleAction
from automation.services import approve_rule_action, reject_rule_action, run_rule
from campaigns.models import ActorKind, Campaign, CampaignChange, ChangeStatus, DeliveryStatus
from integrations.models import Connection
from tests.automation.conftest import CLOCK
from tests.automation.factories import RuleFactory
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _biggest(sandbox: Connection) -> Campaign:
    # Sandbox seed 3: the active campaign with a 500 budget, 258.13 spent today.
    return Campaign.objects.get(organization=sandbox.organization, daily_budget=500)


def _rule(
    organization: Organization, campaign: Campaign, actions: list[dict], **extra: object
) -> AutomationRule:
    guardrails = extra.pop("guardrails", {"cooldown_hours": 0})
    return RuleFactory(
        organization=organization,
        scope={"include": {"campaign_ids": [campaign.pk]}},
        conditions={
            "items": [{"metric": "spend", "window": "today", "operator": "gte", "value": "0"}]
        },
        actions=actions,
        guardrails=guardrails,
        **extra,
    )


def _run(rule: AutomationRule, now: dt.datetime = CLOCK) -> object:
    return run_rule(rule_id=rule.pk, now=now, as_of=now.date())


def test_a_pause_rule_pauses_the_campaign_on_the_platform_and_records_the_change(
    sandbox: Connection, organization: Organization
) -> None:
    campaign = _biggest(sandbox)
    rule = RuleFactory(
        organization=organization,
        conditions={
            "items": [{"metric": "spend", "window": "today", "operator": "gt", "value": "200"}]
        },
        actions=[{"type": "pause"}],
    )

    execution = _run(rule)

    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.PAUSED
    change = CampaignChange.objects.get(campaign=campaign)
    assert (change.status, change.kind, change.actor_kind) == (
        ChangeStatus.APPLIED,
        "pause",
        ActorKind.RULE,
    )
    assert change.after["status"] == "paused"
    action = RuleAction.objects.get(rule=rule)
    assert action.change == change and action.status == ActionStatus.APPLIED
    assert action.trigger_values == {"spend:today": "258.1300"}
    assert (execution.targets_evaluated, execution.targets_matched, execution.actions_applied) == (
        3,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("step", "field", "expected"),
    [
        ({"type": "increase_budget", "percent": "20"}, "daily_budget", Decimal("600.00")),
        ({"type": "decrease_budget", "percent": "10"}, "daily_budget", Decimal("450.00")),
        ({"type": "set_budget", "amount": "321.50"}, "daily_budget", Decimal("321.50")),
        ({"type": "adjust_bid", "percent": "-10"}, "bid_amount", Decimal("6.09")),
        ({"type": "set_bid", "amount": "7.25"}, "bid_amount", Decimal("7.25")),
    ],
)
def test_budget_and_bid_actions_change_the_platforms_campaign(
    sandbox: Connection, organization: Organization, step: dict, field: str, expected: Decimal
) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [step])

    _run(rule)

    campaign.refresh_from_db()
    assert getattr(campaign, field) == expected
    change = CampaignChange.objects.get(campaign=campaign)
    assert change.status == ChangeStatus.APPLIED
    assert Decimal(change.after[field]) == expected


def test_an_activate_rule_restarts_a_paused_campaign(
    sandbox: Connection, organization: Organization
) -> None:
    campaign = Campaign.objects.get(organization=organization, status=DeliveryStatus.PAUSED)
    rule = _rule(organization, campaign, [{"type": "activate"}])

    _run(rule)

    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.ACTIVE
    assert CampaignChange.objects.get(campaign=campaign).status == ChangeStatus.APPLIED


def test_a_notify_step_sends_through_the_one_notification_function(
    sandbox: Connection, organization: Organization
) -> None:
    from notifications.models import Notification

    campaign = _biggest(sandbox)
    rule = _rule(
        organization, campaign, [{"type": "notify", "priority": "high", "message": "look"}]
    )

    _run(rule)

    notification = Notification.objects.get(organization=organization)
    assert (notification.type, notification.priority) == ("rule_alert", "high")
    assert notification.title == f"{rule.name}: {campaign.name}"
    assert notification.body.startswith("look")
    assert RuleAction.objects.get(rule=rule).status == ActionStatus.APPLIED
    assert not CampaignChange.objects.exists()


def test_evaluating_the_same_window_twice_applies_once(
    sandbox: Connection, organization: Organization
) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [{"type": "increase_budget", "percent": "20"}])

    first = _run(rule)
    second = _run(rule, CLOCK + dt.timedelta(minutes=15))

    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("600.00")
    assert CampaignChange.objects.filter(campaign=campaign).count() == 1
    assert (first.actions_applied, second.actions_applied, second.actions_skipped) == (1, 0, 1)


def test_a_retry_after_a_crash_between_platform_call_and_bookkeeping_applies_once(
    sandbox: Connection, organization: Organization
) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [{"type": "increase_budget", "percent": "20"}])
    _run(rule)
    change = CampaignChange.objects.get()
    # The worker died after the platform applied the change, before the rule's own row was
    # finished: the claim is still pending and knows of no change.
    RuleAction.objects.update(status=ActionStatus.PENDING, change=None, finished_at=None)

    retried = _run(rule, CLOCK + dt.timedelta(minutes=1))

    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("600.00")
    assert CampaignChange.objects.count() == 1
    action = RuleAction.objects.get()
    assert (action.status, action.change_id) == (ActionStatus.APPLIED, change.pk)
    assert retried.actions_applied == 1


def test_a_new_window_acts_again(sandbox: Connection, organization: Organization) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [{"type": "increase_budget", "percent": "20"}])

    _run(rule)
    _run(rule, CLOCK + dt.timedelta(days=1))

    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("720.00")


def test_a_failed_step_stops_the_chain_when_told_to(organization: Organization) -> None:
    # No platform connection: the pause fails, so the notification must not go out.
    campaign = CampaignFactory(organization=organization, ad_account__organization=organization)
    rule = _rule(organization, campaign, [{"type": "pause"}, {"type": "notify"}])

    execution = _run(rule)

    action = RuleAction.objects.get(rule=rule)
    assert (action.step, action.status) == (0, ActionStatus.FAILED)
    assert "connection" in action.error
    assert execution.status == ExecutionStatus.FAILED


def test_a_failed_step_continues_the_chain_when_told_not_to_stop(
    organization: Organization,
) -> None:
    campaign = CampaignFactory(organization=organization, ad_account__organization=organization)
    rule = _rule(
        organization, campaign, [{"type": "pause", "stop_on_failure": False}, {"type": "notify"}]
    )

    _run(rule)

    statuses = dict(RuleAction.objects.values_list("step", "status"))
    assert statuses == {0: ActionStatus.FAILED, 1: ActionStatus.APPLIED}


def test_repeated_failed_executions_disable_the_rule(organization: Organization) -> None:
    campaign = CampaignFactory(organization=organization, ad_account__organization=organization)
    rule = _rule(organization, campaign, [{"type": "pause"}], max_consecutive_failures=2)

    _run(rule)
    rule.refresh_from_db()
    assert (rule.is_enabled, rule.consecutive_failures) == (True, 1)
    _run(rule, CLOCK + dt.timedelta(days=1))

    rule.refresh_from_db()
    assert rule.is_enabled is False
    assert rule.consecutive_failures == 2
    assert "repeated" in rule.disabled_reason


def test_dry_run_records_everything_but_calls_no_platform(
    sandbox: Connection, organization: Organization
) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [{"type": "pause"}], is_dry_run=True)

    _run(rule)

    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.ACTIVE
    change = CampaignChange.objects.get()
    assert (change.status, change.is_dry_run) == (ChangeStatus.DRY_RUN, True)
    assert RuleAction.objects.get().status == ActionStatus.DRY_RUN


# --- Approval mode ---------------------------------------------------------------------------
def test_approval_mode_applies_nothing_until_approved(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [{"type": "increase_budget", "percent": "20"}],
                 requires_approval=True)  # fmt: skip

    execution = _run(rule)

    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("500.0000")
    assert not CampaignChange.objects.exists()
    proposal = RuleAction.objects.get()
    assert proposal.status == ActionStatus.AWAITING_APPROVAL
    assert execution.actions_proposed == 1

    approved = approve_rule_action(organization, action_id=proposal.pk, user=member.user, now=CLOCK)

    campaign.refresh_from_db()
    assert approved.status == ActionStatus.APPLIED
    assert campaign.daily_budget == Decimal("600.00")
    assert CampaignChange.objects.get().status == ChangeStatus.APPLIED


def test_an_approval_is_rechecked_and_skipped_when_the_rule_no_longer_matches(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [{"type": "pause"}], requires_approval=True)
    _run(rule)
    rule.conditions = {
        "items": [{"metric": "spend", "window": "today", "operator": "gt", "value": "100000"}]
    }
    rule.save()

    action = approve_rule_action(
        organization, action_id=RuleAction.objects.get().pk, user=member.user, now=CLOCK
    )

    campaign.refresh_from_db()
    assert action.status == ActionStatus.SKIPPED
    assert campaign.status == DeliveryStatus.ACTIVE
    assert not CampaignChange.objects.exists()


def test_a_rejected_proposal_is_never_applied(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [{"type": "pause"}], requires_approval=True)
    _run(rule)

    reject_rule_action(organization, action_id=RuleAction.objects.get().pk, user=member.user)
    _run(rule, CLOCK + dt.timedelta(minutes=15))

    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.ACTIVE
    assert RuleAction.objects.get().status == ActionStatus.REJECTED
    assert not CampaignChange.objects.exists()


def test_another_organization_cannot_approve_a_proposal(
    sandbox: Connection,
    organization: Organization,
    other_organization: Organization,
    member: Membership,
) -> None:
    from automation.services import ApprovalError

    campaign = _biggest(sandbox)
    rule = _rule(organization, campaign, [{"type": "pause"}], requires_approval=True)
    _run(rule)

    with pytest.raises(ApprovalError):
        approve_rule_action(
            other_organization, action_id=RuleAction.objects.get().pk, user=member.user
        )

    assert RuleAction.objects.get().status == ActionStatus.AWAITING_APPROVAL


def test_an_approval_within_the_cooldown_of_an_applied_change_is_skipped(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    campaign = _biggest(sandbox)
    rule = _rule(
        organization, campaign, [{"type": "increase_budget", "percent": "10"}],
        requires_approval=True, guardrails={"cooldown_hours": 24},
    )  # fmt: skip
    _run(rule)
    first = RuleAction.objects.get()
    approve_rule_action(organization, action_id=first.pk, user=member.user, now=CLOCK)
    next_day = CLOCK + dt.timedelta(days=1)
    run_rule(rule_id=rule.pk, now=next_day, as_of=next_day.date())
    second = RuleAction.objects.get(status=ActionStatus.AWAITING_APPROVAL)

    decided = approve_rule_action(
        organization, action_id=second.pk, user=member.user, now=CLOCK + dt.timedelta(hours=2)
    )

    campaign.refresh_from_db()
    assert decided.status == ActionStatus.SKIPPED
    assert decided.guardrail_verdict["check"] == "cooldown"
    assert campaign.daily_budget == Decimal("550.00")
