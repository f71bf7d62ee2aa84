"""Snapchat wire JSON -> our records.

Levels: campaign -> campaign, ad squad -> ad group, ad -> ad (with its creative). Money is
micros (`daily_budget_micro`, `lifetime_spend_cap_micro`, `bid_micro`, stats `spend`).
Snap statuses are only ACTIVE and PAUSED; a campaign whose end time has passed is
reported as archived (it cannot deliver again without being edited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from integrations.providers.toolkit import micros_to_decimal, to_decimal, to_int
from integrations.records import (
    MetricLevel,
    RemoteAccount,
    RemoteAd,
    RemoteAdGroup,
    RemoteCampaign,
    RemoteCreative,
    RemoteDailyMetric,
)
from integrations.vocabulary import DeliveryStatus, Objective

STATUS_TO_SNAP: dict[str, str] = {
    DeliveryStatus.ACTIVE: "ACTIVE",
    DeliveryStatus.PAUSED: "PAUSED",
}
OBJECTIVE: dict[str, str] = {
    # objective_v2_type
    "AWARENESS_AND_ENGAGEMENT": Objective.AWARENESS,
    "TRAFFIC": Objective.TRAFFIC,
    "LEADS": Objective.LEADS,
    "APP_PROMOTION": Objective.APP_PROMOTION,
    "SALES": Objective.SALES,
    # the older `objective`
    "BRAND_AWARENESS": Objective.AWARENESS,
    "ENGAGEMENT": Objective.ENGAGEMENT,
    "VIDEO_VIEW": Objective.VIDEO_VIEWS,
    "LEAD_GENERATION": Objective.LEADS,
    "APP_INSTALL": Objective.APP_PROMOTION,
    "APP_CONVERSION": Objective.APP_PROMOTION,
    "WEB_CONVERSION": Objective.SALES,
    "CATALOG_SALES": Objective.SALES,
    "WEB_VIEW": Objective.TRAFFIC,
}
OBJECTIVE_TO_SNAP: dict[str, str] = {
    Objective.AWARENESS: "AWARENESS_AND_ENGAGEMENT",
    Objective.ENGAGEMENT: "AWARENESS_AND_ENGAGEMENT",
    Objective.VIDEO_VIEWS: "AWARENESS_AND_ENGAGEMENT",
    Objective.TRAFFIC: "TRAFFIC",
    Objective.LEADS: "LEADS",
    Objective.APP_PROMOTION: "APP_PROMOTION",
    Objective.SALES: "SALES",
}
CREATIVE_FORMAT = {
    "SNAP_AD": "story",
    "WEB_VIEW": "story",
    "APP_INSTALL": "story",
    "COLLECTION": "collection",
    "COMPOSITE": "carousel",
    "PREVIEW": "image",
}
STATS_FIELDS = (
    "impressions,swipes,spend,video_views,conversion_purchases,conversion_purchases_value"
)


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def status(raw: dict[str, Any], *, now: dt.datetime) -> str:
    end = parse_time(raw.get("end_time"))
    if end is not None and end <= now:
        return DeliveryStatus.ARCHIVED
    return DeliveryStatus.ACTIVE if raw.get("status") == "ACTIVE" else DeliveryStatus.PAUSED


def account(raw: dict[str, Any]) -> RemoteAccount:
    state = str(raw.get("status") or "ACTIVE").upper()
    return RemoteAccount(
        external_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        currency=str(raw.get("currency") or ""),
        time_zone=str(raw.get("timezone") or "UTC"),
        status={"ACTIVE": "active", "PENDING": "pending"}.get(state, "disabled"),
        raw=raw,
    )


def campaign(raw: dict[str, Any], account_id: str, *, now: dt.datetime) -> RemoteCampaign:
    objective = (raw.get("objective_v2_properties") or {}).get("objective_v2_type") or raw.get(
        "objective"
    )
    start, end = parse_time(raw.get("start_time")), parse_time(raw.get("end_time"))
    return RemoteCampaign(
        external_id=str(raw["id"]),
        account_external_id=account_id,
        name=str(raw.get("name") or ""),
        status=status(raw, now=now),
        objective=OBJECTIVE.get(str(objective or ""), Objective.OTHER),
        daily_budget=micros_to_decimal(raw.get("daily_budget_micro")),
        lifetime_budget=micros_to_decimal(raw.get("lifetime_spend_cap_micro")),
        start_date=start.date() if start else None,
        end_date=end.date() if end else None,
        raw=raw,
    )


# Ages an ad squad's demographics may span (Snap's top bracket is "50+").
SNAP_MIN_AGE = 18
SNAP_MAX_AGE = 50


def ad_group(raw: dict[str, Any], *, now: dt.datetime) -> RemoteAdGroup:
    return RemoteAdGroup(
        external_id=str(raw["id"]),
        campaign_external_id=str(raw.get("campaign_id") or ""),
        name=str(raw.get("name") or ""),
        status=status(raw, now=now),
        daily_budget=micros_to_decimal(raw.get("daily_budget_micro")),
        bid_amount=micros_to_decimal(raw.get("bid_micro")),
        targeting=dict(raw.get("targeting") or {}),
        raw=raw,
    )


def creative(raw: dict[str, Any]) -> RemoteCreative:
    web = raw.get("web_view_properties") or {}
    return RemoteCreative(
        external_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        headline=str(raw.get("headline") or ""),
        body=str(raw.get("brand_name") or ""),
        call_to_action=str(raw.get("call_to_action") or ""),
        image_url=str(web.get("url") or ""),
        format=CREATIVE_FORMAT.get(str(raw.get("type") or ""), "story"),
    )


def ad(
    raw: dict[str, Any],
    campaign_of_squad: dict[str, str],
    creatives: dict[str, dict[str, Any]],
    *,
    now: dt.datetime,
) -> RemoteAd:
    squad = str(raw.get("ad_squad_id") or "")
    creative_raw = creatives.get(str(raw.get("creative_id") or ""))
    return RemoteAd(
        external_id=str(raw["id"]),
        ad_group_external_id=squad,
        campaign_external_id=campaign_of_squad.get(squad, ""),
        name=str(raw.get("name") or ""),
        status=status(raw, now=now),
        creative=creative(creative_raw) if creative_raw else None,
        raw=raw,
    )


def daily_metrics(
    timeseries: list[dict[str, Any]],
    *,
    level: MetricLevel,
    campaign_id: str,
    ad_group_id: str | None = None,
    ad_id: str | None = None,
) -> list[RemoteDailyMetric]:
    rows = []
    for bucket in timeseries:
        start = parse_time(bucket.get("start_time"))
        if start is None:
            continue
        stats = bucket.get("stats") or {}
        rows.append(
            RemoteDailyMetric(
                level=level,
                campaign_external_id=campaign_id,
                ad_group_external_id=ad_group_id,
                ad_external_id=ad_id,
                # Buckets start at the account's local midnight, offset included.
                date=start.date(),
                impressions=to_int(stats.get("impressions")),
                clicks=to_int(stats.get("swipes")),
                spend=micros_to_decimal(stats.get("spend")) or to_decimal(0),
                conversions=to_decimal(stats.get("conversion_purchases")),
                conversion_value=micros_to_decimal(stats.get("conversion_purchases_value"))
                or to_decimal(0),
                video_views=to_int(stats.get("video_views")),
            )
        )
    return rows
