from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from adplatform.models import Membership, Organization
from campaigns.models import (
    ActorKind,
    Campaign,
    CampaignChange,
    CampaignDailyMetric,
    ChangeStatus,
    DeliveryStatus,
    SyncKind,
)
from campaigns.services import changes
from campaigns.services.changes import Actor, CampaignChangeError
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.models import Connection
from integrations.services import create_sandbox_connection, set_sandbox_clock

pytestmark = pytest.mark.django_db

CLOCK = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def sandbox(organization: Organization) -> Connection:
    connection = create_sandbox_connection(
        organization=organization, platform="tiktok", seed=3, clock=CLOCK
    )
    import_ad_accounts(connection=connection)
    sync_connection(connection_id=connection.pk, since=CLOCK.date() - dt.timedelta(days=6))
    return connection


def _active_campaign() -> Campaign:
    return Campaign.objects.filter(status=DeliveryStatus.ACTIVE).order_by("pk").first()  # type: ignore[return-value]


def _spend(campaign: Campaign, day: dt.date) -> Decimal:
    total = CampaignDailyMetric.objects.filter(campaign=campaign, date=day).aggregate(
        s=Sum("spend")
    )
    return total["s"] or Decimal(0)


def test_a_paused_campaign_spends_nothing_in_the_next_sync(
    sandbox: Connection, member: Membership
) -> None:
    campaign = _active_campaign()
    assert _spend(campaign, CLOCK.date()) > 0

    change = changes.pause_campaign(campaign=campaign, actor=Actor.for_user(member.user))
    set_sandbox_clock(connection=sandbox, at=CLOCK + dt.timedelta(days=1))
    sync_connection(connection_id=sandbox.pk, kind=SyncKind.METRICS)

    campaign.refresh_from_db()
    assert change.status == ChangeStatus.APPLIED
    assert campaign.status == DeliveryStatus.PAUSED
    assert _spend(campaign, CLOCK.date() + dt.timedelta(days=1)) == 0
    # The half day before the pause keeps what it spent.
    assert _spend(campaign, CLOCK.date()) > 0
    others = Campaign.objects.filter(status=DeliveryStatus.ACTIVE).exclude(pk=campaign.pk)
    assert any(_spend(c, CLOCK.date() + dt.timedelta(days=1)) > 0 for c in others)


def test_a_budget_increase_raises_spend_on_the_following_days(
    sandbox: Connection, member: Membership
) -> None:
    campaign = _active_campaign()
    assert campaign.daily_budget is not None
    before = _spend(campaign, CLOCK.date() - dt.timedelta(days=1))

    changes.set_daily_budget(
        campaign=campaign, amount=campaign.daily_budget * 3, actor=Actor.for_user(member.user)
    )
    set_sandbox_clock(connection=sandbox, at=CLOCK + dt.timedelta(days=2))
    sync_connection(connection_id=sandbox.pk, kind=SyncKind.METRICS)

    assert _spend(campaign, CLOCK.date() + dt.timedelta(days=1)) > 2 * before


def test_a_change_records_actor_before_after_and_the_platform_answer(
    sandbox: Connection, member: Membership
) -> None:
    campaign = _active_campaign()
    old_budget = campaign.daily_budget

    change = changes.set_daily_budget(
        campaign=campaign, amount=Decimal("123.45"), actor=Actor.for_user(member.user),
        reason="more reach",
    )  # fmt: skip

    change.refresh_from_db()
    campaign.refresh_from_db()
    assert (change.actor_kind, change.actor_user_id, change.actor_label) == (
        ActorKind.USER, member.user.pk, f"user:{member.user.pk}",
    )  # fmt: skip
    assert Decimal(change.before["daily_budget"]) == old_budget
    assert Decimal(change.after["daily_budget"]) == Decimal("123.45")
    assert Decimal(change.platform_response["daily_budget"]) == Decimal("123.45")
    assert change.platform_response["external_id"] == campaign.external_id
    assert (change.reason, change.status) == ("more reach", ChangeStatus.APPLIED)
    assert campaign.daily_budget == Decimal("123.45")


def test_a_repeated_idempotency_key_applies_once(sandbox: Connection) -> None:
    campaign = _active_campaign()
    actor = Actor.for_rule(7, "Pause losers")

    first = changes.pause_campaign(campaign=campaign, actor=actor, idempotency_key="rule-7-day-1")
    second = changes.pause_campaign(campaign=campaign, actor=actor, idempotency_key="rule-7-day-1")

    assert first.pk == second.pk
    assert CampaignChange.objects.count() == 1
    from integrations.models import SandboxEvent

    assert SandboxEvent.objects.filter(kind="update").count() == 1


def test_compare_and_set_refuses_when_the_live_value_moved(sandbox: Connection) -> None:
    campaign = _active_campaign()
    from integrations.models import SandboxEvent

    change = changes.set_daily_budget(
        campaign=campaign, amount=Decimal(10), actor=Actor.for_agent("budget_manager"),
        expected_before={"daily_budget": "1.0000"},
    )  # fmt: skip

    assert (change.status, change.error_code) == (ChangeStatus.CONFLICT, "conflict")
    assert not SandboxEvent.objects.exists()


@pytest.mark.parametrize(
    ("verb", "amount", "field"),
    [
        (changes.set_daily_budget, Decimal(-1), "daily_budget"),
        (changes.set_lifetime_budget, Decimal(100), "lifetime_budget"),
    ],
)
def test_invalid_changes_are_refused_with_field_errors_and_nothing_recorded(
    sandbox: Connection, verb: object, amount: Decimal, field: str
) -> None:
    campaign = _active_campaign()

    with pytest.raises(CampaignChangeError) as error:
        verb(campaign=campaign, amount=amount, actor=Actor.system("test"))  # type: ignore[operator]

    assert field in error.value.errors
    assert not CampaignChange.objects.exists()


def test_a_bid_on_automatic_bidding_is_refused(sandbox: Connection) -> None:
    campaign = Campaign.objects.filter(bid_strategy="lowest_cost").first()
    assert campaign is not None

    with pytest.raises(CampaignChangeError) as error:
        changes.set_bid(campaign=campaign, amount=Decimal(2), actor=Actor.system("test"))

    assert "bid_amount" in error.value.errors


def test_create_and_archive_round_trip_through_the_platform(sandbox: Connection) -> None:
    account = sandbox.ad_accounts.get()

    created = changes.create_campaign(
        ad_account=account, name="Summer push", objective="sales", status="active",
        daily_budget=Decimal(80), actor=Actor.system("test"),
    )  # fmt: skip
    assert created.status == ChangeStatus.APPLIED and created.campaign is not None
    archived = changes.archive_campaign(campaign=created.campaign, actor=Actor.system("test"))

    campaign = Campaign.objects.get(pk=created.campaign.pk)
    assert campaign.external_id.endswith("-n1")
    assert (campaign.name, campaign.status) == ("Summer push", DeliveryStatus.ARCHIVED)
    assert archived.status == ChangeStatus.APPLIED
    # The platform knows it too: a structure sync agrees.
    sync_connection(connection_id=sandbox.pk, kind=SyncKind.STRUCTURE)
    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.ARCHIVED


def test_a_change_to_an_account_without_a_connection_fails_cleanly(sandbox: Connection) -> None:
    campaign = _active_campaign()
    campaign.ad_account.connection = None
    campaign.ad_account.save()

    change = changes.pause_campaign(campaign=campaign, actor=Actor.system("test"))

    campaign.refresh_from_db()
    assert (change.status, change.error_code) == (ChangeStatus.FAILED, "no_connection")
    assert campaign.status == DeliveryStatus.ACTIVE
