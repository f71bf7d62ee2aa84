"""A synced multi-platform sandbox organization and its hidden truth, for agent tests."""

from __future__ import annotations

import datetime as dt

from adplatform.models import Organization
from campaigns.models import Campaign
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.models import Connection
from integrations.providers.sandbox.connector import SandboxConnector
from integrations.providers.sandbox.simulator import CampaignTruth, SandboxWorld
from integrations.services import build_connector, create_sandbox_connection

CLOCK = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
AS_OF = CLOCK.date() - dt.timedelta(days=1)
PLATFORMS = ("meta", "google", "tiktok")


def build_sandbox_org(
    organization: Organization, *, platforms: tuple[str, ...] = PLATFORMS, days: int = 60
) -> list[Connection]:
    connections = []
    for index, platform in enumerate(platforms):
        connection = create_sandbox_connection(
            organization=organization, platform=platform, seed=11 + index, clock=CLOCK
        )
        import_ad_accounts(connection=connection)
        sync_connection(connection_id=connection.pk, since=AS_OF - dt.timedelta(days=days))
        connections.append(connection)
    return connections


def world_of(connection: Connection) -> SandboxWorld:
    connection.refresh_from_db()
    connector = build_connector(connection)
    assert isinstance(connector, SandboxConnector)
    return connector.world()


def truths(connections: list[Connection]) -> dict[int, CampaignTruth]:
    """Campaign id in our database -> its hidden truth in the sandbox."""
    result = {}
    for connection in connections:
        world = world_of(connection)
        for campaign in Campaign.objects.filter(ad_account__connection=connection):
            result[campaign.pk] = world.campaign(campaign.external_id)
    return result
