"""Celery entry points: ids and plain values in, one service call inside.

Only retryable platform errors are retried, with exponential backoff and full jitter,
honouring the platform's `retry_after`; each retry continues the same sync run from
its cursor. Permanent errors are recorded by the service, not retried.
"""

from __future__ import annotations

import datetime as dt
import random

from celery import Task, shared_task

from campaigns.models import SyncKind
from campaigns.services.changes import apply_campaign_change
from campaigns.services.problems import report_sync_gave_up
from campaigns.services.sync import list_connections_due, sync_connection
from integrations.clients.errors import RetryablePlatformError

BACKOFF_BASE = 30.0
BACKOFF_CAP = 30 * 60.0


def retry_delay(retries: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: the platform's word, else capped full jitter."""
    if retry_after is not None:
        return float(retry_after) + random.uniform(0, 5)
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**retries))


@shared_task(bind=True, acks_late=True, max_retries=6)
def sync_connection_task(
    self: Task,
    connection_id: int,
    kind: str = SyncKind.FULL,
    since: str | None = None,
    trigger: str = "schedule",
    requested_by: str = "",
) -> None:
    try:
        sync_connection(
            connection_id=connection_id,
            kind=kind,
            since=dt.date.fromisoformat(since) if since else None,
            trigger=trigger,
            requested_by=requested_by,
        )
    except RetryablePlatformError as exc:
        if self.request.retries >= (self.max_retries or 0):
            report_sync_gave_up(
                connection_id=connection_id, attempts=self.request.retries + 1, error=exc
            )
            raise
        raise self.retry(
            exc=exc, countdown=retry_delay(self.request.retries, exc.retry_after)
        ) from exc


@shared_task(acks_late=True)
def sync_due_connections_task(kind: str = SyncKind.METRICS) -> int:
    """The schedule's fan-out: one sync task per connection that is due."""
    due = list_connections_due()
    for connection_id in due:
        sync_connection_task.delay(connection_id, kind=kind, trigger="schedule")
    return len(due)


@shared_task(acks_late=True)
def apply_campaign_change_task(change_id: int) -> None:
    # The service claims the change (pending -> applying), so a duplicate delivery is harmless.
    apply_campaign_change(change_id=change_id)
