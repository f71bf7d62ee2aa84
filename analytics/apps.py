from __future__ import annotations

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        from analytics.services.rollups import refresh_account_rollups
        from campaigns.services import register_rollup_hook

        # The account-day rollup is rewritten with every campaign-day rollup write.
        register_rollup_hook(refresh_account_rollups)

        from analytics.services.triggers import compute_insights_after_sync
        from campaigns.events import on_metrics_updated

        on_metrics_updated(compute_insights_after_sync)
