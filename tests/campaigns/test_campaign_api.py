from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from adplatform.models import Organization, Role
from campaigns.models import Campaign, CampaignChange, DeliveryStatus, SyncRun, SyncStatus
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.models import Connection, SandboxEvent
from integrations.services import create_sandbox_connection

pytestmark = pytest.mark.django_db

CLOCK = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def _sandbox(organization: Organization, platform: str = "meta") -> Connection:
    connection = create_sandbox_connection(
        organization=organization, platform=platform, seed=5, clock=CLOCK
    )
    import_ad_accounts(connection=connection)
    sync_connection(connection_id=connection.pk, since=CLOCK.date() - dt.timedelta(days=2))
    return connection


@pytest.fixture
def campaign(organization: Organization) -> Campaign:
    _sandbox(organization)
    return (
        Campaign.objects.filter(
            organization=organization, status=DeliveryStatus.ACTIVE, bid_strategy="cost_cap"
        ).first()
        or Campaign.objects.filter(organization=organization, status="active").first()
    )  # type: ignore[return-value]


@pytest.fixture
def foreign_campaign(other_organization: Organization) -> Campaign:
    _sandbox(other_organization, "tiktok")
    return Campaign.objects.filter(organization=other_organization, status="active").first()  # type: ignore[return-value]


def _state(campaign: Campaign) -> tuple[object, ...]:
    campaign.refresh_from_db()
    return (campaign.status, campaign.daily_budget, campaign.bid_amount, campaign.updated_at)


def test_patch_pauses_through_the_platform_and_logs_the_change(
    campaign: Campaign, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    client = api_client_for(organization, Role.MEMBER)

    response = client.patch(
        f"/api/v1/campaigns/{campaign.pk}/", {"status": "paused", "daily_budget": "42.50"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paused"
    assert Decimal(response.json()["daily_budget"]) == Decimal("42.50")
    changes = client.get(f"/api/v1/changes/?campaign={campaign.pk}").json()["results"]
    assert sorted(c["kind"] for c in changes) == ["daily_budget", "pause"]
    assert {c["actor_kind"] for c in changes} == {"api_key"}
    assert {c["status"] for c in changes} == {"applied"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"daily_budget": "-5"}, "daily_budget"),
        ({"status": "sleeping"}, "status"),
        ({"status": "archived"}, "status"),
        ({"lifetime_budget": "900"}, "lifetime_budget"),
        ({}, "non_field_errors"),
    ],
)
def test_invalid_patches_are_400_with_field_errors_and_change_nothing(
    campaign: Campaign,
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    body: dict[str, str],
    field: str,
) -> None:
    before = _state(campaign)

    response = api_client_for(organization).patch(
        f"/api/v1/campaigns/{campaign.pk}/", body, format="json"
    )

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert _state(campaign) == before
    assert not CampaignChange.objects.exists()


def test_a_bid_on_a_strategy_without_bids_is_400(
    organization: Organization, campaign: Campaign, api_client_for: Callable[..., APIClient]
) -> None:
    automatic = Campaign.objects.filter(
        organization=organization, bid_strategy="lowest_cost"
    ).first()
    assert automatic is not None

    response = api_client_for(organization).patch(
        f"/api/v1/campaigns/{automatic.pk}/", {"bid_amount": "3"}, format="json"
    )

    assert response.status_code == 400
    assert "bid_amount" in response.json()["errors"]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_another_organizations_campaign_is_404_and_untouched(
    campaign: Campaign,
    foreign_campaign: Campaign,
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    method: str,
) -> None:
    before = _state(foreign_campaign)
    events = SandboxEvent.objects.count()

    response = getattr(api_client_for(organization, Role.OWNER), method)(
        f"/api/v1/campaigns/{foreign_campaign.pk}/", {"status": "paused"}, format="json"
    )

    assert response.status_code == 404
    assert _state(foreign_campaign) == before
    assert SandboxEvent.objects.count() == events
    assert not CampaignChange.objects.exists()


