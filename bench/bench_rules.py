"""Automation at agency scale: 1,000 dry-run rules over 50,000 campaigns x 30 days.

Builds its own PostgreSQL database (<DATABASE_URL's name>_bench_rules) next to it: 100
organizations x 500 campaigns, 30 days of campaign-day rollup rows each (1.5 M rows),
and 10 rules per organization (1,000) made from the gallery's shapes, all in dry-run
mode. Then it runs one full pass through the live path (`run_rules`, as the periodic task
does) and prints wall time, queries, the heaviest query, and — as the baseline measured in
the same run — the same reads done campaign by campaign (one aggregate query per campaign)
for a sample of rules.
Drops its database at the end. Skips without PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/adp_x .venv/bin/python bench/bench_rules.py
    BENCH_RULES_SCALE=0.1 ...   # a tenth of the organizations, for a quick look
    BENCH_RULES_KEEP=1 ...      # keep the loaded data as <bench db>_seed and clone it next time
    BENCH_RULES_PROFILE=out.prof ...  # write a cProfile of the pass
"""

from __future__ import annotations

import cProfile
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCALE = float(os.environ.get("BENCH_RULES_SCALE", "1"))
ORGS = max(1, round(100 * SCALE))
CAMPAIGNS_PER_ORG, ACCOUNTS_PER_ORG, DAYS, RULES_PER_ORG = 500, 5, 30, 10
BASELINE_RULES = 20
KEEP = os.environ.get("BENCH_RULES_KEEP", "") not in ("", "0")
PROFILE = os.environ.get("BENCH_RULES_PROFILE", "")
TODAY = dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 3, 31, 15, tzinfo=dt.UTC)


def line(name: str, value: float | str, unit: str = "") -> None:
    text = f"{value:.3f}" if isinstance(value, float) else value
    print(f"{name}: {text}{' ' + unit if unit else ''}", flush=True)


