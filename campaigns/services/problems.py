"""The one place a sync or connection problem is reported to the organization: recorded on
the connection and the sync run, logged, and sent to its members as an integration error.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse

from campaigns.models import SyncRun
from integrations.models import Connection, ConnectionStatus
from notifications.registry import INTEGRATION_ERROR, Priority
from notifications.services import notify

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
    reauthorization_required = connection.status == ConnectionStatus.NEEDS_REAUTH
    notify(
        connection.organization,
        INTEGRATION_ERROR.key,
        {
            "connection_id": connection.pk,
            "platform": connection.get_platform_display(),
            "error": message,
            "reauthorization_required": reauthorization_required,
            "reconnect_url": reverse("integrations:list"),
        },
        priority=Priority.URGENT if reauthorization_required else Priority.HIGH,
        source="sync",
    )


def report_sync_gave_up(*, connection_id: int, attempts: int, error: Exception) -> None:
    """The sync kept failing with retryable errors until its retries ran out."""
    connection = Connection.objects.select_related("organization").get(pk=connection_id)
    report_sync_problem(
        connection=connection,
        message=f"The platform stayed unavailable after {attempts} attempts ({error}); "
        "the next scheduled sync continues where this one stopped.",
        code="unavailable",
    )
