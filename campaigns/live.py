"""Live signals to open pages, through the notifications service's WebSocket."""

from __future__ import annotations

from adplatform.models import Organization
from campaigns.events import MetricsUpdated
from notifications.services import broadcast


def announce_metrics_updated(event: MetricsUpdated) -> None:
    """One "metrics.updated" per ad account per sync; pages treat it as "refetch"."""
    organization = Organization.objects.get(pk=event.organization_id)
    broadcast(
        organization,
        "metrics.updated",
        {
            "ad_account_id": event.ad_account_id,
            "start": event.start.isoformat(),
            "end": event.end.isoformat(),
            "rows": event.rows,
        },
        coalesce_key=f"metrics:{event.ad_account_id}",
    )
