"""Shared steps for sync tests: connect, import, dump the synced tables."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    Campaign,
    CampaignDailyMetric,
    Creative,
    DailyMetric,
    MetricRestatement,
    SegmentDailyMetric,
)
from campaigns.services.connections import import_ad_accounts
from integrations.models import Connection

SYNCED: list[type[Model]] = [
    AdAccount, Campaign, AdGroup, Creative, Ad, DailyMetric, CampaignDailyMetric,
    SegmentDailyMetric, MetricRestatement,
]  # fmt: skip


def dump_tables() -> dict[str, list[dict[str, Any]]]:
    """Every column of every row of the synced tables, in primary-key order."""
    return {
        model.__name__: list(model._default_manager.order_by("pk").values()) for model in SYNCED
    }


def dump_by_natural_key() -> dict[str, list[tuple[Any, ...]]]:
    """The synced data without ids or timestamps, so two separate runs can be compared."""
    return {
        "campaigns": sorted(
            Campaign.objects.values_list("external_id", "name", "status", "daily_budget")
        ),
        "ads": sorted(Ad.objects.values_list("external_id", "campaign__external_id", "creative__external_id")),
        "metrics": sorted(
            DailyMetric.objects.values_list(
                "ad__external_id", "date", "impressions", "clicks", "spend", "conversions",
                "conversion_value",
            )
        ),
        "rollups": sorted(
            CampaignDailyMetric.objects.values_list("campaign__external_id", "date", "spend", "conversions")
        ),
        "segments": sorted(
            SegmentDailyMetric.objects.values_list("campaign__external_id", "date", "dimension", "value", "conversions")
        ),
        "restatements": sorted(MetricRestatement.objects.values_list("ad__external_id", "date", "conversions")),
    }  # fmt: skip


def connect(connection: Connection) -> list[AdAccount]:
    return import_ad_accounts(connection=connection)
