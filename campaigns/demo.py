"""The demo organization's data, produced the real way: sandbox connections and a sync.

One sandbox connection per platform, each simulating that platform's account, imported
and synced over `days` days through the same code a real connection uses. Scheduled
syncs keep adding days as time passes, so rules and agents act on something live.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User

from adplatform.models import Organization
from campaigns.models import Ad, AdAccount, Campaign, SyncKind
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.models import SANDBOX, Connection
from integrations.services import create_sandbox_connection
from integrations.vocabulary import Platform


@dataclass(frozen=True)
class DemoSummary:
    accounts: int
    campaigns: int
    ads: int
    metric_rows: int


def seed_demo_organization(
    organization: Organization,
    *,
    seed: int,
    days: int = 90,
    today: dt.date,
    created_by: User | None = None,
) -> DemoSummary:
    """Connect one sandbox account per platform (once) and sync the last `days` days."""
    rows = 0
    for platform in Platform:
        connection = Connection.objects.filter(
            organization=organization, platform=platform, connector=SANDBOX
        ).first()
        if connection is None:
            connection = create_sandbox_connection(
                organization=organization, platform=platform, seed=seed, created_by=created_by
            )
            import_ad_accounts(connection=connection)
        outcome = sync_connection(
            connection_id=connection.pk,
            kind=SyncKind.FULL,
            since=today - dt.timedelta(days=days - 1),
            trigger="seed",
            requested_by="seed_demo",
        )
        if outcome.run is not None:
            rows += outcome.run.rows
    return DemoSummary(
        accounts=AdAccount.objects.filter(organization=organization).count(),
        campaigns=Campaign.objects.filter(organization=organization).count(),
        ads=Ad.objects.filter(organization=organization).count(),
        metric_rows=rows,
    )