def admin_connection(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


RULE_SHAPES = [
    # (conditions, actions) — thresholds chosen so that a few percent of campaigns match.
    ({"items": [{"metric": "budget_spent_pct", "window": "today", "operator": "gte", "value": "97"}]},
     [{"type": "pause"}, {"type": "notify", "priority": "high"}]),
    ({"items": [{"metric": "cpa", "window": "last_7_days", "operator": "gt", "value": "80"}],
      "minimum_data": {"window": "last_7_days", "spend": "100"}},
     [{"type": "pause"}]),
    ({"items": [{"metric": "roas", "window": "last_7_days", "operator": "gt", "value": "0.8"},
                {"metric": "conversions", "window": "last_7_days", "operator": "gte", "value": "5"}]},
     [{"type": "increase_budget", "percent": "20"}]),
    ({"operator": "or", "items": [
        {"metric": "spend", "window": "last_14_days", "operator": "gt", "value": "60",
         "compare_to_previous": True},
        {"operator": "and", "items": [
            {"metric": "ctr", "window": "last_3_days", "operator": "lt", "value": "0.0105"},
            {"metric": "cpc", "window": "last_3_days", "operator": "gt", "other_metric": "cpa",
             "multiplier": "0.5"}]}]},
     [{"type": "decrease_budget", "percent": "10"}]),
    ({"items": [{"metric": "impressions", "window": "yesterday", "operator": "lt", "value": "1100"}]},
     [{"type": "notify"}]),
]  # fmt: skip


def build() -> list[int]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from adplatform.models import Organization
    from automation.models import AutomationRule
    from campaigns.models import AdAccount, Campaign, Platform

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    platforms = list(Platform.values)
    rules: list[AutomationRule] = []
    for n in range(ORGS):
        org = Organization.objects.create(name=f"Org {n}", slug=f"org-{n}")
        accounts = AdAccount.objects.bulk_create(
            AdAccount(organization=org, platform=platforms[i % len(platforms)],
                      external_id=f"a{i}", name=f"Account {i}")
            for i in range(ACCOUNTS_PER_ORG)
        )  # fmt: skip
        Campaign.objects.bulk_create(
            Campaign(organization=org, ad_account=accounts[i % ACCOUNTS_PER_ORG],
                     external_id=f"c{i}", name=f"Campaign {i}", daily_budget=100)
            for i in range(CAMPAIGNS_PER_ORG)
        )  # fmt: skip
        for r in range(RULES_PER_ORG):
            conditions, actions = RULE_SHAPES[r % len(RULE_SHAPES)]
            rules.append(
                AutomationRule(organization=org, name=f"Rule {r}", conditions=conditions,
                               actions=actions, is_dry_run=True,
                               guardrails={"cooldown_hours": 24, "max_actions_per_run": 50})
            )  # fmt: skip
    AutomationRule.objects.bulk_create(rules)
    line("rules_structure_seconds", time.perf_counter() - started, "s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO campaigns_campaigndailymetric (organization_id, ad_account_id, campaign_id,
                platform, date, impressions, clicks, spend, conversions, conversion_value,
                video_views)
            SELECT c.organization_id, c.ad_account_id, c.id, a.platform, d::date, v.impressions,
                v.impressions / 100 + (c.id %% 7), v.spend, v.conversions, v.conversions * 31.5, 0
            FROM campaigns_campaign c
            JOIN campaigns_adaccount a ON a.id = c.ad_account_id
            CROSS JOIN generate_series(%s::date, %s::date, interval '1 day') d
            CROSS JOIN LATERAL (SELECT
                1000 + (c.id * 7919 + extract(doy FROM d)::int * 104729) %% 4000 AS impressions,
                round(((c.id * 31 + extract(doy FROM d)::int * 17) %% 5000) / 100.0 + 50, 2) AS spend,
                ((c.id * 13 + extract(doy FROM d)::int * 7) %% 4)::numeric AS conversions
            ) v
            """,
            [TODAY - dt.timedelta(days=DAYS - 1), TODAY],
        )
        line("rules_campaign_day_rows", str(cursor.rowcount), "rows")
        cursor.execute("ANALYZE")
    line("rules_metric_load_seconds", time.perf_counter() - started, "s")
    return list(AutomationRule.objects.order_by("pk").values_list("pk", flat=True))


def naive_pass(rule_id: int) -> None:
    """The baseline: the same reads, one aggregate query per campaign in scope."""
    from django.db.models import Sum

    from automation.engine import lookback_start
    from automation.models import AutomationRule
    from automation.selectors import scoped_campaigns
    from automation.services import rule_definition
    from campaigns.models import CampaignDailyMetric

    rule = AutomationRule.objects.select_related("organization").get(pk=rule_id)
    definition = rule_definition(rule)
    start = lookback_start(definition, TODAY)
    for campaign_id in scoped_campaigns(rule.organization, definition.scope).values_list(
        "pk", flat=True
    ):
        list(
            CampaignDailyMetric.objects.filter(campaign_id=campaign_id, date__range=(start, TODAY))
            .values("date")
            .annotate(spend=Sum("spend"), conversions=Sum("conversions"))
        )


def measure(rule_ids: list[int]) -> None:
    from django.db import connection, reset_queries

    from automation.models import RuleExecution
    from automation.services import run_rules

    connection.force_debug_cursor = True
    reset_queries()
    # One full pass, as the periodic task runs it: every rule, organization by organization.
    profiler = cProfile.Profile() if PROFILE else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    run_rules(rule_ids=rule_ids, now=NOW, as_of=TODAY)
    if profiler:
        profiler.disable()
    total = time.perf_counter() - started
    if profiler:
        profiler.dump_stats(PROFILE)
    queries = connection.queries
    heaviest = max(queries, key=lambda q: float(q["time"]))
    reads = [q for q in queries if q["sql"].startswith("SELECT")]
    heaviest_read = max(reads, key=lambda q: float(q["time"]))
    quiet = RuleExecution.objects.filter(targets_matched=0).count()
    line("rules_evaluated", str(len(rule_ids)))
    line("rules_campaigns", str(ORGS * CAMPAIGNS_PER_ORG))
    line("rules_wall_seconds", total, "s")
    line("rules_per_rule_mean_ms", total * 1000 / len(rule_ids), "ms")
    line("rules_queries_total", str(len(queries)))
    line("rules_queries_per_rule", len(queries) / len(rule_ids))
    line("rules_heaviest_query_ms", float(heaviest["time"]) * 1000, "ms")
    line("rules_heaviest_query", heaviest["sql"][:300].replace("\n", " "))
    line("rules_heaviest_read_ms", float(heaviest_read["time"]) * 1000, "ms")
    line("rules_heaviest_read", heaviest_read["sql"][:300].replace("\n", " "))
    line("rules_passes_matching_nothing", str(quiet))
    # Where the time goes: SQL (as the driver waited for it) against Python around it.
    sql = sum(float(q["time"]) for q in queries)
    line("rules_sql_seconds", sql, "s")
    line("rules_python_seconds", total - sql, "s")
    kinds: dict[str, list[float]] = {}
    for q in queries:
        kinds.setdefault(" ".join(q["sql"].split()[:4])[:70], []).append(float(q["time"]))
    for kind, times in sorted(kinds.items(), key=lambda item: -sum(item[1]))[:8]:
        line(f"rules_sql_top[{kind}]", f"{len(times)} x, {sum(times):.3f} s")
    _report(rule_ids, engine_ms=total * 1000 / len(rule_ids))


def _report(rule_ids: list[int], *, engine_ms: float) -> None:
    from django.db.models import Sum

    from automation.models import RuleAction, RuleExecution

    line(
        "rules_targets_matched",
        str(sum(RuleExecution.objects.values_list("targets_matched", flat=True))),
    )
    line("rules_dry_run_actions", str(RuleAction.objects.count()))
    for name, matched in (
        RuleExecution.objects.values_list("rule__name")
        .annotate(m=Sum("targets_matched"))
        .order_by("rule__name")
    ):
        line(f"rules_matched_{name.replace(' ', '_').lower()}", str(matched))
    failed = RuleExecution.objects.exclude(status="succeeded").count()
    line("rules_failed_executions", str(failed))

    sample = rule_ids[:BASELINE_RULES]
    # Against the engine's mean time per rule, including the dry-run actions it records.
    naive: list[float] = []
    for rule_id in sample:
        t0 = time.perf_counter()
        naive_pass(rule_id)
        naive.append(time.perf_counter() - t0)
    naive_ms = statistics.median(naive) * 1000
    line("rules_baseline_per_campaign_reads_median_ms", naive_ms, "ms")
    line("rules_engine_vs_baseline_ratio", engine_ms / naive_ms, "x")


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        line("rules_bench", "skipped (DATABASE_URL is not a PostgreSQL URL)")
        return 0
    # A database of its own next to DATABASE_URL's, named after it, so two people
    # benchmarking on one server do not drop each other's data.
    bench_db = f"{urlsplit(url).path.lstrip('/') or 'adp'}_bench_rules"
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{bench_db}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")
    # The scale is part of the seed's name: a kept tenth is not reused for a full run.
    seed_db = f"{bench_db}_seed_{ORGS}"
    with admin_connection(url) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)")
        seeded = (
            KEEP
            and admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [seed_db]).fetchone()
        )
        if seeded:
            # Loading 1.5 M rows takes minutes; a copy of the loaded database takes seconds.
            admin.execute(f"CREATE DATABASE {bench_db} TEMPLATE {seed_db}")
        else:
            admin.execute(f"CREATE DATABASE {bench_db}")
    try:
        if seeded:
            import django

            django.setup()
            from automation.models import AutomationRule

            line("rules_data", f"reused {seed_db}")
            rule_ids = list(AutomationRule.objects.order_by("pk").values_list("pk", flat=True))
        else:
            rule_ids = build()
            if KEEP:
                from django.db import connections

                connections.close_all()
                for connection in connections.all():
                    if hasattr(connection, "close_pool"):  # the pool keeps sessions open
                        connection.close_pool()
                with admin_connection(url) as admin:
                    # A copy needs the source to itself; our sessions reconnect when needed.
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()",
                        [bench_db],
                    )
                    admin.execute(f"CREATE DATABASE {seed_db} TEMPLATE {bench_db}")
        measure(rule_ids)
    finally:
        from django.db import connections

        connections.close_all()
        with admin_connection(url) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
