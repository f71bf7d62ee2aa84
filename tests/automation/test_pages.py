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
            "g0-operator": "and",
            "g0-c0-metric": "roas",
            "g0-c0-window": "last_7_days",
            "g0-c0-operator": "gt",
            "g0-c0-compare": "value",
            "g0-c0-value": "3",
            "a0-type": "increase_budget",
            "a0-value": "5000",
            "a0-stop": "on",
            "cooldown_hours": "24",
            "op": "save",
        },
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert 'data-field="a0-value"' in response.content.decode()
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
            "g0-operator": "and",
            "g0-c0-metric": "roas",
            "g0-c0-window": "last_7_days",
            "g0-c0-operator": "gt",
            "g0-c0-compare": "value",
            "g0-c0-value": "3",
            "a0-type": "increase_budget",
            "a0-value": "20",
            "a0-stop": "on",
            "a1-type": "notify",
            "a1-priority": "high",
            "cooldown_hours": "24",
            "budget_ceiling": "900",
            "op": "save",
        },
    )

    rule = AutomationRule.objects.get()
    assert response.status_code == 302
    assert rule.actions == [
        {"type": "increase_budget", "stop_on_failure": True, "percent": "20"},
        {"type": "notify", "stop_on_failure": False, "priority": "high"},
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
    assert client.post(f"/rules/actions/{proposal.pk}/undo/").status_code == 404

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


def _builder_post(**extra: str) -> dict[str, str]:
    base = {
        "name": "Grouped", "type": "performance", "frequency": "daily", "match": "or",
        "g0-operator": "and",
        "g0-c0-metric": "cpa", "g0-c0-window": "last_7_days", "g0-c0-operator": "gt",
        "g0-c0-compare": "value", "g0-c0-value": "50",
        "g1-operator": "and",
        "g1-c0-metric": "ctr", "g1-c0-window": "last_3_days", "g1-c0-operator": "lt",
        "g1-c0-compare": "previous", "g1-c0-value": "-30",
        "g1-c1-metric": "cpm", "g1-c1-window": "last_7_days", "g1-c1-operator": "gt",
        "g1-c1-compare": "value", "g1-c1-value": "3",
        "a0-type": "decrease_budget", "a0-value": "20", "a0-stop": "on",
        "a1-type": "notify", "a1-priority": "urgent",
        "cooldown_hours": "12", "op": "save",
    }  # fmt: skip
    return {**base, **extra}


def test_the_builder_makes_or_groups_and_an_action_chain(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    response = web_client_for(member).post("/rules/new/", _builder_post())

    assert response.status_code == 302
    rule = AutomationRule.objects.get()
    assert rule.conditions["operator"] == "or"
    assert rule.conditions["items"][0]["metric"] == "cpa"
    group = rule.conditions["items"][1]
    assert group["operator"] == "and"
    assert [(c["metric"], c["compare_to_previous"]) for c in group["items"]] == [
        ("ctr", True),
        ("cpm", False),
    ]
    assert [(a["type"], a["stop_on_failure"]) for a in rule.actions] == [
        ("decrease_budget", True),
        ("notify", False),
    ]
    assert rule.actions[1]["priority"] == "urgent"


def test_a_schema_error_in_a_nested_condition_is_shown_on_its_field(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    response = web_client_for(member).post(
        "/rules/new/", _builder_post(**{"g1-c1-value": ""}), HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert 'data-field="g1-c1-value"' in page
    assert "Give either a value or another metric" in page
    assert not AutomationRule.objects.exists()


@pytest.mark.parametrize(
    ("op", "check"),
    [
        ("add_condition:0", 'name="g0-c1-metric"'),
        ("add_group", 'name="g2-c0-metric"'),
        ("add_step", 'name="a2-type"'),
    ],
)
def test_the_plus_buttons_reshape_the_form_and_keep_what_was_typed(
    member: Membership, web_client_for: Callable[[Membership], Any], op: str, check: str
) -> None:
    response = web_client_for(member).post(
        "/rules/new/", _builder_post(op=op), HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert check in page
    assert 'value="Grouped"' in page and 'class="field-error"' not in page
    assert not AutomationRule.objects.exists()


def test_moving_a_step_up_and_removing_one(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    client = web_client_for(member)

    moved = client.post("/rules/new/", _builder_post(op="up_step:1"), HTTP_HX_REQUEST="true")
    removed = client.post(
        "/rules/new/", _builder_post(op="remove_condition:1:0"), HTTP_HX_REQUEST="true"
    )

    page = moved.content.decode()
    assert page.index('<option value="notify" selected>') < page.index(
        '<option value="decrease_budget" selected>'
    )
    assert 'name="g1-c1-metric"' not in removed.content.decode()
    assert '<option value="cpm" selected>' in removed.content.decode()
