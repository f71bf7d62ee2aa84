"""A deterministic, realistic demo account set: structure plus 90 days of daily metrics.

Each campaign has a hidden response curve (conversions grow with spend, with diminishing
returns), weekly seasonality, noise, and a few injected anomalies, so dashboards,
rules and insights have something true to find. The integrations work replaces the
direct writes with a sync from the sandbox platform that uses the same ideas.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from adplatform.models import Organization
from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    BidStrategy,
    Campaign,
    Creative,
    CreativeFormat,
    DeliveryStatus,
    Objective,
    Platform,
)
from campaigns.services import DailyMetricRow, upsert_daily_metrics

# Per-platform flavour: typical CPM and CTR, and whether video views matter.
PLATFORM_PROFILE: dict[str, tuple[float, float, bool]] = {
    Platform.META: (11.0, 0.012, False),
    Platform.INSTAGRAM: (9.5, 0.009, True),
    Platform.GOOGLE: (28.0, 0.045, False),
    Platform.TIKTOK: (7.0, 0.010, True),
    Platform.LINKEDIN: (38.0, 0.006, False),
    Platform.X: (6.5, 0.008, False),
    Platform.SNAPCHAT: (5.0, 0.007, True),
    Platform.PINTEREST: (6.0, 0.011, False),
}
CAMPAIGN_THEMES = [
    ("Prospecting – Broad", Objective.SALES),
    ("Retargeting – Site visitors", Objective.SALES),
    ("Spring Sale", Objective.SALES),
    ("Brand Awareness", Objective.AWARENESS),
    ("Lead Gen – Webinar", Objective.LEADS),
    ("New Collection Launch", Objective.TRAFFIC),
]
HEADLINES = [
    "Save 20% this week only", "Free shipping on every order", "Meet the new collection",
    "Loved by 10,000 customers", "Your next favourite starts here", "Limited stock — shop now",
]  # fmt: skip
WEEKDAY_FACTOR = [1.04, 1.02, 1.0, 0.98, 0.95, 0.88, 0.9]  # Monday first
TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class DemoSummary:
    accounts: int
    campaigns: int
    ads: int
    metric_rows: int


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@transaction.atomic
def build_demo_structure(
    organization: Organization, *, rng: random.Random
) -> list[tuple[Ad, dict[str, float]]]:
    """Create (or refresh) one sandbox account per platform with campaigns, ad groups and ads.

    Returns each ad with its hidden performance parameters.
    """
    ads: list[tuple[Ad, dict[str, float]]] = []
    for platform in Platform:
        cpm, ctr, video = PLATFORM_PROFILE[platform]
        account, _ = AdAccount.objects.update_or_create(
            organization=organization,
            platform=platform,
            external_id=f"sandbox-{platform}-{organization.slug}",
            defaults={
                "name": f"{organization.name} · {platform.label}",
                "currency": organization.currency,
                "time_zone": organization.time_zone,
            },
        )
        for index, (theme, objective) in enumerate(
            rng.sample(CAMPAIGN_THEMES, k=rng.randint(3, 5))
        ):
            budget = rng.choice([50, 75, 100, 150, 200, 300, 500])
            status = DeliveryStatus.PAUSED if rng.random() < 0.15 else DeliveryStatus.ACTIVE
            campaign, _ = Campaign.objects.update_or_create(
                ad_account=account,
                external_id=f"{platform}-c{index + 1}",
                defaults={
                    "organization": organization,
                    "name": f"{platform.label} | {theme}",
                    "objective": objective,
                    "status": status,
                    "daily_budget": Decimal(budget),
                    "bid_strategy": rng.choice(
                        [BidStrategy.LOWEST_COST, BidStrategy.COST_CAP, BidStrategy.TARGET_CPA]
                    ),
                },
            )
            # Hidden truth: diminishing returns conv = scale * spend^shape.
            efficiency = rng.uniform(0.6, 1.6) * (1.4 if "Retargeting" in theme else 1.0)
            for group_index in range(2):
                group, _ = AdGroup.objects.update_or_create(
                    campaign=campaign,
                    external_id=f"{campaign.external_id}-g{group_index + 1}",
                    defaults={
                        "organization": organization,
                        "name": ["Lookalike 1%", "Interests – Broad", "Age 25-44", "Retarget 30d"][
                            (index + group_index) % 4
                        ],
                        "status": DeliveryStatus.ACTIVE,
                        "targeting": {
                            "age_min": rng.choice([18, 25]),
                            "age_max": rng.choice([44, 54, 65]),
                            "countries": rng.sample(["US", "GB", "DE", "FR", "CA", "AU"], k=2),
                        },
                    },
                )
                for ad_index in range(rng.randint(2, 3)):
                    external = f"{group.external_id}-a{ad_index + 1}"
                    creative, _ = Creative.objects.update_or_create(
                        ad_account=account,
                        external_id=f"cr-{external}",
                        defaults={
                            "organization": organization,
                            "name": f"Creative {ad_index + 1}",
                            "headline": rng.choice(HEADLINES),
                            "body": "Discover products people love, delivered fast.",
                            "call_to_action": rng.choice(["SHOP_NOW", "LEARN_MORE", "SIGN_UP"]),
                            "format": CreativeFormat.VIDEO if video else CreativeFormat.IMAGE,
                        },
                    )
                    ad, _ = Ad.objects.update_or_create(
                        ad_group=group,
                        external_id=external,
                        defaults={
                            "organization": organization,
                            "campaign": campaign,
                            "creative": creative,
                            "name": f"{group.name} – Ad {ad_index + 1}",
                            "status": DeliveryStatus.ACTIVE,
                        },
                    )
                    ads.append(
                        (
                            ad,
                            {
                                "cpm": cpm * rng.uniform(0.8, 1.25),
                                "ctr": ctr * rng.uniform(0.7, 1.4),
                                "efficiency": efficiency * rng.uniform(0.8, 1.2),
                                "share": rng.uniform(0.2, 0.6),
                                "aov": rng.uniform(35, 140),
                                "fatigue": rng.uniform(0.0, 0.006),
                                "video": 1.0 if video else 0.0,
                                "active": 0.0 if status == DeliveryStatus.PAUSED else 1.0,
                                "budget": float(budget),
                            },
                        )
                    )
    return ads


def generate_daily_rows(
    ads: list[tuple[Ad, dict[str, float]]], *, end: dt.date, days: int, rng: random.Random
) -> Iterator[DailyMetricRow]:
    """Daily rows per ad: spend follows budget, weekday and noise; results follow the curve."""
    anomaly_days = {
        (ad.pk, end - dt.timedelta(days=rng.randint(1, days - 1)))
        for ad, _ in rng.sample(ads, k=max(1, len(ads) // 12))
    }
    for ad, p in ads:
        for offset in range(days):
            day = end - dt.timedelta(days=days - 1 - offset)
            # Paused campaigns stopped spending a fortnight ago.
            if p["active"] == 0.0 and offset > days - 14:
                continue
            seasonal = WEEKDAY_FACTOR[day.weekday()]
            spend = p["budget"] * p["share"] * seasonal * rng.lognormvariate(0, 0.12)
            if (ad.pk, day) in anomaly_days:
                spend *= rng.choice([2.6, 0.25])
            impressions = int(spend / p["cpm"] * 1000)
            fatigue = math.exp(-p["fatigue"] * offset)
            clicks = int(impressions * p["ctr"] * fatigue * rng.lognormvariate(0, 0.1))
            expected_conv = p["efficiency"] * 0.9 * spend**0.72 / 10 * fatigue * seasonal
            conversions = max(
                0, round(rng.gauss(expected_conv, math.sqrt(max(expected_conv, 0.1))))
            )
            conversions = min(conversions, clicks)
            revenue = sum(rng.gauss(p["aov"], p["aov"] * 0.2) for _ in range(conversions))
            yield DailyMetricRow(
                organization_id=ad.organization_id,
                ad_account_id=ad.campaign.ad_account_id,
                campaign_id=ad.campaign_id,
                ad_group_id=ad.ad_group_id,
                ad_id=ad.pk,
                date=day,
                impressions=impressions,
                clicks=clicks,
                spend=_money(spend),
                conversions=Decimal(conversions),
                conversion_value=_money(max(revenue, 0.0)),
                video_views=int(impressions * 0.3) if p["video"] else 0,
            )


def seed_demo_organization(
    organization: Organization, *, seed: int, days: int = 90, end: dt.date
) -> DemoSummary:
    rng = random.Random(seed)
    ads = build_demo_structure(organization, rng=rng)
    written = upsert_daily_metrics(generate_daily_rows(ads, end=end, days=days, rng=rng))
    return DemoSummary(
        accounts=AdAccount.objects.filter(organization=organization).count(),
        campaigns=Campaign.objects.filter(organization=organization).count(),
        ads=len(ads),
        metric_rows=written,
    )
