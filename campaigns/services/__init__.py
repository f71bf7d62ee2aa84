"""Writes of campaign data: the metrics write path, the sync, and changes to live campaigns.

Every actor (UI, API, rules, agents) changes a live campaign through `changes`; every
platform read lands through `sync`; every metric row through `metrics`.
"""

from __future__ import annotations

from campaigns.services.ad_changes import (
    activate_ad,
    audience_dimensions_for,
    expand_ad_group_audience,
    pause_ad,
)
from campaigns.services.changes import (
    Actor,
    CampaignChangeError,
    activate_campaign,
    apply_campaign_change,
    archive_campaign,
    create_campaign,
    pause_campaign,
    request_campaign_change,
    set_bid,
    set_daily_budget,
    set_lifetime_budget,
)
from campaigns.services.dry_runs import ChangeRequest, record_dry_run_changes
from campaigns.services.metrics import (
    DailyMetricRow,
    SegmentMetricRow,
    UpsertResult,
    refresh_campaign_rollups,
    register_rollup_hook,
    upsert_daily_metrics,
    upsert_segment_metrics,
)
from campaigns.services.problems import report_sync_problem
from campaigns.services.sync import SyncOutcome, list_connections_due, sync_connection

__all__ = [
    "Actor",
    "CampaignChangeError",
    "ChangeRequest",
    "DailyMetricRow",
    "SegmentMetricRow",
    "SyncOutcome",
    "UpsertResult",
    "activate_ad",
    "activate_campaign",
    "audience_dimensions_for",
    "expand_ad_group_audience",
    "apply_campaign_change",
    "archive_campaign",
    "create_campaign",
    "list_connections_due",
    "pause_ad",
    "pause_campaign",
    "record_dry_run_changes",
    "refresh_campaign_rollups",
    "register_rollup_hook",
    "report_sync_problem",
    "request_campaign_change",
    "set_bid",
    "set_daily_budget",
    "set_lifetime_budget",
    "sync_connection",
    "upsert_daily_metrics",
    "upsert_segment_metrics",
]
