from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from adplatform.models import AuditEntry, Organization, Role
from automation.models import ActionStatus, AutomationRule, RuleAction, RuleExecution
from campaigns.models import Campaign, CampaignChange, DeliveryStatus
from integrations.models import Connection
from tests.automation.factories import RuleFactory, campaign_days
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Stop the bleeding",
    "type": "performance",
    "conditions": {
        "operator": "and",
        "items": [{"metric": "cpa", "window": "last_7_days", "operator": "gt", "value": "50"}],
    },
    "actions": [{"type": "pause"}, {"type": "notify", "priority": "high"}],
    "guardrails": {"cooldown_hours": 12},
}


def test_a_member_creates_a_rule_and_the_change_is_audited(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    response = api_client_for(organization).post("/api/v1/rules/", VALID, format="json")

    assert response.status_code == 201, response.content
    rule = AutomationRule.objects.get()
    assert (rule.organization, rule.name, rule.is_enabled) == (
        organization,
        "Stop the bleeding",
        True,
    )
    assert rule.guardrails["cooldown_hours"] == 12
    assert rule.conditions["items"][0]["value"] == "50"
    assert AuditEntry.objects.filter(organization=organization, action="rule_changed").count() == 1


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        (
            {
                "conditions": {
                    "items": [
                        {"metric": "cpz", "window": "last_7_days", "operator": "gt", "value": 1}
                    ]
                }
            },
            "conditions.items.0.metric",
        ),
        (
            {
                "conditions": {
                    "items": [
                        {"metric": "cpa", "window": "last_99_days", "operator": "gt", "value": 1}
                    ]
                }
            },
            "conditions.items.0.window",
        ),
        (
            {"conditions": {"items": [{"metric": "cpa", "operator": "about", "value": 1}]}},
            "conditions.items.0.operator",
        ),
        ({"actions": [{"type": "increase_budget", "percent": "5000"}]}, "actions.0.percent"),
        ({"actions": [{"type": "teleport"}]}, "actions.0.type"),
        ({"guardrails": {"budget_floor": "10", "budget_ceiling": "5"}}, "guardrails"),
        ({"guardrails": {"cooldown_hours": -1}}, "guardrails.cooldown_hours"),
        ({"scope": {"include": {"platforms": ["myspace"]}}}, "scope.include.platforms"),
        (
            {
                "conditions": {
                    "items": [{"operator": "or", "items": [{"operator": "and", "items": []}]}]
                }
            },
            "conditions.items.0",
        ),
    ],
)
def test_an_invalid_rule_is_a_400_with_the_field_named(
    organization: Organization, api_client_for: Callable[..., APIClient], patch: dict, field: str
) -> None:
    response = api_client_for(organization).post(
        "/api/v1/rules/", {**VALID, **patch}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"], body
    assert not AutomationRule.objects.exists()


def test_a_scope_naming_another_organizations_campaign_is_refused(
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    foreign = CampaignFactory(
        organization=other_organization, ad_account__organization=other_organization
    )

    response = api_client_for(organization).post(
        "/api/v1/rules/",
        {**VALID, "scope": {"include": {"campaign_ids": [foreign.pk]}}},
        format="json",
    )

    assert response.status_code == 400
    assert "scope.include.campaign_ids" in response.json()["errors"]


def test_a_viewer_cannot_create_run_or_disable_a_rule(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    rule = RuleFactory(organization=organization)
    client = api_client_for(organization, Role.VIEWER)

    assert client.post("/api/v1/rules/", VALID, format="json").status_code == 403
    assert client.post(f"/api/v1/rules/{rule.pk}/run/").status_code == 403
    assert client.post(f"/api/v1/rules/{rule.pk}/disable/").status_code == 403
    assert client.get(f"/api/v1/rules/{rule.pk}/").status_code == 200
    rule.refresh_from_db()
    assert rule.is_enabled and not RuleExecution.objects.exists()


def test_disable_then_enable(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    rule = RuleFactory(organization=organization, consecutive_failures=3)
    client = api_client_for(organization)

    assert client.post(f"/api/v1/rules/{rule.pk}/disable/").json()["is_enabled"] is False
    enabled = client.post(f"/api/v1/rules/{rule.pk}/enable/").json()

    assert (enabled["is_enabled"], enabled["consecutive_failures"]) == (True, 0)


def test_a_manual_run_executes_the_rule_and_lists_its_execution(
    sandbox_today: Connection, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    rule = RuleFactory(
        organization=organization,
        conditions={
            "items": [{"metric": "spend", "window": "last_3_days", "operator": "gt", "value": "0"}]
        },
        actions=[{"type": "pause"}],
        is_dry_run=True,
    )
    client = api_client_for(organization)

    assert client.post(f"/api/v1/rules/{rule.pk}/run/").status_code == 202
    executions = client.get(f"/api/v1/rules/{rule.pk}/executions/").json()["results"]

    assert len(executions) == 1
    assert executions[0]["trigger"] == "manual"
    assert executions[0]["targets_matched"] == 2


def test_the_preview_lists_days_targets_and_actions(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    import datetime as dt

    from django.utils import timezone

    campaign = CampaignFactory(organization=organization, ad_account__organization=organization)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    campaign_days(campaign, {yesterday: {"spend": 95}})
    rule = RuleFactory(
        organization=organization,
        conditions={
            "items": [
                {"metric": "budget_spent_pct", "window": "today", "operator": "gte", "value": "90"}
            ]
        },
        actions=[{"type": "pause"}],
    )

    body = api_client_for(organization).get(f"/api/v1/rules/{rule.pk}/preview/?days=3").json()

    assert body["actions"] == 1
    assert body["spend_affected"] == "95.0000"
    [firing] = body["firings"]
    assert (firing["day"], firing["campaign_id"], firing["action_type"]) == (
        yesterday.isoformat(),
        campaign.pk,
        "pause",
    )
    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.ACTIVE


def test_a_preview_with_a_bad_parameter_is_a_400(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    rule = RuleFactory(organization=organization)

    response = api_client_for(organization).get(f"/api/v1/rules/{rule.pk}/preview/?days=500")

    assert response.status_code == 400
    assert "days" in response.json()["errors"]


def test_the_template_gallery_lists_valid_rules(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    client = api_client_for(organization)
    templates = client.get("/api/v1/rule-templates/").json()

    assert {t["slug"] for t in templates} >= {
        "budget-protection",
        "pause-high-cpa",
        "scale-winners",
        "night-pause",
    }
    for template in templates:
        body = {
            k: template[k]
            for k in ("name", "type", "conditions", "actions", "guardrails", "frequency")
        }
        assert client.post("/api/v1/rules/", body, format="json").status_code == 201


def test_approving_through_the_api_applies_the_proposal(
    sandbox_today: Connection, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    campaign = Campaign.objects.get(organization=organization, daily_budget=500)
    rule = RuleFactory(
        organization=organization,
        scope={"include": {"campaign_ids": [campaign.pk]}},
        conditions={
            "items": [{"metric": "spend", "window": "last_3_days", "operator": "gt", "value": "0"}]
        },
        actions=[{"type": "pause"}],
        requires_approval=True,
    )
    client = api_client_for(organization)
    client.post(f"/api/v1/rules/{rule.pk}/run/")
    [proposal] = client.get("/api/v1/approvals/").json()["results"]
    viewer = api_client_for(organization, Role.VIEWER)

    assert viewer.post(f"/api/v1/approvals/{proposal['id']}/approve/").status_code == 403
    assert not CampaignChange.objects.exists()
    response = client.post(f"/api/v1/approvals/{proposal['id']}/approve/")

    assert response.status_code == 200, response.content
    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.PAUSED
    assert RuleAction.objects.get().status == ActionStatus.APPLIED
    again = client.post(f"/api/v1/approvals/{proposal['id']}/approve/")
    assert again.status_code == 404  # no longer awaiting approval
