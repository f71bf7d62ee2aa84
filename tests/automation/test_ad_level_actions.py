"""Rotate creatives and expand audience, live against the sandbox platform: the sandbox's ads
and ad groups really change, each change is recorded with its level, a notification goes out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from adplatform.models import Membership, Organization
from automation.gallery import get_template
from automation.models import ActionStatus, AutomationRule, RuleAction
from automation.schema import parse_rule_definition
from automation.services import run_rule
from automation.services.undo import undo_blocker
from campaigns.models import (
    Ad,
    AdGroup,
    Campaign,
    CampaignChange,
    ChangeLevel,
    ChangeStatus,
    DailyMetric,
    DeliveryStatus,
    SyncKind,
)
from campaigns.services import Actor, CampaignChangeError, expand_ad_group_audience, pause_ad
from campaigns.services.sync import sync_connection
from integrations.models import Connection
from integrations.services import build_connector, set_sandbox_clock
from tests.automation.conftest import CLOCK, TODAY
from tests.automation.factories import RuleFactory

pytestmark = pytest.mark.django_db
ALWAYS = {"items": [{"metric": "spend", "window": "today", "operator": "gte", "value": "0"}]}


def _group_with_three_ads(sandbox: Connection) -> AdGroup:
    for group in AdGroup.objects.filter(organization=sandbox.organization).order_by("pk"):
        if group.ads.filter(status=DeliveryStatus.ACTIVE).count() >= 3 and (
            group.campaign.status == DeliveryStatus.ACTIVE
        ):
            return group
    raise AssertionError("seed 3 has an active ad group with three ads")


def _ctr(ad: Ad, start: dt.date, end: dt.date) -> Decimal:
    sums = DailyMetric.objects.filter(ad=ad, date__range=(start, end)).aggregate(
        i=Sum("impressions"), c=Sum("clicks")
    )
    return Decimal(sums["c"]) / Decimal(sums["i"])


def _platform_ads(sandbox: Connection) -> dict[str, str]:
    connector = build_connector(sandbox)
    account_id = connector.list_accounts()[0].external_id
    return {ad.external_id: ad.status for ad in connector.list_ads(account_id)}


def _platform_group(sandbox: Connection, external_id: str) -> dict[str, object]:
    connector = build_connector(sandbox)
    account_id = connector.list_accounts()[0].external_id
    groups = {g.external_id: g for g in connector.list_ad_groups(account_id)}
    return groups[external_id].targeting


def _rule(organization: Organization, group: AdGroup, actions: list[dict]) -> AutomationRule:
    return RuleFactory(
        organization=organization,
        scope={"include": {"ad_group_ids": [group.pk]}},
        conditions=ALWAYS,
        actions=actions,
    )


def test_rotation_pauses_the_worst_ad_and_activates_the_rested_one_on_the_platform(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    group = _group_with_three_ads(sandbox)
    ads = list(group.ads.order_by("pk"))
    # Given one creative resting (paused by a person), and two delivering.
    resting = ads[-1]
    assert pause_ad(ad=resting, actor=Actor.for_user(member.user)).status == ChangeStatus.APPLIED
    delivering = ads[:-1]
    window = (TODAY - dt.timedelta(days=7), TODAY - dt.timedelta(days=1))
    worst = min(delivering, key=lambda ad: _ctr(ad, *window))
    rule = _rule(
        organization,
        group,
        [
            {
                "type": "rotate_creatives",
                "metric": "ctr",
                "window": "last_7_days",
                "min_impressions": 0,
            },
            {"type": "notify", "priority": "high", "message": "Rotated."},
        ],  # fmt: skip
    )

    execution = run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    # The sandbox platform's ads really changed.
    on_platform = _platform_ads(sandbox)
    assert on_platform[worst.external_id] == DeliveryStatus.PAUSED
    assert on_platform[resting.external_id] == DeliveryStatus.ACTIVE
    others = [ad for ad in delivering if ad != worst]
    assert all(on_platform[ad.external_id] == DeliveryStatus.ACTIVE for ad in others)
    # Our rows follow the platform's answer, and both changes are recorded at ad level.
    worst.refresh_from_db()
    resting.refresh_from_db()
    assert (worst.status, resting.status) == (DeliveryStatus.PAUSED, DeliveryStatus.ACTIVE)
    by_rule = CampaignChange.objects.filter(actor_label__startswith=f"rule:{rule.pk}")
    assert sorted((c.kind, c.ad_id, c.level, c.status) for c in by_rule) == sorted(
        [
            ("ad_pause", worst.pk, ChangeLevel.AD, ChangeStatus.APPLIED),
            ("ad_activate", resting.pk, ChangeLevel.AD, ChangeStatus.APPLIED),
        ]
    )
    pause_change = by_rule.get(kind="ad_pause")
    assert pause_change.campaign_id == group.campaign_id
    assert (pause_change.before, pause_change.after) == ({"status": "active"}, {"status": "paused"})
    assert f"(ctr {_ctr(worst, *window)}" in pause_change.reason
    action = RuleAction.objects.get(rule=rule, step=0)
    assert (action.status, action.change) == (ActionStatus.APPLIED, pause_change)
    assert execution.actions_applied == 2  # the rotation and the notification
    # Undo reverts campaign changes only; it must not turn an ad's pause into the campaign's.
    assert undo_blocker(action) == "An ad-level change cannot be undone here."
    # And a notification went out.
    from notifications.models import Notification

    notification = Notification.objects.get(organization=organization, type="rule_alert")
    assert notification.priority == "high"
    assert notification.body.startswith("Rotated.")


def test_a_rotated_out_ad_spends_nothing_the_next_day_while_its_group_keeps_delivering(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    group = _group_with_three_ads(sandbox)
    pause_ad(ad=group.ads.order_by("pk").last(), actor=Actor.for_user(member.user))
    rule = _rule(organization, group, [{"type": "rotate_creatives", "min_impressions": 0}])
    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)
    paused = Ad.objects.get(changes__kind="ad_pause", changes__actor_label__startswith="rule:")

    set_sandbox_clock(connection=sandbox, at=CLOCK + dt.timedelta(days=1))
    sync_connection(connection_id=sandbox.pk, kind=SyncKind.METRICS)

    tomorrow = TODAY + dt.timedelta(days=1)
    spend = DailyMetric.objects.filter(date=tomorrow, ad__ad_group=group).values_list(
        "ad_id", "spend"
    )
    by_ad = dict(spend)
    assert by_ad.get(paused.pk, Decimal(0)) == 0
    assert sum(by_ad.values()) > 0


def test_rotation_twice_in_one_window_changes_the_platform_once(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    group = _group_with_three_ads(sandbox)
    pause_ad(ad=group.ads.order_by("pk").last(), actor=Actor.for_user(member.user))
    rule = _rule(organization, group, [{"type": "rotate_creatives", "min_impressions": 0}])

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)
    run_rule(rule_id=rule.pk, now=CLOCK + dt.timedelta(minutes=15), as_of=TODAY)

    assert CampaignChange.objects.filter(actor_label__startswith=f"rule:{rule.pk}").count() == 2


def test_rotation_without_a_paused_ad_leaves_the_group_alone(
    sandbox: Connection, organization: Organization
) -> None:
    group = _group_with_three_ads(sandbox)
    rule = _rule(organization, group, [{"type": "rotate_creatives", "min_impressions": 0}])

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    action = RuleAction.objects.get(rule=rule)
    assert action.status == ActionStatus.SKIPPED
    assert "no paused ad to rotate in" in action.error
    assert not CampaignChange.objects.filter(actor_label__startswith=f"rule:{rule.pk}").exists()
    assert set(_platform_ads(sandbox).values()) == {DeliveryStatus.ACTIVE}


def test_a_dry_run_rotation_records_the_changes_and_leaves_the_platform_alone(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    group = _group_with_three_ads(sandbox)
    resting = group.ads.order_by("pk").last()
    pause_ad(ad=resting, actor=Actor.for_user(member.user))
    rule = _rule(organization, group, [{"type": "rotate_creatives", "min_impressions": 0}])
    AutomationRule.objects.filter(pk=rule.pk).update(is_dry_run=True)

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    changes = CampaignChange.objects.filter(actor_label__startswith=f"rule:{rule.pk}")
    assert {c.status for c in changes} == {ChangeStatus.DRY_RUN}
    assert changes.count() == 2
    on_platform = _platform_ads(sandbox)
    assert on_platform[resting.external_id] == DeliveryStatus.PAUSED
    assert sum(status == DeliveryStatus.PAUSED for status in on_platform.values()) == 1


def test_expand_audience_widens_the_ad_groups_age_range_on_the_platform(
    sandbox: Connection, organization: Organization
) -> None:
    group = _group_with_three_ads(sandbox)
    before = dict(group.targeting)
    rule = _rule(
        organization,
        group,
        [{"type": "expand_audience", "dimension": "age_range", "step": 5}, {"type": "notify"}],
    )

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    expected = (max(18, before["age_min"] - 5), min(65, before["age_max"] + 5))
    live = _platform_group(sandbox, group.external_id)
    assert (live["age_min"], live["age_max"]) == expected
    assert live["countries"] == before["countries"]  # nothing else moved
    group.refresh_from_db()
    assert (group.targeting["age_min"], group.targeting["age_max"]) == expected
    change = CampaignChange.objects.get(ad_group=group)
    assert (change.level, change.kind, change.status) == (
        ChangeLevel.AD_GROUP, "expand_audience", ChangeStatus.APPLIED,
    )  # fmt: skip
    assert change.before["targeting"] == before
    assert change.params == {"dimension": "age_range", "step": 5}
    from notifications.models import Notification

    assert Notification.objects.filter(organization=organization, type="rule_alert").count() == 1


def test_a_dimension_the_ad_group_cannot_widen_fails_the_step_with_the_reason(
    sandbox: Connection, organization: Organization
) -> None:
    group = next(
        g for g in AdGroup.objects.filter(organization=organization, campaign__status="active")
        if "lookalike_pct" not in g.targeting
    )  # fmt: skip
    rule = _rule(
        organization, group,
        [{"type": "expand_audience", "dimension": "lookalike", "step": 2}, {"type": "notify"}],
    )  # fmt: skip

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    action = RuleAction.objects.get(rule=rule, step=0)
    assert action.status == ActionStatus.FAILED
    assert "cannot widen lookalike: this ad group targets no lookalike" in action.error
    change = CampaignChange.objects.get(ad_group=group)
    assert (change.status, change.error_code) == (ChangeStatus.FAILED, "unsupported")
    # stop_on_failure (the default): no notification step after the failed one.
    assert not RuleAction.objects.filter(rule=rule, step=1).exists()


def test_a_platform_that_cannot_widen_a_dimension_is_refused_before_any_call(
    organization: Organization, member: Membership
) -> None:
    from tests.campaigns.factories import AdGroupFactory

    group = AdGroupFactory(organization=organization)  # an account with no connection

    with pytest.raises(CampaignChangeError) as refused:
        expand_ad_group_audience(
            ad_group=group, dimension="interests", actor=Actor.for_user(member.user)
        )

    assert "cannot widen interests through its API" in refused.value.errors["dimension"][0]
    assert not CampaignChange.objects.exists()


def test_the_fatigued_creatives_template_uses_the_rotate_action() -> None:
    template = get_template("rotate-fatigued-creatives")

    definition = parse_rule_definition(
        {key: template[key] for key in ("conditions", "actions", "guardrails")}
    )

    assert [step.type for step in definition.actions] == ["rotate_creatives", "notify"]
    metrics = {item.metric for item in definition.conditions.items}  # type: ignore[union-attr]
    assert metrics == {"ctr", "frequency"}


def test_frequency_is_judged_from_reach_the_sandbox_reports(
    sandbox: Connection, organization: Organization
) -> None:
    campaign = Campaign.objects.filter(organization=organization, status="active").first()
    assert campaign is not None
    rule = RuleFactory(
        organization=organization,
        scope={"include": {"campaign_ids": [campaign.pk]}},
        conditions={
            "items": [
                {"metric": "frequency", "window": "last_7_days", "operator": "gt", "value": "1"}
            ]
        },  # fmt: skip
        actions=[{"type": "notify"}],
    )

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    values = RuleAction.objects.get(rule=rule).trigger_values
    assert Decimal(values["frequency:last_7_days"]) > 1


def test_a_rotation_in_approval_mode_changes_nothing_until_approved(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    from automation.services import approve_rule_action

    group = _group_with_three_ads(sandbox)
    resting = group.ads.order_by("pk").last()
    pause_ad(ad=resting, actor=Actor.for_user(member.user))
    rule = _rule(organization, group, [{"type": "rotate_creatives", "min_impressions": 0}])
    AutomationRule.objects.filter(pk=rule.pk).update(requires_approval=True)

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)

    proposal = RuleAction.objects.get(rule=rule)
    assert proposal.status == ActionStatus.AWAITING_APPROVAL
    assert not CampaignChange.objects.filter(actor_label__startswith=f"rule:{rule.pk}").exists()
    assert _platform_ads(sandbox)[resting.external_id] == DeliveryStatus.PAUSED

    approve_rule_action(organization, action_id=proposal.pk, user=member.user, now=CLOCK)

    proposal.refresh_from_db()
    assert proposal.status == ActionStatus.APPLIED
    assert _platform_ads(sandbox)[resting.external_id] == DeliveryStatus.ACTIVE


def test_the_cooldown_keeps_a_rotation_from_running_again_the_next_day(
    sandbox: Connection, organization: Organization, member: Membership
) -> None:
    group = _group_with_three_ads(sandbox)
    pause_ad(ad=group.ads.order_by("pk").last(), actor=Actor.for_user(member.user))
    rule = _rule(organization, group, [{"type": "rotate_creatives", "min_impressions": 0}])
    AutomationRule.objects.filter(pk=rule.pk).update(guardrails={"cooldown_hours": 48})

    run_rule(rule_id=rule.pk, now=CLOCK, as_of=TODAY)
    later = CLOCK + dt.timedelta(days=1)
    run_rule(rule_id=rule.pk, now=later, as_of=later.date())

    assert CampaignChange.objects.filter(actor_label__startswith=f"rule:{rule.pk}").count() == 2
    skipped = RuleAction.objects.get(rule=rule, idempotency_key__endswith=":skipped")
    assert skipped.guardrail_verdict["check"] == "cooldown"
