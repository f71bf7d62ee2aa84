"""Our own Prometheus metrics, next to django-prometheus's request and database metrics.

Defined in one place so every app records the same names; label values are platform
slugs, queue names and outcomes — never organization names or ids (cardinality).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.registry import Collector

# Sync lag (adplatform_sync_lag_seconds) is a reading of the database at scrape time, not a
# value one process holds: see `SCRAPE_TIME_REGISTRY` below and integrations.observability.
SYNC_ROWS = Counter(
    "adplatform_sync_rows_total", "Rows written by platform syncs.", ["platform", "kind"]
)
PLATFORM_API_ERRORS = Counter(
    "adplatform_platform_api_errors_total", "Errors from ad platform APIs.", ["platform", "error"]
)
PLATFORM_RATE_LIMIT_WAIT = Counter(
    "adplatform_platform_rate_limit_wait_seconds_total",
    "Seconds spent waiting for platform rate limits.",
    ["platform"],
)
RULE_EVALUATION_SECONDS = Histogram(
    "adplatform_rule_evaluation_seconds",
    "Wall time of a rule evaluation: one rule run alone, or a batched pass of many rules.",
)
ACTIONS_APPLIED = Counter(
    "adplatform_actions_applied_total", "Campaign changes applied.", ["source", "kind", "outcome"]
)
NOTIFICATION_DELIVERY_SECONDS = Histogram(
    "adplatform_notification_delivery_seconds",
    "From notify() to delivery, per channel.",
    ["channel"],
)
NOTIFICATION_FAILURES = Counter(
    "adplatform_notification_failures_total", "Failed notification deliveries.", ["channel"]
)
AGENT_RUN_SECONDS = Histogram(
    "adplatform_agent_run_seconds", "Wall time of agent runs.", ["task", "provider"]
)
AGENT_TOKENS = Counter(
    "adplatform_agent_tokens_total", "LLM tokens used by agents.", ["provider", "direction"]
)


# --- Operations: scrape-time collectors and multiple processes ------------------------------
# Counters and histograms above are incremented where things happen, in whichever process
# does them (web, ws, Celery workers). With PROMETHEUS_MULTIPROC_DIR set (the Procfile and
# `make up` set it) prometheus_client writes them to files in that directory and /metrics
# in any web process sums every process's files. Values read from the database when
# scraped (sync lag) live in this separate registry, so they are exported once, by the
# process that answers the scrape, in both modes.
SCRAPE_TIME_REGISTRY = CollectorRegistry()
_scrape_time_types: set[type[Collector]] = set()


def register_scrape_time_collector(collector: Collector) -> None:
    """Add a collector that reads its values when /metrics is scraped (once per type)."""
    if type(collector) in _scrape_time_types:
        return
    _scrape_time_types.add(type(collector))
    SCRAPE_TIME_REGISTRY.register(collector)
