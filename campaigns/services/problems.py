"""The one place a sync or connection problem is reported to the organization.

Until the notifications app is wired in, a problem is recorded on the connection and the
sync run and logged; `report_sync_problem` is the single call to point at
`notifications.services.notify` later.
"""

from __future__ import annotations

import logging

from django.db import transaction

from campaigns.models import SyncRun
from integrations.models import Connection

logger = logging.getLogger("campaigns.sync")


def report_sync_problem(
    *, connection: Connection, message: str, sync_run: SyncRun | None = None, code: str = "sync"
) -> None:
    """Tell the organization a sync or connection failed. `message` must hold no secret."""
    if sync_run is not None and sync_run.error != message:
        SyncRun.objects.filter(pk=sync_run.pk).update(error=message)
        sync_run.error = message
    if connection.status_detail != message:
        Connection.objects.filter(pk=connection.pk).update(status_detail=message)
        connection.status_detail = message
    extra = {
        "organization_id": connection.organization_id,
        "connection_id": connection.pk,
        "sync_run_id": sync_run.pk if sync_run else None,
        "problem": code,
    }
    transaction.on_commit(lambda: logger.warning("sync problem: %s", message, extra=extra))
