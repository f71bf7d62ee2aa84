"""Writes of campaign data: the metrics write path and its campaign-day rollup.

Changes to live campaigns (pause, budget, bid...) arrive with the integrations work and
will live here too, so every actor goes through one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass, fields
from decimal import Decimal
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import AdAccount, CampaignDailyMetric, DailyMetric

BATCH_SIZE = 2000

DateRanges = dict[int, tuple[dt.date, dt.date]]
# Coarser rollups owned by downstream apps (analytics' account-day table) register here at
# start-up; they run in the same transaction, right after the campaign-day rows change.
ROLLUP_HOOKS: list[Callable[[DateRanges], None]] = []


def register_rollup_hook(hook: Callable[[DateRanges], None]) -> None:
    if hook not in ROLLUP_HOOKS:
        ROLLUP_HOOKS.append(hook)


@dataclass(frozen=True, slots=True)
class DailyMetricRow:
    """One ad-day (or campaign-day when `ad_id` is None) as the write path takes it."""

    organization_id: int
    ad_account_id: int
    campaign_id: int
    ad_group_id: int | None
    ad_id: int | None
    date: dt.date
    impressions: int = 0
    clicks: int = 0
    spend: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    conversion_value: Decimal = Decimal(0)
    video_views: int = 0
    reach: int | None = None
    frequency: Decimal | None = None


_COLUMNS = [f.name for f in fields(DailyMetricRow)]
_MEASURES = ["impressions", "clicks", "spend", "conversions", "conversion_value", "video_views", "reach", "frequency"]  # fmt: skip


def _upsert_sql(*, ad_level: bool) -> str:
    table = DailyMetric._meta.db_table
    columns = [*_COLUMNS, "updated_at"]
    placeholders = ", ".join(["%s"] * len(columns))
    # The conflict target names the partial unique index, so it must repeat its predicate.
    target = (
        "(ad_id, date) WHERE ad_id IS NOT NULL"
        if ad_level
        else "(campaign_id, date) WHERE ad_id IS NULL"
    )
    updates = ", ".join(f"{col} = excluded.{col}" for col in [*_MEASURES, "updated_at"])
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
        f"ON CONFLICT {target} DO UPDATE SET {updates}"
    )


def _batches(rows: Iterable[DailyMetricRow], size: int) -> Iterator[list[DailyMetricRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def upsert_daily_metrics(rows: Iterable[DailyMetricRow]) -> int:
    """Insert or overwrite metric rows by their natural key, then refresh the touched rollups.

    Streams `rows` in batches, so memory stays flat however many there are. Re-running
    with the same rows changes nothing. Returns the number of rows written.
    """
    written = 0
    touched: dict[int, tuple[dt.date, dt.date]] = {}
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for batch in _batches(rows, BATCH_SIZE):
            for ad_level in (True, False):
                params = [
                    (*astuple(row), now) for row in batch if (row.ad_id is not None) == ad_level
                ]
                if params:
                    cursor.executemany(_upsert_sql(ad_level=ad_level), params)
            for row in batch:
                low, high = touched.get(row.campaign_id, (row.date, row.date))
                touched[row.campaign_id] = (min(low, row.date), max(high, row.date))
            written += len(batch)
        refresh_campaign_rollups(touched)
    return written


def refresh_campaign_rollups(date_ranges: dict[int, tuple[dt.date, dt.date]]) -> None:
    """Recompute campaign-day rollups for each campaign over its date range, set-based.

    Reach is not additive across ads, so the rollup keeps it only from campaign-level rows.
    """
    if not date_ranges:
        return
    rollup = CampaignDailyMetric._meta.db_table
    facts = DailyMetric._meta.db_table
    accounts = AdAccount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        for chunk in _chunks(sorted(date_ranges.items()), 500):
            start = min(low for _, (low, _high) in chunk)
            end = max(high for _, (_low, high) in chunk)
            ids = [campaign_id for campaign_id, _ in chunk]
            in_list = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"DELETE FROM {rollup} WHERE campaign_id IN ({in_list}) AND date BETWEEN %s AND %s",
                [*ids, start, end],
            )
            cursor.execute(
                f"""
                INSERT INTO {rollup} (organization_id, ad_account_id, campaign_id, platform, date,
                    impressions, clicks, spend, conversions, conversion_value, video_views, reach,
                    frequency)
                SELECT m.organization_id, m.ad_account_id, m.campaign_id, a.platform, m.date,
                    SUM(m.impressions), SUM(m.clicks), SUM(m.spend), SUM(m.conversions),
                    SUM(m.conversion_value), SUM(m.video_views),
                    SUM(CASE WHEN m.ad_id IS NULL THEN m.reach END),
                    NULL
                FROM {facts} m
                JOIN {accounts} a ON a.id = m.ad_account_id
                WHERE m.campaign_id IN ({in_list}) AND m.date BETWEEN %s AND %s
                GROUP BY m.organization_id, m.ad_account_id, m.campaign_id, a.platform, m.date
                """,
                [*ids, start, end],
            )
        for hook in ROLLUP_HOOKS:
            hook(date_ranges)


def _chunks(
    items: Sequence[tuple[int, tuple[dt.date, dt.date]]], size: int
) -> Iterator[Sequence[tuple[int, tuple[dt.date, dt.date]]]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]
