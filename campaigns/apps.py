from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from adplatform.periodic import PeriodicTask, register_periodic_task
        from campaigns.events import on_metrics_updated
        from campaigns.live import announce_metrics_updated
        from campaigns.models import SyncKind

        # Open pages (the dashboard) refetch when a sync lands new numbers.
        on_metrics_updated(announce_metrics_updated)

        # Campaigns, ad groups and ads change rarely; four reads a day catch edits made
        # directly on the platform.
        register_periodic_task(
            PeriodicTask(
                name="Sync structure of every connection",
                task="campaigns.tasks.sync_due_connections_task",
                every_seconds=6 * 3600,
                kwargs={"kind": SyncKind.STRUCTURE.value},
            )
        )
        # Metrics hourly: today's numbers move, and the lookback window picks up restatements.
        register_periodic_task(
            PeriodicTask(
                name="Sync metrics of every connection",
                task="campaigns.tasks.sync_due_connections_task",
                every_seconds=3600,
                kwargs={"kind": SyncKind.METRICS.value},
            )
        )
