"""The metrics write path: daily facts, their restatement log, the campaign-day rollup.

Rows are staged in a temporary table (PostgreSQL: one `COPY` stream; SQLite: batched
inserts), then merged set-based: one statement logs the stored values a re-read changes,
one upserts by the natural key and touches only rows whose values differ, so a repeated
sync changes nothing, not even `updated_at`. Memory stays flat however many rows come.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass, fields
from decimal import Decimal
from itertools import islice
from operator import attrgetter
from typing import Any

from django.db import ProgrammingError, connection, transaction
from django.utils import timezone
from psycopg import errors as psycopg_errors

from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    Campaign,
    CampaignDailyMetric,
    DailyMetric,
    MetricRestatement,
    SegmentDailyMetric,
)

BATCH_SIZE = 2000
STAGE = "stage_daily_metric"


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


@dataclass(frozen=True, slots=True)
class UpsertResult:
    rows: int
    restated: int
    # campaign id -> (first, last) day written, for rollups and "metrics updated" events.
    touched: dict[int, tuple[dt.date, dt.date]]


_COLUMNS = [f.name for f in fields(DailyMetricRow)]
# dataclasses.astuple deep-copies every value: far too slow for a million rows.
_as_tuple = attrgetter(*_COLUMNS)
_MEASURES = ["impressions", "clicks", "spend", "conversions", "conversion_value", "video_views", "reach", "frequency"]  # fmt: skip
_STAGE_TYPES = {
    "organization_id": "bigint", "ad_account_id": "bigint", "campaign_id": "bigint",
    "ad_group_id": "bigint", "ad_id": "bigint", "date": "date", "impressions": "bigint",
    "clicks": "bigint", "spend": "numeric(18,4)", "conversions": "numeric(18,4)",
    "conversion_value": "numeric(18,4)", "video_views": "bigint", "reach": "bigint",
    "frequency": "numeric(10,4)",
}  # fmt: skip


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _differs(left: str, right: str, columns: Sequence[str]) -> str:
    """SQL true when any column differs, NULL-safe on both backends."""
    op = "IS DISTINCT FROM" if _is_postgres() else "IS NOT"
    return " OR ".join(f"{left}.{col} {op} {right}.{col}" for col in columns)


def _prepare_stage(cursor: object) -> None:
    columns = ", ".join(f"{name} {_STAGE_TYPES[name]}" for name in _COLUMNS)
    if _is_postgres():
        cursor.execute(  # type: ignore[attr-defined]
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({columns}) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGE}")  # type: ignore[attr-defined]
    else:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({columns})")  # type: ignore[attr-defined]
        cursor.execute(f"DELETE FROM {STAGE}")  # type: ignore[attr-defined]


def _stage(cursor: object, rows: Iterable[DailyMetricRow]) -> Iterator[DailyMetricRow]:
    """Write rows into the stage as they stream past; yields each row once written."""
    column_list = ", ".join(_COLUMNS)
    if _is_postgres():
        raw = cursor.cursor  # type: ignore[attr-defined]  # psycopg's own cursor
        with raw.copy(f"COPY {STAGE} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(_as_tuple(row))
                yield row
        return
    sql = f"INSERT INTO {STAGE} ({column_list}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_SIZE)):
        cursor.executemany(sql, [_as_tuple(row) for row in batch])  # type: ignore[attr-defined]
        yield from batch


def _merge_sql(*, ad_level: bool) -> tuple[str, str]:
    """(log the values about to change, upsert) for one grain."""
    table = DailyMetric._meta.db_table
    log = MetricRestatement._meta.db_table
    if ad_level:
        join = "m.ad_id = s.ad_id AND m.date = s.date"
        grain = "s.ad_id IS NOT NULL"
        # The conflict target names the partial unique index, so it repeats its predicate.
        target = "(ad_id, date) WHERE ad_id IS NOT NULL"
    else:
        join = "m.campaign_id = s.campaign_id AND m.date = s.date AND m.ad_id IS NULL"
        grain = "s.ad_id IS NULL"
        target = "(campaign_id, date) WHERE ad_id IS NULL"
    measures = ", ".join(_MEASURES)
    restate = (
        f"INSERT INTO {log} (organization_id, ad_account_id, campaign_id, ad_id, date, "
        f"{measures}, seen_at, replaced_at, sync_run_id) "
        f"SELECT m.organization_id, m.ad_account_id, m.campaign_id, m.ad_id, m.date, "
        f"{', '.join(f'm.{c}' for c in _MEASURES)}, m.updated_at, %s, %s "
        f"FROM {STAGE} s JOIN {table} m ON {join} "
        f"WHERE {grain} AND ({_differs('m', 's', _MEASURES)})"
    )
    updates = ", ".join(f"{col} = excluded.{col}" for col in [*_MEASURES, "updated_at"])
    upsert = (
        f"INSERT INTO {table} ({', '.join(_COLUMNS)}, updated_at) "
        f"SELECT {', '.join(f's.{c}' for c in _COLUMNS)}, %s FROM {STAGE} s WHERE {grain} "
        f"ON CONFLICT {target} DO UPDATE SET {updates} "
        f"WHERE {_differs(table, 'excluded', _MEASURES)}"
    )
    return restate, upsert


def upsert_daily_metrics(
    rows: Iterable[DailyMetricRow], *, sync_run_id: int | None = None
) -> UpsertResult:
    """Insert or overwrite metric rows by their natural key, then refresh the touched rollups.

    Values a row had before a re-read changed them go to `MetricRestatement`, with when
    they were first seen. Rows must be unique by (ad, day) / (campaign, day) within one
    call. Streams `rows`; re-running with the same rows changes nothing.
    """
    touched: dict[int, tuple[dt.date, dt.date]] = {}
    count = 0
    now = timezone.now()
    restated = 0
    with transaction.atomic(), connection.cursor() as cursor:
        _prepare_stage(cursor)
        for row in _stage(cursor, rows):
            count += 1
            span = touched.get(row.campaign_id)
            if span is None:
                touched[row.campaign_id] = (row.date, row.date)
            elif row.date < span[0] or row.date > span[1]:
                touched[row.campaign_id] = (min(span[0], row.date), max(span[1], row.date))
        if count:
            if _is_postgres():
                # A temporary table has no statistics; without them the joins below get
                # nested-loop plans that crawl at a million rows.
                cursor.execute(f"ANALYZE {STAGE}")
            _check_references(cursor)
            if _is_postgres():
                try:
                    with transaction.atomic():  # a savepoint: the fast path may be retried
                        restated = _merge(cursor, now=now, sync_run_id=sync_run_id)
                except ProgrammingError as exc:
                    # Duplicate keys in one call: ON CONFLICT cannot touch a row twice.
                    if not isinstance(exc.__cause__, psycopg_errors.CardinalityViolation):
                        raise
                    _dedupe_stage(cursor)
                    restated = _merge(cursor, now=now, sync_run_id=sync_run_id)
            else:
                _dedupe_stage(cursor)  # SQLite would apply both; the log would hold both
                restated = _merge(cursor, now=now, sync_run_id=sync_run_id)
            refresh_campaign_rollups(touched)
    return UpsertResult(rows=count, restated=restated, touched=touched)


class MetricReferenceError(ValueError):
    """Staged rows name an ad, group, campaign or account that does not exist or does not
    belong together; nothing of the batch is written."""


def _check_references(cursor: Any) -> None:
    """The set-based stand-in for foreign keys (see `DailyMetric`): one anti-join."""
    cursor.execute(
        f"""
        SELECT COUNT(*) FROM {STAGE} s
        LEFT JOIN {Campaign._meta.db_table} c ON c.id = s.campaign_id
            AND c.ad_account_id = s.ad_account_id AND c.organization_id = s.organization_id
        LEFT JOIN {Ad._meta.db_table} a ON a.id = s.ad_id AND a.campaign_id = s.campaign_id
        LEFT JOIN {AdGroup._meta.db_table} g ON g.id = s.ad_group_id
            AND g.campaign_id = s.campaign_id
        WHERE c.id IS NULL
            OR (s.ad_id IS NOT NULL AND (a.id IS NULL OR a.ad_group_id <> s.ad_group_id))
            OR (s.ad_group_id IS NOT NULL AND g.id IS NULL)
        """
    )
    bad = cursor.fetchone()[0]
    if bad:
        raise MetricReferenceError(
            f"{bad} metric row(s) reference unknown or mismatched ads, groups or campaigns."
        )


def _merge(cursor: Any, *, now: dt.datetime, sync_run_id: int | None) -> int:
    restated = 0
    for ad_level in (True, False):
        restate, upsert = _merge_sql(ad_level=ad_level)
        cursor.execute(restate, [now, sync_run_id])
        restated += max(cursor.rowcount, 0)
        cursor.execute(upsert, [now])
    return restated


def _dedupe_stage(cursor: Any) -> None:
    """Keep the last staged row of each key (rows arrive in order; later ones win)."""
    if _is_postgres():
        for key in ("ad_id", "campaign_id"):
            grain = (
                "a.ad_id IS NOT NULL" if key == "ad_id" else "a.ad_id IS NULL AND b.ad_id IS NULL"
            )
            cursor.execute(
                f"DELETE FROM {STAGE} a USING {STAGE} b WHERE a.{key} = b.{key} "
                f"AND a.date = b.date AND {grain} AND a.ctid < b.ctid"
            )
        return
    cursor.execute(
        f"DELETE FROM {STAGE} WHERE rowid NOT IN (SELECT max(rowid) FROM {STAGE} "
        f"GROUP BY CASE WHEN ad_id IS NULL THEN -campaign_id ELSE ad_id END, date)"
    )


DateRanges = dict[int, tuple[dt.date, dt.date]]
# Coarser rollups owned by downstream apps (analytics' account-day table) register here at
# start-up; they run in the same transaction, right after the campaign-day rows change.
ROLLUP_HOOKS: list[Callable[[DateRanges], None]] = []


def register_rollup_hook(hook: Callable[[DateRanges], None]) -> None:
    if hook not in ROLLUP_HOOKS:
        ROLLUP_HOOKS.append(hook)


def refresh_campaign_rollups(date_ranges: dict[int, tuple[dt.date, dt.date]]) -> None:
    """Recompute campaign-day rollups for each campaign over its date range, set-based.

    Upserts and touches only rollup rows whose sums changed, so an unchanged re-sync
    leaves the table as it was. Reach is not additive across ads: the rollup takes it from
    campaign-level rows, and only where a platform reports ads alone, the ads' sum (an upper
    bound, as one person may see two ads; a frequency from it errs low, never high).
    """
    if not date_ranges:
        return
    rollup = CampaignDailyMetric._meta.db_table
    facts = DailyMetric._meta.db_table
    accounts = AdAccount._meta.db_table
    sums = ["impressions", "clicks", "spend", "conversions", "conversion_value", "video_views", "reach"]  # fmt: skip
    updates = ", ".join(f"{col} = excluded.{col}" for col in sums)
    with transaction.atomic(), connection.cursor() as cursor:
        for chunk in _chunks(sorted(date_ranges.items()), 500):
            start = min(low for _, (low, _high) in chunk)
            end = max(high for _, (_low, high) in chunk)
            ids = [campaign_id for campaign_id, _ in chunk]
            in_list = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"""
                INSERT INTO {rollup} (organization_id, ad_account_id, campaign_id, platform, date,
                    impressions, clicks, spend, conversions, conversion_value, video_views, reach,
                    frequency)
                SELECT m.organization_id, m.ad_account_id, m.campaign_id, a.platform, m.date,
                    SUM(m.impressions), SUM(m.clicks), SUM(m.spend), SUM(m.conversions),
                    SUM(m.conversion_value), SUM(m.video_views),
                    COALESCE(SUM(CASE WHEN m.ad_id IS NULL THEN m.reach END), SUM(m.reach)),
                    NULL
                FROM {facts} m
                JOIN {accounts} a ON a.id = m.ad_account_id
                WHERE m.campaign_id IN ({in_list}) AND m.date BETWEEN %s AND %s
                GROUP BY m.organization_id, m.ad_account_id, m.campaign_id, a.platform, m.date
                ON CONFLICT (campaign_id, date) DO UPDATE SET {updates}
                WHERE {_differs(rollup, "excluded", sums)}
                """,
                [*ids, start, end],
            )
            cursor.execute(
                f"""
                DELETE FROM {rollup}
                WHERE campaign_id IN ({in_list}) AND date BETWEEN %s AND %s
                AND NOT EXISTS (SELECT 1 FROM {facts} m
                                WHERE m.campaign_id = {rollup}.campaign_id
                                AND m.date = {rollup}.date)
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


