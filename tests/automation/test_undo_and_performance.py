"""One-click undo against the sandbox platform, and a rule's track record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from adplatform.models import AuditEntry, Membership, Organization, Role
from automation.models import ActionStatus, AutomationRule, RuleAction, RuleExecution
from automation.performance import rule_performance
from automation.services import run_rule
from campaigns.models import ActorKind, Campaign, CampaignChange, ChangeStatus, DeliveryStatus
from campaigns.services.changes import Actor, set_daily_budget
from integrations.models import Connection
from tests.automation.conftest import CLOCK
from tests.automation.factories import RuleFactory, campaign_days
from tests.campaigns.factories import CampaignChangeFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _biggest(sandbox: Connection) -> Campaign:
    return Campaign.objects.get(organization=sandbox.organization, daily_budget=500)


def _acted(organization: Organization, campaign: Campaign, step: dict[str, Any],
           guardrails: dict[str, Any] | None = None) -> RuleAction:  # fmt: skip
    rule = RuleFactory(
        organization=organization,
        scope={"include": {"campaign_ids": [campaign.pk]}},
        conditions={
            "items": [{"metric": "spend", "window": "today", "operator": "gte", "value": "0"}]
        },
        actions=[step],
        guardrails=guardrails or {"cooldown_hours": 0},
    )
    run_rule(rule_id=rule.pk, now=CLOCK, as_of=CLOCK.date())
    action = RuleAction.objects.get(rule=rule)
    assert action.status == ActionStatus.APPLIED
    return action


def test_undo_of_a_budget_change_restores_it_on_the_platform_and_is_audited(
    sandbox: Connection, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    campaign = _biggest(sandbox)
    action = _acted(organization, campaign, {"type": "increase_budget", "percent": "20"})
    client = api_client_for(organization)

    listed = client.get("/api/v1/rule-actions/")
    response = client.post(f"/api/v1/rule-actions/{action.pk}/undo/")
    again = client.post(f"/api/v1/rule-actions/{action.pk}/undo/")

    assert [row["undoable"] for row in listed.json()["results"]] == [True]
    assert response.status_code == 200, response.content
    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("500.00")
    undo = CampaignChange.objects.get(pk=response.json()["id"])
    assert (undo.status, undo.undoes_id, undo.kind, undo.actor_kind) == (
        ChangeStatus.APPLIED, action.change_id, "daily_budget", ActorKind.API_KEY,
    )  # fmt: skip
    assert Decimal(undo.expected_before["daily_budget"]) == Decimal("600")
    assert again.status_code == 409
    assert CampaignChange.objects.filter(undoes=action.change).count() == 1
    entry = AuditEntry.objects.get(organization=organization, data__event="action_undone")
    assert entry.data["undo_change"] == undo.pk


def test_undo_of_a_pause_restarts_the_campaign(
    sandbox: Connection, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    campaign = _biggest(sandbox)
    action = _acted(organization, campaign, {"type": "pause"})

    response = api_client_for(organization).post(f"/api/v1/rule-actions/{action.pk}/undo/")

    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.ACTIVE


def test_undo_refuses_when_the_campaign_changed_since_and_changes_nothing(
    sandbox: Connection, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    campaign = _biggest(sandbox)
    action = _acted(organization, campaign, {"type": "increase_budget", "percent": "20"})
    set_daily_budget(campaign=campaign, amount=Decimal("700"), actor=Actor.system("test"))
    changes = CampaignChange.objects.count()

    response = api_client_for(organization).post(f"/api/v1/rule-actions/{action.pk}/undo/")

    assert response.status_code == 409
    assert "changed since" in response.json()["detail"]
    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("700.00")
    assert CampaignChange.objects.count() == changes


def test_undo_obeys_the_rules_guardrails(
    sandbox: Connection, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    campaign = _biggest(sandbox)
    action = _acted(organization, campaign, {"type": "decrease_budget", "percent": "50"})
    AutomationRule.objects.filter(pk=action.rule_id).update(
        guardrails={"cooldown_hours": 0, "max_budget_change_pct": "25"}
    )

    response = api_client_for(organization).post(f"/api/v1/rule-actions/{action.pk}/undo/")

    assert response.status_code == 400
    assert "exceeds the rule's limit of 25%" in response.json()["errors"]["guardrails"][0]
    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("250.00")


def test_what_was_not_applied_cannot_be_undone_and_others_cannot_undo(
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    campaign = CampaignFactory(organization=organization, ad_account__organization=organization)
    action = _action(campaign, status=ActionStatus.FAILED, change=None)

    refused = api_client_for(organization).post(f"/api/v1/rule-actions/{action.pk}/undo/")
    foreign = api_client_for(other_organization, Role.OWNER).post(
        f"/api/v1/rule-actions/{action.pk}/undo/"
    )
    viewer = api_client_for(organization, Role.VIEWER).post(
        f"/api/v1/rule-actions/{action.pk}/undo/"
    )

    assert refused.status_code == 400
    assert foreign.status_code == 404
    assert viewer.status_code == 403


def test_the_rule_page_undoes_in_place(
    sandbox: Connection, member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    campaign = _biggest(sandbox)
    action = _acted(member.organization, campaign, {"type": "set_budget", "amount": "321.50"})
    client = web_client_for(member)

    page = client.get(f"/rules/{action.rule_id}/")
    undone = client.post(f"/rules/actions/{action.pk}/undo/", HTTP_HX_REQUEST="true")

    assert f'hx-post="/rules/actions/{action.pk}/undo/"' in page.content.decode()
    assert "Undone." in undone.content.decode()
    assert "/undo/" not in undone.content.decode()  # no second undo button
    campaign.refresh_from_db()
    assert campaign.daily_budget == Decimal("500.00")


def _action(campaign: Campaign, **values: Any) -> RuleAction:
    rule = values.pop("rule", None) or RuleFactory(organization=campaign.organization)
    execution = RuleExecution.objects.create(
        organization=campaign.organization, rule=rule, as_of=CLOCK.date(), started_at=CLOCK
    )
    values.setdefault("status", ActionStatus.APPLIED)
    return RuleAction.objects.create(
        organization=campaign.organization, rule=rule, execution=execution, campaign=campaign,
        step=0, idempotency_key=f"test:{RuleAction.objects.count()}", **values,
    )  # fmt: skip


def test_the_track_record_counts_and_compares_seven_days_before_and_after(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    campaign = CampaignFactory(organization=organization, ad_account__organization=organization)
    rule = RuleFactory(organization=organization)
    day = dt.date(2026, 3, 10)
    moment = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    change = CampaignChangeFactory(campaign=campaign, kind="daily_budget")
    _action(campaign, rule=rule, action_type="increase_budget", change=change, finished_at=moment)
    _action(campaign, rule=rule, action_type="pause", status=ActionStatus.FAILED)
    _action(campaign, rule=rule, action_type="pause", status=ActionStatus.SKIPPED)
    # 7 days before: spend 70, 7 conversions, revenue 140 (CPA 10, ROAS 2); after (3 days
    # of data so far): spend 30, 6 conversions, revenue 90 (CPA 5, ROAS 3). The day of the
    # change itself and days outside the windows are not counted.
    before = {
        day - dt.timedelta(days=n): {"spend": 10, "conversions": 1, "revenue": 20}
        for n in range(1, 8)
    }
    after = {
        day + dt.timedelta(days=n): {"spend": 10, "conversions": 2, "revenue": 30}
        for n in range(1, 4)
    }
    outside = {day: {"spend": 999}, day - dt.timedelta(days=8): {"spend": 999}}
    campaign_days(campaign, {**before, **after, **outside})

    found = rule_performance(organization, rule, today=day + dt.timedelta(days=4))

    assert (found.times_fired, found.applied, found.failed, found.skipped) == (2, 1, 1, 1)
    assert found.success_rate == Decimal("50.0")
    assert found.spend_affected == Decimal("70")
    comparison = found.budget_and_bid
    assert comparison is not None
    assert (comparison.changes, comparison.after_days_observed) == (1, 3)
    assert (comparison.cpa_before, comparison.cpa_after) == (Decimal(10), Decimal(5))
    assert (comparison.roas_before, comparison.roas_after) == (Decimal(2), Decimal(3))

    response = api_client_for(organization).get(f"/api/v1/rules/{rule.pk}/performance/")
    assert response.status_code == 200
    assert response.json()["times_fired"] == 2 and response.json()["success_rate"] == "50.0"


def test_a_rule_that_never_acted_has_an_empty_record(organization: Organization) -> None:
    rule = RuleFactory(organization=organization)

    found = rule_performance(organization, rule, today=timezone.localdate())

    assert (found.times_fired, found.success_rate, found.spend_affected) == (0, None, 0)
    assert found.budget_and_bid is None
