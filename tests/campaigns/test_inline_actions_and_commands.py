from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_celery_beat.models import PeriodicTask

from adplatform.fields import reveal
from adplatform.models import Membership, Organization
from campaigns.models import AdAccount, Campaign, CampaignChange, DeliveryStatus, SyncRun
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.models import Connection, SandboxEvent
from integrations.services import create_sandbox_connection

pytestmark = pytest.mark.django_db

CLOCK = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def _sandbox_campaign(organization: Organization) -> Campaign:
    connection = create_sandbox_connection(
        organization=organization, platform="x", seed=4, clock=CLOCK
    )
    import_ad_accounts(connection=connection)
    sync_connection(connection_id=connection.pk, kind="structure")
    return Campaign.objects.filter(organization=organization, status="active").first()  # type: ignore[return-value]


def test_the_pause_button_pauses_on_the_platform_and_returns_the_row(
    member: Membership, web_client_for: Callable[..., Client]
) -> None:
    campaign = _sandbox_campaign(member.organization)

    response = web_client_for(member).post(
        f"/campaigns/{campaign.pk}/action/",
        {"action": "pause", "period": "7"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr data-platform="x" id="campaign-{campaign.pk}">')
    assert "Activate" in html
    campaign.refresh_from_db()
    assert campaign.status == DeliveryStatus.PAUSED
    assert CampaignChange.objects.get().actor_user_id == member.user_id


def test_a_negative_budget_from_the_table_shows_the_error_and_changes_nothing(
    member: Membership, web_client_for: Callable[..., Client]
) -> None:
    campaign = _sandbox_campaign(member.organization)
    budget = campaign.daily_budget

    response = web_client_for(member).post(
        f"/campaigns/{campaign.pk}/action/", {"action": "daily_budget", "daily_budget": "-3"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip

    assert response.status_code == 422
    assert "Must not be negative." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.daily_budget == budget
    assert not SandboxEvent.objects.exists()


def test_inline_actions_refuse_viewers_and_other_organizations(
    viewer: Membership, other_organization: Organization, web_client_for: Callable[..., Client]
) -> None:
    own = _sandbox_campaign(viewer.organization)
    foreign = _sandbox_campaign(other_organization)
    client = web_client_for(viewer)

    denied = client.post(f"/campaigns/{own.pk}/action/", {"action": "pause"})
    from adplatform.models import Role

    viewer.role = Role.MEMBER
    viewer.save()
    hidden = client.post(f"/campaigns/{foreign.pk}/action/", {"action": "pause"})

    assert (denied.status_code, hidden.status_code) == (403, 404)
    assert not SandboxEvent.objects.exists()
    assert (
        Campaign.objects.filter(status=DeliveryStatus.PAUSED, pk__in=[own.pk, foreign.pk]).count()
        == 0
    )


def test_connect_command_stores_a_sandbox_connection_and_sync_command_fills_it(
    organization: Organization,
) -> None:
    out = StringIO()
    call_command("connect", "pinterest", org=organization.slug, sandbox=True, stdout=out)
    connection = Connection.objects.get()
    Connection.objects.filter(pk=connection.pk).update(
        extra={**connection.extra, "clock": CLOCK.isoformat()}
    )

    call_command("sync", connection=connection.pk, since=dt.date(2026, 3, 8), stdout=out)

    account = AdAccount.objects.get()
    assert (account.platform, account.connection_id) == ("pinterest", connection.pk)
    assert f"Connection {connection.pk} (sandbox)" in out.getvalue()
    assert "succeeded" in out.getvalue()
    assert SyncRun.objects.get().trigger == "command"


def test_connect_command_with_a_token_imports_the_chosen_accounts(
    organization: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrations.registry import _CONNECTORS
    from tests.integrations.fake import FakeConnector, make_platform

    make_platform("default")
    # The command goes through the registry like any caller; the in-test fake stands in for
    # Meta so no HTTP is needed (the Meta connector has its own wire tests).
    monkeypatch.setitem(_CONNECTORS, "meta", FakeConnector)
    out = StringIO()

    call_command(
        "connect", "meta", org=organization.slug, token="good-token",
        refresh_token="good-refresh", accounts=["A2"], stdout=out,
    )  # fmt: skip

    connection = Connection.objects.get()
    assert (connection.connector, reveal(connection.access_token)) == ("meta", "good-token")
    assert list(AdAccount.objects.values_list("external_id", flat=True)) == ["A2"]
    assert "good-token" not in out.getvalue()


def test_setup_periodic_tasks_stores_the_schedule_and_keeps_admin_edits() -> None:
    call_command("setup_periodic_tasks", stdout=StringIO())
    metrics = PeriodicTask.objects.get(name="Sync metrics of every connection")
    assert (metrics.task, metrics.interval.every, metrics.interval.period) == (
        "campaigns.tasks.sync_due_connections_task", 1, "hours",
    )  # fmt: skip
    assert PeriodicTask.objects.get(name="Sync structure of every connection").interval.every == 6
    metrics.enabled = False
    metrics.save()

    call_command("setup_periodic_tasks", stdout=StringIO())

    assert PeriodicTask.objects.get(pk=metrics.pk).enabled is False
