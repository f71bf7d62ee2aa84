"""Our own Prometheus metrics, next to django-prometheus's request and database metrics.

Defined in one place so every app records the same names; label values are platform
slugs, queue names and outcomes — never organization names or ids (cardinality).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SYNC_LAG_SECONDS = Gauge(
    "adplatform_sync_lag_seconds",
    "Seconds since the connection's last successful sync.",
    ["platform", "connection"],
)
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
    "adplatform_rule_evaluation_seconds", "Wall time of one rule evaluation pass."
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
