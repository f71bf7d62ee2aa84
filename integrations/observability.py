"""Prometheus readings about connections, taken from the database when /metrics is scraped.

Sync lag is "now minus the connection's last successful sync": a value that grows while
nothing happens, so no process could keep it current by incrementing. One query per
scrape; label values are the platform slug and the connection's id (never names).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


class SyncLagCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        from integrations.models import Connection

        family = GaugeMetricFamily(
            "adplatform_sync_lag_seconds",
            "Seconds since the connection's last successful sync.",
            labels=["platform", "connection"],
        )
        now = timezone.now()
        try:
            rows = list(
                Connection.objects.filter(last_synced_at__isnull=False).values_list(
                    "pk", "platform", "last_synced_at"
                )
            )
        except DatabaseError:
            # A scrape must not fail because the database is down; /readyz reports that.
            logger.warning("sync lag not collected: database unavailable")
            rows = []
        for pk, platform, last_synced_at in rows:
            if last_synced_at is not None:  # filtered above; the type cannot know
                family.add_metric([platform, str(pk)], (now - last_synced_at).total_seconds())
        yield family