@dataclass(frozen=True, slots=True)
class SegmentMetricRow:
    organization_id: int
    ad_account_id: int
    campaign_id: int
    platform: str
    date: dt.date
    dimension: str
    value: str
    impressions: int = 0
    clicks: int = 0
    spend: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    conversion_value: Decimal = Decimal(0)


def upsert_segment_metrics(rows: Iterable[SegmentMetricRow]) -> int:
    """Insert or overwrite campaign-day segment rows; unchanged rows are left untouched."""
    table = SegmentDailyMetric._meta.db_table
    columns = [f.name for f in fields(SegmentMetricRow)]
    measures = ["impressions", "clicks", "spend", "conversions", "conversion_value"]
    updates = ", ".join(f"{col} = excluded.{col}" for col in [*measures, "updated_at"])
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, updated_at) "
        f"VALUES ({', '.join(['%s'] * (len(columns) + 1))}) "
        f"ON CONFLICT (campaign_id, date, dimension, value) DO UPDATE SET {updates} "
        f"WHERE {_differs(table, 'excluded', measures)}"
    )
    now = timezone.now()
    written = 0
    iterator = iter(rows)
    with transaction.atomic(), connection.cursor() as cursor:
        while batch := list(islice(iterator, BATCH_SIZE)):
            cursor.executemany(sql, [(*astuple(row), now) for row in batch])
            written += len(batch)
    return written
