from __future__ import annotations

import datetime as dt

import pytest

from adplatform.models import Organization
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.models import Connection
from integrations.services import create_sandbox_connection

CLOCK = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
TODAY = CLOCK.date()


@pytest.fixture
def sandbox(organization: Organization) -> Connection:
    """A sandbox platform with a week of synced metrics; its changes really apply."""
    connection = create_sandbox_connection(
        organization=organization, platform="tiktok", seed=3, clock=CLOCK
    )
    import_ad_accounts(connection=connection)
    sync_connection(connection_id=connection.pk, since=TODAY - dt.timedelta(days=8))
    return connection


@pytest.fixture
def sandbox_today(organization: Organization) -> Connection:
    """A sandbox whose clock is now, for paths that run on the real date (API, pages)."""
    from django.utils import timezone

    now = timezone.now()
    connection = create_sandbox_connection(
        organization=organization, platform="tiktok", seed=3, clock=now
    )
    import_ad_accounts(connection=connection)
    sync_connection(connection_id=connection.pk, since=now.date() - dt.timedelta(days=8))
    return connection
