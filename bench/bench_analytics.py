"""Analytics at agency scale: the metrics API over HTTP vs raw SQL on the ad-day table.

Builds its own PostgreSQL database (adp_bench_analytics) next to DATABASE_URL's: one
organization with 2,000 campaigns x 10 ads x 365 days (7.3 M ad-day rows) and 50 noise
organizations (20 campaigns x 4 ads x 365 days each). Rollups are built by the real
write path's rollup function. Then it serves the app with uvicorn and measures, over
HTTP with an API key, p50/p95 of:

  a) the 90-day summary with previous-period comparison
  b) the 90-day breakdown by campaign sorted by spend (first 100 rows)
  c) the 365-day weekly trend

and, in the same run, the same aggregates as raw SQL on the ad-day table (no rollups).
Prints one figure per line; drops its database at the end. Skips without PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/adp_x .venv/bin/python bench/bench_analytics.py
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "adp_bench_analytics"
CAMPAIGNS, ADS_PER_CAMPAIGN, DAYS = 2000, 10, 365
NOISE_ORGS, NOISE_CAMPAIGNS, NOISE_ADS = 50, 20, 4
ACCOUNTS = 20
API_RUNS, RAW_RUNS, WARMUP = 40, 7, 3
END = dt.date(2026, 3, 31)


def line(name: str, value: float | str, unit: str = "") -> None:
    text = f"{value:.1f}" if isinstance(value, float) else value
    print(f"{name}: {text}{' ' + unit if unit else ''}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def admin_connection(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def bench_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DB}"))


def build_dataset() -> tuple[int, str]:
    """Create structure with the ORM, facts with generate_series, rollups with the write path."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from adplatform.models import Organization
    from adplatform.services import create_api_key
    from campaigns.models import Ad, AdAccount, AdGroup, Campaign, Creative, Platform
    from campaigns.services import refresh_campaign_rollups

    call_command("migrate", verbosity=0)
    platforms = list(Platform.values)
    started = time.perf_counter()

    def structure(org: Organization, accounts: int, campaigns: int, ads: int) -> None:
        account_rows = AdAccount.objects.bulk_create(
            AdAccount(organization=org, platform=platforms[i % len(platforms)], external_id=f"a{i}", name=f"{org.slug} account {i}")
            for i in range(accounts)
        )  # fmt: skip
        campaign_rows = Campaign.objects.bulk_create(
            Campaign(organization=org, ad_account=account_rows[i % accounts], external_id=f"c{i}", name=f"Campaign {i:04d}", daily_budget=100)
            for i in range(campaigns)
        )  # fmt: skip
        groups = AdGroup.objects.bulk_create(
            AdGroup(organization=org, campaign=c, external_id=f"g{c.pk}-{g}", name=f"Group {g}")
            for c in campaign_rows
            for g in range(2)
        )
        creatives = Creative.objects.bulk_create(
            Creative(
                organization=org,
                ad_account_id=g.campaign.ad_account_id,
                external_id=f"cr{g.pk}-{a}",
            )
            for g in groups
            for a in range(ads // 2)
        )
        Ad.objects.bulk_create(
            Ad(organization=org, ad_group=groups[i // (ads // 2)], campaign=groups[i // (ads // 2)].campaign,
               creative=creative, external_id=f"ad{i}", name=f"Ad {i}")
            for i, creative in enumerate(creatives)
        )  # fmt: skip

    agency = Organization.objects.create(name="Agency", slug="agency")
    structure(agency, ACCOUNTS, CAMPAIGNS, ADS_PER_CAMPAIGN)
    for n in range(NOISE_ORGS):
        structure(
            Organization.objects.create(name=f"Noise {n}", slug=f"noise-{n}"),
            2,
            NOISE_CAMPAIGNS,
            NOISE_ADS,
        )
    line("analytics_structure_seconds", time.perf_counter() - started, "s")

    facts = "campaigns_dailymetric"
    with connection.cursor() as cursor:
        # Bulk load without secondary indexes, then rebuild them exactly as they were.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [facts, facts],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        # The rows reference structure created above; skipping the per-row foreign key
        # triggers (superuser only) turns a 20-minute load into a couple of minutes.
        cursor.execute("SET session_replication_role = replica")
        # Deterministic pseudo-random measures with a weekly rhythm; spend in cents.
        cursor.execute(
            f"""
            INSERT INTO {facts} (organization_id, ad_account_id, campaign_id, ad_group_id, ad_id,
                date, impressions, clicks, spend, conversions, conversion_value, video_views,
                updated_at)
            SELECT a.organization_id, c.ad_account_id, a.campaign_id, a.ad_group_id, a.id, d::date,
                v.impressions, v.impressions / 50 + (a.id %% 7), v.spend,
                (v.impressions / 2000)::numeric, (v.impressions / 2000) * 42.5, 0, now()
            FROM campaigns_ad a
            JOIN campaigns_campaign c ON c.id = a.campaign_id
            CROSS JOIN generate_series(%s::date, %s::date, interval '1 day') d
            CROSS JOIN LATERAL (SELECT
                (1000 + (a.id * 7919 + extract(doy FROM d)::int * 104729) %% 4000)
                    * (CASE WHEN extract(isodow FROM d) >= 6 THEN 7 ELSE 10 END) / 10 AS impressions,
                round(((a.id * 31 + extract(doy FROM d)::int * 17) %% 5000) / 100.0 + 5, 2) AS spend
            ) v
            """,
            [END - dt.timedelta(days=DAYS - 1), END],
        )
        rows = cursor.rowcount
        cursor.execute("SET session_replication_role = DEFAULT")
        line("analytics_ad_day_rows", str(rows), "rows")
        line("analytics_fact_load_seconds", time.perf_counter() - started, "s")
        started = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        line("analytics_fact_index_seconds", time.perf_counter() - started, "s")

    started = time.perf_counter()
    ranges = {
        pk: (END - dt.timedelta(days=DAYS - 1), END)
        for pk in Campaign.objects.values_list("pk", flat=True)
    }
    refresh_campaign_rollups(ranges)  # the write path's own rollup (and the account-day hook)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    line("analytics_rollup_build_seconds", time.perf_counter() - started, "s")
    key = create_api_key(organization=agency, name="bench").raw_key
    return agency.pk, key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_http(url: str, key: str) -> list[float]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    timings = []
    for run in range(WARMUP + API_RUNS):
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            assert response.status == 200, response.status
        if run >= WARMUP:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_sql(cursor, sql: str, params: list[object]) -> list[float]:  # type: ignore[no-untyped-def]
    timings = []
    for run in range(1 + RAW_RUNS):
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        if run >= 1:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(1)  # run the clean-up in main's finally


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        line("analytics_bench", "skipped (DATABASE_URL is not a PostgreSQL URL)")
        return 0
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = bench_url(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")
    with admin_connection(url) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    server = None
    try:
        organization_id, key = build_dataset()
        port = free_port()
        env = {
            **os.environ,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CELERY_TASK_ALWAYS_EAGER": "1",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "adplatform.asgi:application", "--port", str(port),
             "--lifespan", "off", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}/api/v1/analytics/metrics/"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)

        d90 = END - dt.timedelta(days=89)
        prev90 = d90 - dt.timedelta(days=90)
        d365 = END - dt.timedelta(days=364)
        scenarios = {
            "summary_90d_compare": (
                {"start": d90, "end": END, "compare": "true"},
                "SELECT SUM(impressions) FILTER (WHERE date >= %(s)s), SUM(clicks) FILTER (WHERE date >= %(s)s), "
                "SUM(spend) FILTER (WHERE date >= %(s)s), SUM(conversions) FILTER (WHERE date >= %(s)s), "
                "SUM(conversion_value) FILTER (WHERE date >= %(s)s), SUM(impressions) FILTER (WHERE date < %(s)s), "
                "SUM(clicks) FILTER (WHERE date < %(s)s), SUM(spend) FILTER (WHERE date < %(s)s), "
                "SUM(conversions) FILTER (WHERE date < %(s)s), SUM(conversion_value) FILTER (WHERE date < %(s)s) "
                "FROM campaigns_dailymetric WHERE organization_id = %(o)s AND date BETWEEN %(p)s AND %(e)s",
                {"s": d90, "p": prev90, "e": END, "o": organization_id},
            ),
            "campaigns_90d_by_spend": (
                {
                    "start": d90,
                    "end": END,
                    "group_by": "campaign",
                    "order_by": "-spend",
                    "limit": "100",
                },
                "SELECT campaign_id, SUM(impressions), SUM(clicks), SUM(spend) AS spend, SUM(conversions), "
                "SUM(conversion_value) FROM campaigns_dailymetric WHERE organization_id = %(o)s "
                "AND date BETWEEN %(s)s AND %(e)s GROUP BY campaign_id ORDER BY spend DESC LIMIT 100",
                {"s": d90, "e": END, "o": organization_id},
            ),
            "weekly_trend_365d": (
                {"start": d365, "end": END, "group_by": "week"},
                "SELECT date_trunc('week', date), SUM(impressions), SUM(clicks), SUM(spend), SUM(conversions), "
                "SUM(conversion_value) FROM campaigns_dailymetric WHERE organization_id = %(o)s "
                "AND date BETWEEN %(s)s AND %(e)s GROUP BY 1 ORDER BY 1",
                {"s": d365, "e": END, "o": organization_id},
            ),
        }
        import psycopg

        with psycopg.connect(bench_url(url)) as raw:
            cursor = raw.cursor()
            for name, (params, sql, sql_params) in scenarios.items():
                api = measure_http(f"{base}?{urlencode(params)}", key)
                baseline = measure_sql(cursor, sql, sql_params)  # type: ignore[arg-type]
                api_p50, api_p95 = statistics.median(api), percentile(api, 0.95)
                raw_p50, raw_p95 = statistics.median(baseline), percentile(baseline, 0.95)
                line(f"analytics_{name}_api_p50", api_p50, "ms")
                line(f"analytics_{name}_api_p95", api_p95, "ms")
                line(f"analytics_{name}_raw_sql_p50", raw_p50, "ms")
                line(f"analytics_{name}_raw_sql_p95", raw_p95, "ms")
                line(f"analytics_{name}_raw_over_api_p95_ratio", raw_p95 / api_p95, "x")
                line(f"analytics_{name}_api_p95_under_150ms", "yes" if api_p95 < 150 else "no")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        with admin_connection(url) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [BENCH_DB],
            )
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
