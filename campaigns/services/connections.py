"""Bringing a connection's ad accounts in: list what the token reaches, import the chosen."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from campaigns.models import AdAccount
from integrations.connector import AdsConnector
from integrations.models import Connection
from integrations.records import RemoteAccount
from integrations.services import build_connector


def list_reachable_accounts(
    *, connection: Connection, connector: AdsConnector | None = None
) -> list[RemoteAccount]:
    """The ad accounts the connection's token can reach, as the platform lists them."""
    return (connector or build_connector(connection)).list_accounts()


@transaction.atomic
def import_ad_accounts(
    *,
    connection: Connection,
    external_ids: Iterable[str] | None = None,
    reachable: list[RemoteAccount] | None = None,
) -> list[AdAccount]:
    """Link the chosen reachable accounts (default: all) to `connection`.

    An account the organization already has (same platform and id) is re-linked to this
    connection rather than duplicated. Unknown ids are refused with ValueError.
    """
    reachable = (
        reachable if reachable is not None else list_reachable_accounts(connection=connection)
    )
    by_id = {account.external_id: account for account in reachable}
    chosen = list(by_id) if external_ids is None else list(dict.fromkeys(external_ids))
    unknown = [external_id for external_id in chosen if external_id not in by_id]
    if unknown:
        raise ValueError(f"Not reachable with this connection: {', '.join(unknown)}.")
    imported = []
    for external_id in chosen:
        remote = by_id[external_id]
        account, _ = AdAccount.objects.update_or_create(
            organization_id=connection.organization_id,
            platform=connection.platform,
            external_id=external_id,
            defaults={
                "name": remote.name,
                "currency": remote.currency,
                "time_zone": remote.time_zone,
                "status": remote.status,
                "connection": connection,
            },
        )
        imported.append(account)
    return imported
