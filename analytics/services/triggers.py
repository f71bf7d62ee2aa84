"""Reactions to new data from the sync."""

from __future__ import annotations

from django.core.cache import cache

from campaigns.events import MetricsUpdated


def compute_insights_after_sync(event: MetricsUpdated) -> None:
    """Queue one insight computation per organization per sync run.

    A sync announces each ad account separately; the first announcement of a run queues
    the computation, the others find the marker and do nothing.
    """
    from analytics.tasks import compute_insights_task

    marker = f"analytics:insights-queued:{event.organization_id}:{event.sync_run_id}"
    if event.sync_run_id is not None and not cache.add(marker, 1, timeout=3600):
        return
    compute_insights_task.delay(event.organization_id, trigger="sync")