@pytest.mark.parametrize("method", ["patch", "delete", "post"])
def test_a_viewer_gets_403_and_nothing_changes(
    campaign: Campaign,
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    method: str,
) -> None:
    before = _state(campaign)
    url = "/api/v1/campaigns/" if method == "post" else f"/api/v1/campaigns/{campaign.pk}/"

    response = getattr(api_client_for(organization, Role.VIEWER), method)(
        url, {"status": "paused", "ad_account": campaign.ad_account_id, "name": "x",
              "objective": "sales", "daily_budget": "5"}, format="json",
    )  # fmt: skip

    assert response.status_code == 403
    assert _state(campaign) == before
    assert not CampaignChange.objects.exists()
    assert not SandboxEvent.objects.exists()


def test_post_creates_on_the_platform_and_delete_archives(
    campaign: Campaign, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    client = api_client_for(organization)

    created = client.post(
        "/api/v1/campaigns/",
        {"ad_account": campaign.ad_account_id, "name": "Launch", "objective": "traffic",
         "daily_budget": "60"},
        format="json", HTTP_IDEMPOTENCY_KEY="launch-1",
    )  # fmt: skip
    again = client.post(
        "/api/v1/campaigns/",
        {"ad_account": campaign.ad_account_id, "name": "Launch", "objective": "traffic",
         "daily_budget": "60"},
        format="json", HTTP_IDEMPOTENCY_KEY="launch-1",
    )  # fmt: skip

    assert created.status_code == 201, created.content
    assert again.json()["id"] == created.json()["id"]
    assert (created.json()["status"], created.json()["name"]) == ("paused", "Launch")
    archived = client.delete(f"/api/v1/campaigns/{created.json()['id']}/")
    assert archived.status_code == 200
    assert archived.json()["status"] == "archived"
    assert SandboxEvent.objects.filter(kind="create").count() == 1


def test_post_into_another_organizations_account_is_400(
    campaign: Campaign,
    foreign_campaign: Campaign,
    organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    response = api_client_for(organization).post(
        "/api/v1/campaigns/",
        {"ad_account": foreign_campaign.ad_account_id, "name": "x", "objective": "sales",
         "daily_budget": "5"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert "ad_account" in response.json()["errors"]
    assert not SandboxEvent.objects.filter(kind="create").exists()


def test_connections_api_lists_health_and_never_a_token(
    campaign: Campaign, organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    connection = Connection.objects.get(organization=organization)
    Connection.objects.filter(pk=connection.pk).update()
    connection.access_token = "very-secret-access"
    connection.refresh_token = "very-secret-refresh"
    connection.save()

    response = api_client_for(organization, Role.VIEWER).get("/api/v1/connections/")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["id"], row["platform"], row["connector"], row["status"]) == (
        connection.pk, "meta", "sandbox", "active",
    )  # fmt: skip
    assert "very-secret" not in response.content.decode()
    assert "token" not in " ".join(row)


def test_sync_endpoint_queues_a_sync_on_commit(
    campaign: Campaign,
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    django_capture_on_commit_callbacks,
) -> None:
    connection = Connection.objects.get(organization=organization)
    runs = SyncRun.objects.count()

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client_for(organization).post(
            f"/api/v1/connections/{connection.pk}/sync/", {"kind": "metrics"}, format="json"
        )

    assert response.status_code == 202
    assert (len(callbacks), SyncRun.objects.count()) == (1, runs)  # queued, not yet run
    callbacks[0]()
    latest = SyncRun.objects.order_by("-pk").first()
    assert SyncRun.objects.count() == runs + 1
    assert latest is not None and (latest.trigger, latest.kind, latest.status) == (
        "api", "metrics", SyncStatus.SUCCEEDED,
    )  # fmt: skip


def test_sync_endpoint_refuses_viewers_and_other_organizations(
    campaign: Campaign,
    foreign_campaign: Campaign,
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
    django_capture_on_commit_callbacks,
) -> None:
    own = Connection.objects.get(organization=organization)
    foreign = Connection.objects.get(organization=other_organization)
    runs = SyncRun.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        viewer = api_client_for(organization, Role.VIEWER).post(
            f"/api/v1/connections/{own.pk}/sync/"
        )
        other = api_client_for(organization).post(f"/api/v1/connections/{foreign.pk}/sync/")

    assert (viewer.status_code, other.status_code) == (403, 404)
    assert SyncRun.objects.count() == runs
