"""Conflict detection between enabled rules acting the opposite way on shared campaigns."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from adplatform.models import Membership, Organization
from automation.conflicts import Effect, effects, opposed, organization_conflicts, rule_conflicts
from automation.models import AutomationRule
from campaigns.models import Campaign
from tests.automation.factories import RuleFactory
from tests.campaigns.factories import AdAccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _rule(org: Organization, actions: list[dict[str, Any]], **extra: Any) -> AutomationRule:
    return RuleFactory(organization=org, actions=actions, **extra)


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ({"type": "pause"}, {"type": "activate"}, True),
        ({"type": "pause"}, {"type": "increase_budget", "percent": 20}, True),
        ({"type": "pause"}, {"type": "adjust_bid", "percent": "10"}, True),
        ({"type": "pause"}, {"type": "decrease_budget", "percent": 20}, False),
        ({"type": "pause"}, {"type": "pause"}, False),
        (
            {"type": "increase_budget", "percent": 20},
            {"type": "decrease_budget", "percent": 5},
            True,
        ),
        (
            {"type": "increase_budget", "percent": 20},
            {"type": "increase_budget", "percent": 5},
            False,
        ),
        ({"type": "adjust_bid", "percent": "10"}, {"type": "adjust_bid", "percent": "-10"}, True),
        ({"type": "set_budget", "amount": "50"}, {"type": "set_budget", "amount": "50"}, False),
        ({"type": "set_budget", "amount": "50"}, {"type": "set_budget", "amount": "80"}, True),
        ({"type": "set_bid", "amount": "2"}, {"type": "adjust_bid", "percent": "-5"}, True),
        ({"type": "activate"}, {"type": "decrease_budget", "percent": 5}, False),
        ({"type": "notify"}, {"type": "pause"}, False),
    ],
)
def test_which_actions_pull_the_opposite_way(
    one: dict[str, Any], other: dict[str, Any], expected: bool
) -> None:
    pairs = [(a, b) for a in effects([one]) for b in effects([other])]

    assert any(opposed(a, b) for a, b in pairs) is expected
    assert any(opposed(b, a) for a, b in pairs) is expected


def test_an_effect_is_read_from_the_chain_in_order() -> None:
    chain = [{"type": "notify"}, {"type": "pause"}, {"type": "set_bid", "amount": "1.5"}]

    assert [(e.action_type, e.axis, e.direction) for e in effects(chain)] == [
        ("pause", "status", "down"),
        ("set_bid", "bid", "set"),
    ]
    assert effects(chain)[1] == Effect("set_bid", "bid", "set", amount=Decimal("1.5"))


def test_scale_and_pause_on_overlapping_scopes_conflict_with_the_shared_campaigns_named(
    organization: Organization,
) -> None:
    meta = AdAccountFactory(organization=organization, platform="meta")
    tiktok = AdAccountFactory(organization=organization, platform="tiktok")
    shared = CampaignFactory(organization=organization, ad_account=meta, name="Shared")
    CampaignFactory(organization=organization, ad_account=tiktok, name="TikTok only")
    scale = _rule(organization, [{"type": "increase_budget", "percent": 20}], name="Scale")
    pause = _rule(
        organization, [{"type": "pause"}], name="Pause Meta",
        scope={"include": {"platforms": ["meta"]}},
    )  # fmt: skip

    found = organization_conflicts(organization)

    assert [(c.rule_name, c.action, c.other_action, c.campaigns) for c in found[scale.pk]] == [
        ("Pause Meta", "increase_budget", "pause", 1)
    ]
    assert found[scale.pk][0].sample == [{"id": shared.pk, "name": "Shared"}]
    assert [c.rule_id for c in found[pause.pk]] == [scale.pk]


def test_disjoint_scopes_disabled_rules_and_separate_hours_do_not_conflict(
    organization: Organization,
) -> None:
    one = CampaignFactory(organization=organization, ad_account__organization=organization)
    two = CampaignFactory(organization=organization, ad_account__organization=organization)
    three = CampaignFactory(organization=organization, ad_account__organization=organization)
    hours = {"start": 22, "end": 2}
    _rule(organization, [{"type": "pause"}], scope={"include": {"campaign_ids": [one.pk]}})
    _rule(organization, [{"type": "activate"}], scope={"include": {"campaign_ids": [two.pk]}})
    _rule(organization, [{"type": "activate"}], is_enabled=False)
    night = _rule(
        organization, [{"type": "pause"}],
        conditions={"items": [{"metric": "spend", "operator": "gt", "value": "0"}], "hours": hours},
        scope={"include": {"campaign_ids": [three.pk]}},
    )  # fmt: skip
    _rule(
        organization, [{"type": "activate"}],
        conditions={"items": [{"metric": "spend", "operator": "gt", "value": "0"}],
                    "hours": {"start": 6, "end": 20}},
        scope={"exclude": {"campaign_ids": [one.pk, two.pk]}},  # three only
    )  # fmt: skip

    assert organization_conflicts(organization) == {}
    assert rule_conflicts(organization, night) == []


def test_the_check_reads_with_a_fixed_number_of_queries(organization: Organization) -> None:
    account = AdAccountFactory(organization=organization)
    CampaignFactory(organization=organization, ad_account=account)
    for _ in range(3):
        _rule(organization, [{"type": "pause"}])
        _rule(organization, [{"type": "activate"}])
    few = _count_queries(organization)
    for _ in range(20):
        CampaignFactory(organization=organization, ad_account=account)
        _rule(organization, [{"type": "increase_budget", "percent": 10}])

    assert _count_queries(organization) == few


def _count_queries(organization: Organization) -> int:
    with CaptureQueriesContext(connection) as queries:
        organization_conflicts(organization)
    return len(queries)


def test_a_disabled_rule_is_warned_before_it_is_enabled_api_and_pages(
    member: Membership,
    web_client_for: Callable[[Membership], Any],
    api_client_for: Callable[..., APIClient],
) -> None:
    organization = member.organization
    campaign = CampaignFactory(organization=organization, ad_account__organization=organization)
    enabled = _rule(organization, [{"type": "pause"}], name="Pause all")
    draft = _rule(organization, [{"type": "activate"}], name="Restart", is_enabled=False)

    api = api_client_for(organization).get(f"/api/v1/rules/{draft.pk}/conflicts/")
    detail = web_client_for(member).get(f"/rules/{draft.pk}/")
    listing = web_client_for(member).get("/rules/")

    assert api.status_code == 200
    assert api.json() == [
        {
            "rule_id": enabled.pk, "rule_name": "Pause all", "action": "activate",
            "other_action": "pause", "campaigns": 1,
            "sample": [{"id": campaign.pk, "name": campaign.name}],
        }
    ]  # fmt: skip
    assert 'data-testid="conflicts"' in detail.content.decode()
    # The list shows conflicts between enabled rules only: the draft is off.
    assert "⚠" not in listing.content.decode()
    assert Campaign.objects.count() == 1
