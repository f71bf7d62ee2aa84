from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adplatform.models import Membership, Organization
from automation.models import ActionStatus, AutomationRule, RuleAction
from tests.adplatform.factories import MembershipFactory
from tests.automation.factories import RuleFactory, rule_with_proposal
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_the_rules_page_lists_rules_and_pending_approvals(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    campaign = CampaignFactory(
        organization=member.organization, ad_account__organization=member.organization
    )
    proposal = rule_with_proposal(campaign)

    response = web_client_for(member).get("/rules/")

    assert response.status_code == 200
    page = response.content.decode()
    assert proposal.rule.name in page
    assert f'id="proposal-{proposal.pk}"' in page


def test_the_builder_shows_errors_in_place_and_creates_nothing(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    response = web_client_for(member).post(
        "/rules/new/",
        {
            "name": "Scale",
            "type": "scaling",
            "frequency": "daily",
            "metric": "roas",
            "window": "last_7_days",
            "operator": "gt",
            "value": "3",
            "action": "increase_budget",
            "action_value": "5000",
            "cooldown_hours": "24",
        },
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert 'data-field="action_value"' in response.content.decode()
    assert not AutomationRule.objects.exists()


def test_the_builder_creates_a_rule(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    response = web_client_for(member).post(
        "/rules/new/",
        {
            "name": "Scale",
            "type": "scaling",
            "frequency": "daily",
            "metric": "roas",
            "window": "last_7_days",
            "operator": "gt",
            "value": "3",
            "action": "increase_budget",
            "action_value": "20",
            "notify": "on",
            "cooldown_hours": "24",
            "budget_ceiling": "900",
        },
    )

    rule = AutomationRule.objects.get()
    assert response.status_code == 302
    assert rule.actions == [
        {"type": "increase_budget", "stop_on_failure": True, "percent": "20"},
        {"type": "notify", "stop_on_failure": True, "priority": "high"},
    ]
    assert rule.guardrails["budget_ceiling"] == "900"


def test_the_detail_page_previews_and_a_member_approves_from_the_list(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    campaign = CampaignFactory(
        organization=member.organization, ad_account__organization=member.organization
    )
    proposal = rule_with_proposal(campaign)
    client = web_client_for(member)

    assert client.get(f"/rules/{proposal.rule_id}/").status_code == 200
    preview = client.get(f"/rules/{proposal.rule_id}/preview/?days=3")
    decided = client.post(f"/rules/approvals/{proposal.pk}/", {"decision": "reject"})

    assert preview.status_code == 200 and 'data-testid="preview"' in preview.content.decode()
    assert decided.status_code == 200
    assert RuleAction.objects.get().status == ActionStatus.REJECTED


def test_another_organizations_rule_pages_are_404_and_nothing_changes(
    member: Membership,
    other_organization: Organization,
    web_client_for: Callable[[Membership], Any],
) -> None:
    campaign = CampaignFactory(
        organization=other_organization, ad_account__organization=other_organization
    )
    proposal = rule_with_proposal(campaign)
    client = web_client_for(member)

    for url in (f"/rules/{proposal.rule_id}/", f"/rules/{proposal.rule_id}/preview/"):
        assert client.get(url).status_code == 404
    for url in (f"/rules/{proposal.rule_id}/toggle/", f"/rules/{proposal.rule_id}/run/"):
        assert client.post(url).status_code == 404
    assert (
        client.post(f"/rules/approvals/{proposal.pk}/", {"decision": "approve"}).status_code == 404
    )

    proposal.refresh_from_db()
    proposal.rule.refresh_from_db()
    assert proposal.status == ActionStatus.AWAITING_APPROVAL
    assert proposal.rule.is_enabled and proposal.rule.executions.count() == 1


def test_a_viewer_sees_rules_but_cannot_change_them(
    organization: Organization, web_client_for: Callable[[Membership], Any]
) -> None:
    viewer = MembershipFactory(organization=organization, role="viewer")
    rule = RuleFactory(organization=organization)
    client = web_client_for(viewer)

    assert client.get("/rules/").status_code == 200
    assert client.post(f"/rules/{rule.pk}/toggle/").status_code == 403
    rule.refresh_from_db()
    assert rule.is_enabled
