"""The agents' account review at agency scale, offline and through a slow model.

Builds a private SQLite database (a temporary file: review branches run in threads, each
with its own connection) holding one organization with 500 campaigns on 8 platforms (2 ads
each, 90 days of ad-day metrics with diminishing returns, 56 days of age/gender/device
segments). Then:

  a) the offline review (no provider): loading the account snapshot, running the LangGraph
     review on it, and both together; median of several runs. Goal: under 1 s.
  b) the same review (and that of a 16-campaign account, where computing is negligible)
     with an OpenAI-compatible provider (agents.testing's local stub, which
     answers every Chat Completions request after 300 ms): wall time, the calls made, and
     the longest chain of sequential calls × 300 ms. Close to that floor means the
     specialists' calls overlap (run in parallel); the sum of all calls × 300 ms is what a
     sequential review would take.

Prints one figure per line.

    .venv/bin/python bench/bench_agents.py
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")
_tmp = tempfile.TemporaryDirectory(prefix="bench-agents-")
# BENCH_AGENTS_DB=<file> keeps the database between runs (for profiling); built if missing.
_db = os.environ.get("BENCH_AGENTS_DB") or f"{_tmp.name}/bench.sqlite3"
_reuse = Path(_db).exists()
os.environ["DATABASE_URL"] = f"sqlite:///{_db}"
os.environ.pop("REDIS_URL", None)
os.environ["ADPLATFORM_LLM_PROVIDER"] = "offline"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Count  # noqa: E402

CAMPAIGNS, ADS_PER_CAMPAIGN, DAYS, SEGMENT_DAYS = 500, 2, 90, 56
PLATFORMS = ("meta", "instagram", "google", "tiktok", "linkedin", "x", "snapchat", "pinterest")
AS_OF = dt.date(2026, 3, 31)
OFFLINE_RUNS = 7
STUB_DELAY = 0.3
STUB_RUNS = 3
SMALL_CAMPAIGNS = 16


def line(name: str, value: float | int | str, unit: str = "") -> None:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{name} {text} {unit}".rstrip(), flush=True)


def build_dataset(*, slug: str = "agency", campaigns_count: int = CAMPAIGNS) -> int:
    from adplatform.models import Organization
    from campaigns.models import (
        Ad,
        AdAccount,
        AdGroup,
        Campaign,
        Creative,
        DailyMetric,
        SegmentDailyMetric,
    )
    from campaigns.services import refresh_campaign_rollups

    rng = random.Random(7)
    org = Organization.objects.create(name=slug.title(), slug=slug)
    accounts = AdAccount.objects.bulk_create(
        AdAccount(organization=org, platform=p, external_id=f"acc-{p}", name=f"{p} account")
        for p in PLATFORMS
    )
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            organization=org, ad_account=accounts[i % len(accounts)], external_id=f"c{i}",
            name=f"Campaign {i}", status="active",
            daily_budget=Decimal(rng.choice((50, 80, 120, 200, 300))),
        )
        for i in range(campaigns_count)
    )  # fmt: skip
    groups = AdGroup.objects.bulk_create(
        AdGroup(organization=org, campaign=c, external_id=f"g{c.pk}", name=f"Group {c.pk}")
        for c in campaigns
    )
    creatives = Creative.objects.bulk_create(
        Creative(organization=org, ad_account=g.campaign.ad_account, external_id=f"cr{g.pk}-{a}",
                 headline=f"Spring offer {g.pk % 37}: save on item {a}")
        for g in groups for a in range(ADS_PER_CAMPAIGN)
    )  # fmt: skip
    ads = Ad.objects.bulk_create(
        Ad(organization=org, ad_group=groups[i // ADS_PER_CAMPAIGN],
           campaign=groups[i // ADS_PER_CAMPAIGN].campaign, creative=creative,
           external_id=f"ad{i}", name=f"Ad {i}")
        for i, creative in enumerate(creatives)
    )  # fmt: skip
    start = AS_OF - dt.timedelta(days=DAYS - 1)
    facts = []
    for ad in ads:
        budget = float(ad.campaign.daily_budget or 0) / ADS_PER_CAMPAIGN
        scale = rng.uniform(0.15, 0.6)
        for d in range(DAYS):
            spend = budget * rng.uniform(0.6, 1.05)
            conversions = scale * spend**0.7 * rng.uniform(0.7, 1.3)
            impressions = int(spend * rng.uniform(80, 120))
            facts.append(
                DailyMetric(
                    organization=org, ad_account_id=ad.campaign.ad_account_id,
                    campaign_id=ad.campaign_id, ad_group_id=ad.ad_group_id, ad=ad,
                    date=start + dt.timedelta(days=d), impressions=impressions,
                    clicks=int(impressions * rng.uniform(0.01, 0.03)),
                    spend=Decimal(f"{spend:.2f}"), conversions=Decimal(f"{conversions:.2f}"),
                    conversion_value=Decimal(f"{conversions * 40:.2f}"),
                )
            )  # fmt: skip
    DailyMetric.objects.bulk_create(facts, batch_size=5000)
    refresh_campaign_rollups({c.pk: (start, AS_OF) for c in campaigns})
    segments = []
    values = {"age": ("18-24", "25-34", "35-44"), "gender": ("female", "male"),
              "device": ("mobile", "desktop")}  # fmt: skip
    seg_start = AS_OF - dt.timedelta(days=SEGMENT_DAYS - 1)
    for c in campaigns:
        for dimension, choices in values.items():
            for v in choices:
                for d in range(SEGMENT_DAYS):
                    clicks = rng.randint(20, 60)
                    segments.append(
                        SegmentDailyMetric(
                            organization=org, ad_account_id=c.ad_account_id, campaign=c,
                            platform=PLATFORMS[(c.pk - campaigns[0].pk) % len(PLATFORMS)],
                            date=seg_start + dt.timedelta(days=d), dimension=dimension,
                            value=v, impressions=clicks * 50, clicks=clicks,
                            spend=Decimal(clicks), conversions=Decimal(rng.randint(0, 3)),
                        )
                    )  # fmt: skip
    SegmentDailyMetric.objects.bulk_create(segments, batch_size=5000)
    line(f"agents_bench_{slug}_ad_day_rows", len(facts), "rows")
    line(f"agents_bench_{slug}_segment_day_rows", len(segments), "rows")
    return org.pk


def offline(org_id: int) -> None:
    from adplatform.models import Organization
    from agents.tools.data import load_snapshot
    from agents.workflow import run_review

    organization = Organization.objects.get(pk=org_id)
    loads, reviews, totals = [], [], []
    recommendations = 0
    for run in range(OFFLINE_RUNS + 1):
        started = time.perf_counter()
        snapshot = load_snapshot(organization, as_of=AS_OF)
        loaded = time.perf_counter()
        final = {}
        for _node, update in run_review(organization, snapshot):
            final = update.get("final", final)
        done = time.perf_counter()
        if run == 0:
            continue  # warm-up: imports, first queries, scipy
        loads.append(loaded - started)
        reviews.append(done - loaded)
        totals.append(done - started)
        recommendations = len(final.get("recommendations", []))
    line("agents_offline_snapshot_seconds", statistics.median(loads), "s")
    line("agents_offline_graph_seconds", statistics.median(reviews), "s")
    line("agents_offline_review_seconds", statistics.median(totals), "s")
    line("agents_offline_campaigns_in_snapshot", len(snapshot.campaigns), "campaigns")
    line("agents_offline_recommendations", recommendations, "recommendations")


def with_stub_provider(org_id: int, label: str = "stub") -> None:
    from adplatform.models import Organization
    from agents.models import LLMCall
    from agents.testing import openai_compatible_stub
    from agents.tools.data import load_snapshot
    from agents.workflow import SPECIALISTS, run_review

    organization = Organization.objects.get(pk=org_id)
    snapshot = load_snapshot(organization, as_of=AS_OF)
    review = {"summary": "Reviewed.", "confidence": 0.8, "drop": []}
    with openai_compatible_stub(delay=STUB_DELAY, tool_arguments=review) as server:
        settings.ADPLATFORM_LLM_PROVIDER = "openai_compatible"
        settings.ADPLATFORM_LLM_MODEL = "bench-model"
        settings.ADPLATFORM_LLM_API_KEY = "bench-key"
        settings.ADPLATFORM_LLM_BASE_URL = server.url + "/v1"
        settings.ADPLATFORM_LLM_MAX_RETRIES = 0
        walls = []
        for _ in range(STUB_RUNS):
            cache.clear()
            LLMCall.objects.all().delete()
            before = len(server.requests)
            started = time.perf_counter()
            for _node, _update in run_review(organization, snapshot):
                pass
            walls.append(time.perf_counter() - started)
            requests = len(server.requests) - before
        per_agent = dict(
            LLMCall.objects.filter(status="ok").values_list("agent").annotate(n=Count("id"))
        )
    # The graph: frame → the specialists side by side → budget manager → synthesis.
    chain = (
        per_agent.get("campaign_analyst", 0)
        + max(per_agent.get(name, 0) for name in SPECIALISTS)
        + per_agent.get("budget_manager", 0)
    )
    wall = statistics.median(walls)
    floor = chain * STUB_DELAY
    line(f"agents_{label}_delay_seconds", STUB_DELAY, "s")
    line(f"agents_{label}_calls_per_review", requests, "calls")
    line(f"agents_{label}_longest_chain_calls", chain, "calls")
    line(f"agents_{label}_chain_floor_seconds", floor, "s")
    line(f"agents_{label}_sequential_seconds", requests * STUB_DELAY, "s")
    line(f"agents_{label}_review_seconds", wall, "s")
    line(f"agents_{label}_review_over_floor", wall / floor if floor else float("nan"), "x")
    # No "model wait" figure: the branches compute while others wait on the model, so wall
    # time minus the offline graph's time is not the waiting (it can even be negative).


def main() -> int:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if _reuse:
        from adplatform.models import Organization

        org_id = Organization.objects.get(slug="agency").pk
        small_id = Organization.objects.get(slug="small").pk
    else:
        org_id = build_dataset()
        # A small account too: there the review barely computes, so its wall time with the
        # stub is almost all model latency and shows the overlap cleanly.
        small_id = build_dataset(slug="small", campaigns_count=SMALL_CAMPAIGNS)
    line("agents_bench_setup_seconds", time.perf_counter() - started, "s")
    offline(org_id)
    with_stub_provider(org_id)
    with_stub_provider(small_id, label="stub_small")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        _tmp.cleanup()
