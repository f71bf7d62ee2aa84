"""Metric ingestion: the sync's write path against a raw COPY of the same rows.

Upserts ROWS ad-day rows through `campaigns.services.upsert_daily_metrics` (COPY into a
staging table, restatement check and upsert set-based, rollup refresh), then COPYs the
same rows into an empty table of the same shape (columns and indexes). Prints rows/s
for both, their ratio, a re-sync of the same rows (nothing changes), and peak RSS.
Rows are generated as they are consumed, so memory should stay flat.

Needs DATABASE_URL pointing at PostgreSQL; it works in a scratch database of its own
(`<name>_bench_ingestion`, created and dropped here).
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

ROWS = int(os.environ.get("BENCH_INGESTION_ROWS", "1000000"))
ADS = 2000
CAMPAIGNS = 40


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_ingestion: skipped (set DATABASE_URL to a PostgreSQL database)")
        return 0
    import psycopg

    base, _, name = url.rpartition("/")
    scratch = f"{name.split('?')[0]}_bench_ingestion"
    admin_url = f"{base}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        admin.execute(f'CREATE DATABASE "{scratch}"')
    os.environ["DATABASE_URL"] = f"{base}/{scratch}"
    try:
        return run()
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def run() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from adplatform.models import Organization
    from campaigns.models import Ad, AdAccount, AdGroup, Campaign, DailyMetric
    from campaigns.services import DailyMetricRow, upsert_daily_metrics

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(name="Bench", slug="bench")
    account = AdAccount.objects.create(
        organization=org, platform="meta", external_id="b1", name="B"
    )
    campaigns = Campaign.objects.bulk_create(
        Campaign(organization=org, ad_account=account, external_id=f"c{i}", name=f"C{i}")
        for i in range(CAMPAIGNS)
    )
    groups = AdGroup.objects.bulk_create(
        AdGroup(organization=org, campaign=c, external_id=f"g{c.external_id}", name="G")
        for c in campaigns
    )
    ads = Ad.objects.bulk_create(
        Ad(
            organization=org,
            ad_group=groups[i % CAMPAIGNS],
            campaign=campaigns[i % CAMPAIGNS],
            external_id=f"a{i}",
            name=f"A{i}",
        )
        for i in range(ADS)
    )
    keys = [(ad.pk, ad.ad_group_id, ad.campaign_id) for ad in ads]
    days = ROWS // ADS
    first_day = dt.date(2024, 1, 1)

    def rows() -> Iterator[DailyMetricRow]:
        for offset in range(days):
            day = first_day + dt.timedelta(days=offset)
            for index, (ad_id, group_id, campaign_id) in enumerate(keys):
                seed = (offset * 7919 + index * 104729) % 1000
                yield DailyMetricRow(
                    organization_id=org.pk, ad_account_id=account.pk, campaign_id=campaign_id,
                    ad_group_id=group_id, ad_id=ad_id, date=day, impressions=1000 + seed,
                    clicks=10 + seed % 50, spend=Decimal(seed) / 10,
                    conversions=Decimal(seed % 7), conversion_value=Decimal(seed % 7) * 25,
                )  # fmt: skip

    total = days * ADS
    rss_before = rss_mb()

    started = time.perf_counter()
    result = upsert_daily_metrics(rows())
    write_path = time.perf_counter() - started
    assert result.rows == total == DailyMetric.objects.count()
    rss_after_write = rss_mb()

    started = time.perf_counter()
    again = upsert_daily_metrics(rows())
    resync = time.perf_counter() - started
    assert again.restated == 0

    table = DailyMetric._meta.db_table
    columns = [
        "organization_id", "ad_account_id", "campaign_id", "ad_group_id", "ad_id", "date",
        "impressions", "clicks", "spend", "conversions", "conversion_value", "video_views",
        "reach", "frequency", "updated_at",
    ]  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE bench_copy (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES "
            "INCLUDING IDENTITY INCLUDING CONSTRAINTS)"
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY bench_copy ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(
                    (
                        row.organization_id, row.ad_account_id, row.campaign_id,
                        row.ad_group_id, row.ad_id, row.date, row.impressions, row.clicks,
                        row.spend, row.conversions, row.conversion_value, row.video_views,
                        row.reach, row.frequency, now,
                    )
                )  # fmt: skip
    raw_copy = time.perf_counter() - started

    write_rate = total / write_path
    copy_rate = total / raw_copy
    print(f"rows: {total} rows")
    print(f"write_path_insert: {write_rate:,.0f} rows/s")
    print(f"raw_copy: {copy_rate:,.0f} rows/s")
    print(f"write_path_vs_copy: {write_rate / copy_rate:.2f} ratio (goal >= 0.50)")
    print(f"write_path_resync_unchanged: {total / resync:,.0f} rows/s")
    print(f"rss_before_write: {rss_before:.0f} MB")
    print(f"rss_after_write: {rss_after_write:.0f} MB")
    print(f"peak_rss: {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
