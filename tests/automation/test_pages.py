from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adplatform.models import Membership, Organization
from automation.forms import RuleBuilderForm
from automation.models import ActionStatus, AutomationRule, RuleAction
from automation.schema import parse_rule_definition
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

    rule_id = proposal.rule_id
    for url in (f"/rules/{rule_id}/", f"/rules/{rule_id}/preview/", f"/rules/{rule_id}/edit/"):
        assert client.get(url).status_code == 404
    for url in (
        f"/rules/{rule_id}/toggle/",
        f"/rules/{rule_id}/run/",
        f"/rules/{rule_id}/edit/",
    ):
        assert client.post(url, _builder_post()).status_code == 404
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
    assert client.get(f"/rules/{rule.pk}/edit/").status_code == 403
    assert client.post(f"/rules/{rule.pk}/edit/", _builder_post()).status_code == 403
    rule.refresh_from_db()
    assert rule.is_enabled and rule.name != "Grouped"


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


def test_a_rule_opens_in_the_builder_as_it_was_saved_and_saves_edits_in_place(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    client = web_client_for(member)
    client.post("/rules/new/", _builder_post())
    rule = AutomationRule.objects.get()
    rule.scope = {"include": {"platforms": ["meta"]}}
    rule.is_enabled = False
    rule.save()

    page = client.get(f"/rules/{rule.pk}/edit/").content.decode()
    assert 'value="-30"' in page and 'value="Grouped"' in page
    assert "Save rule" in page

    edited = _builder_post(**{"name": "Grouped v2", "g1-c0-value": "-40", "a0-value": "15"})
    response = client.post(f"/rules/{rule.pk}/edit/", edited)

    assert response.status_code == 302 and response["Location"] == f"/rules/{rule.pk}/"
    assert AutomationRule.objects.count() == 1
    rule.refresh_from_db()
    assert rule.name == "Grouped v2"
    assert rule.conditions["items"][1]["items"][0]["value"] == "-40"
    assert rule.actions[0]["percent"] == "15"
    # What the builder does not show is kept.
    assert rule.scope["include"]["platforms"] == ["meta"]
    assert rule.is_enabled is False


def test_an_edit_with_errors_shows_them_in_place_and_changes_nothing(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    client = web_client_for(member)
    client.post("/rules/new/", _builder_post())
    rule = AutomationRule.objects.get()

    response = client.post(
        f"/rules/{rule.pk}/edit/", _builder_post(**{"a0-value": "5000"}), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-field="a0-value"' in page
    assert f'hx-post="/rules/{rule.pk}/edit/"' in page
    rule.refresh_from_db()
    assert rule.actions[0]["percent"] == "20"


def test_a_rule_the_builder_cannot_show_is_offered_as_a_rule_file_instead(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    # A comparison with another metric times a multiplier has no builder input: saving from
    # the builder would drop it, so the page shows the rule file rather than a trimmed form.
    rule = RuleFactory(
        organization=member.organization,
        name="CPC above twice CPM",
        conditions={
            "items": [{"metric": "cpc", "operator": "gt", "other_metric": "cpm", "multiplier": "2"}]
        },
        actions=[{"type": "pause"}],
    )

    response = web_client_for(member).get(f"/rules/{rule.pk}/edit/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="builder-unsupported"' in page
    assert "CPC above twice CPM" in page and "multiplier" in page
    assert 'id="rule-builder"' not in page


def test_an_ai_signal_condition_and_late_data_mode_are_built_and_edited(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    client = web_client_for(member)
    posted = _builder_post(
        **{
            "g0-c0-metric": "signal:ai_recommendation",
            "g0-c0-params": '{"action": "pause", "min_confidence": 0.85}',
            "g1-c1-data": "settled",
        }
    )
    assert client.post("/rules/new/", posted).status_code == 302
    rule = AutomationRule.objects.get()
    assert rule.conditions["items"][0] == {
        "signal": "ai_recommendation", "action": "pause", "min_confidence": 0.85,
    }  # fmt: skip
    assert rule.conditions["items"][1]["items"][1]["data"] == "settled"

    page = client.get(f"/rules/{rule.pk}/edit/").content.decode()
    assert 'id="rule-builder"' in page
    assert 'value="signal:ai_recommendation" selected' in page
    assert "min_confidence" in page

    bad = {**posted, "g0-c0-params": '{"min_confidence": 3}'}
    response = client.post(f"/rules/{rule.pk}/edit/", bad, HTTP_HX_REQUEST="true")
    assert 'data-field="g0-c0-params"' in response.content.decode()


def test_hours_minimum_data_and_action_parameters_survive_an_edit(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    rule = RuleFactory(
        organization=member.organization,
        name="Night rotation",
        conditions={
            "items": [{"metric": "ctr", "window": "last_3_days", "operator": "lt", "value": "1"}],
            "hours": {"start": 22, "end": 6},
            "minimum_data": {"window": "last_3_days", "impressions": 1000},
        },
        actions=[
            {"type": "rotate_creatives", "metric": "ctr", "window": "last_3_days"},
            {"type": "notify", "priority": "high", "message": "Rotated."},
        ],
        guardrails={"cooldown_hours": 6, "max_actions_per_run": 5},
    )
    client = web_client_for(member)
    page = client.get(f"/rules/{rule.pk}/edit/").content.decode()
    assert 'id="rule-builder"' in page
    before = (rule.conditions, rule.actions, rule.guardrails)

    # Saved back as shown, only the name changed: everything else is as it was.
    form = RuleBuilderForm.for_rule(rule)
    assert form is not None
    posted = {k: "on" if v is True else str(v) for k, v in form.initial.items()
              if v not in (None, "", False)}  # fmt: skip
    response = client.post(f"/rules/{rule.pk}/edit/", {**posted, "name": "Night v2"})

    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Night v2"
    assert parse_rule_definition(
        {"conditions": rule.conditions, "actions": rule.actions, "guardrails": rule.guardrails}
    ) == parse_rule_definition(
        {"conditions": before[0], "actions": before[1], "guardrails": before[2]}
    )
    assert rule.actions[1]["message"] == "Rotated."


def test_bad_step_parameters_are_shown_on_their_field(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    client = web_client_for(member)
    for bad in ("{not json", "[1, 2]", '{"metric": "nope"}'):
        response = client.post(
            "/rules/new/",
            _builder_post(**{"a0-type": "rotate_creatives", "a0-params": bad}),
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
        assert 'data-field="a0-params"' in response.content.decode(), bad
    assert not AutomationRule.objects.exists()


def test_every_gallery_template_opens_for_editing(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    from automation.gallery import RULE_TEMPLATES

    client = web_client_for(member)
    for template in RULE_TEMPLATES:
        client.post("/rules/from-template/", {"slug": template["slug"]})
    for rule in AutomationRule.objects.all():
        page = client.get(f"/rules/{rule.pk}/edit/").content.decode()
        # Either the builder with the rule's name, or the rule file: never an error page.
        assert 'id="rule-builder"' in page or 'data-testid="builder-unsupported"' in page
        assert rule.name in page
