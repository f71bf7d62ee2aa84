"""TikTok Marketing API JSON -> unified records.

Budgets and bids are decimal numbers in the advertiser's currency; report metrics are
strings ("12.34"); report days are the advertiser's time zone ("2026-03-01 00:00:00").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from integrations.clients.errors import InvalidRequest
from integrations.records import (
    MetricLevel,
    RemoteAccount,
    RemoteAd,
    RemoteAdGroup,
    RemoteCampaign,
    RemoteCreative,
    RemoteDailyMetric,
    RemoteSegmentMetric,
    SegmentDimension,
    widen_age_range,
)
from integrations.vocabulary import BidStrategy, DeliveryStatus, Objective

OPERATION_STATUS = {
    "ENABLE": DeliveryStatus.ACTIVE,
    "DISABLE": DeliveryStatus.PAUSED,
    "DELETE": DeliveryStatus.DELETED,
    "FROZEN": DeliveryStatus.PAUSED,
}
STATUS_TO_TIKTOK = {DeliveryStatus.ACTIVE: "ENABLE", DeliveryStatus.PAUSED: "DISABLE"}

OBJECTIVE = {
    "REACH": Objective.AWARENESS,
    "RF_REACH": Objective.AWARENESS,
    "TRAFFIC": Objective.TRAFFIC,
    "VIDEO_VIEWS": Objective.VIDEO_VIEWS,
    "ENGAGEMENT": Objective.ENGAGEMENT,
    "COMMUNITY_INTERACTION": Objective.ENGAGEMENT,
    "LEAD_GENERATION": Objective.LEADS,
    "APP_PROMOTION": Objective.APP_PROMOTION,
    "APP_INSTALL": Objective.APP_PROMOTION,
    "WEB_CONVERSIONS": Objective.SALES,
    "CONVERSIONS": Objective.SALES,
    "PRODUCT_SALES": Objective.SALES,
    "CATALOG_SALES": Objective.SALES,
    "SHOP_PURCHASES": Objective.SALES,
}
OBJECTIVE_TO_TIKTOK = {
    Objective.AWARENESS: "REACH",
    Objective.TRAFFIC: "TRAFFIC",
    Objective.VIDEO_VIEWS: "VIDEO_VIEWS",
    Objective.ENGAGEMENT: "ENGAGEMENT",
    Objective.LEADS: "LEAD_GENERATION",
    Objective.APP_PROMOTION: "APP_PROMOTION",
    Objective.SALES: "WEB_CONVERSIONS",
}

ADVERTISER_STATUS = {
    "STATUS_ENABLE": "active",
    "STATUS_DISABLE": "disabled",
    "STATUS_LIMIT": "disabled",
    "STATUS_CONFIRM_FAIL": "disabled",
    "STATUS_CONFIRM_FAIL_END": "closed",
}

DAILY_BUDGET_MODES = frozenset({"BUDGET_MODE_DAY", "BUDGET_MODE_DYNAMIC_DAILY_BUDGET"})
LIFETIME_BUDGET_MODE = "BUDGET_MODE_TOTAL"

# AUDIENCE report dimension per segment; placement is not an audience dimension.
SEGMENT_DIMENSIONS = {
    SegmentDimension.AGE: "age",
    SegmentDimension.GENDER: "gender",
    SegmentDimension.COUNTRY: "country_code",
    SegmentDimension.DEVICE: "platform",
}


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "", "-") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def optional_decimal(value: Any) -> Decimal | None:
    amount = decimal(value)
    return amount if amount > 0 else None


def integer(value: Any) -> int:
    return int(decimal(value))


def money(amount: Decimal) -> float:
    """Decimal -> the JSON number TikTok expects, rounded to cents."""
    if amount < 0:
        raise InvalidRequest("amounts cannot be negative", platform="tiktok")
    return float(amount.quantize(Decimal("0.01"), ROUND_HALF_UP))


def stat_day(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def account(raw: Mapping[str, Any]) -> RemoteAccount:
    status = str(raw.get("status", ""))
    return RemoteAccount(
        external_id=str(raw.get("advertiser_id", "")),
        name=str(raw.get("name") or raw.get("advertiser_name") or raw.get("advertiser_id", "")),
        currency=str(raw.get("currency", "")),
        time_zone=str(raw.get("timezone") or raw.get("display_timezone") or "UTC"),
        status=ADVERTISER_STATUS.get(
            status, "pending" if "PENDING" in status or "WAIT" in status else "disabled"
        ),
        raw=dict(raw),
    )


def status(raw: Mapping[str, Any]) -> str:
    if str(raw.get("secondary_status", "")).endswith("_DELETE"):
        return DeliveryStatus.DELETED
    return str(OPERATION_STATUS.get(str(raw.get("operation_status", "")), DeliveryStatus.PAUSED))


def budgets(raw: Mapping[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    """(daily, lifetime) from `budget` read through `budget_mode`."""
    mode = str(raw.get("budget_mode", ""))
    amount = optional_decimal(raw.get("budget"))
    if mode in DAILY_BUDGET_MODES:
        return amount, None
    if mode == LIFETIME_BUDGET_MODE:
        return None, amount
    return None, None  # BUDGET_MODE_INFINITE: the ad groups carry the budgets


def ad_group_bid(raw: Mapping[str, Any]) -> Decimal | None:
    return optional_decimal(raw.get("conversion_bid_price")) or optional_decimal(
        raw.get("bid_price")
    )


def uniform_bid(ad_groups: Iterable[Mapping[str, Any]]) -> Decimal | None:
    bids = {ad_group_bid(group) for group in ad_groups}
    bids.discard(None)
    return bids.pop() if len(bids) == 1 else None


def campaign(
    raw: Mapping[str, Any], *, account_id: str, bid_amount: Decimal | None = None
) -> RemoteCampaign:
    daily, lifetime = budgets(raw)
    return RemoteCampaign(
        external_id=str(raw.get("campaign_id", "")),
        account_external_id=account_id,
        name=str(raw.get("campaign_name", "")),
        status=status(raw),
        objective=str(OBJECTIVE.get(str(raw.get("objective_type", "")), Objective.OTHER)),
        daily_budget=daily,
        lifetime_budget=lifetime,
        bid_strategy=BidStrategy.BID_CAP if bid_amount is not None else BidStrategy.LOWEST_COST,
        bid_amount=bid_amount,
        raw=dict(raw),
    )


def ad_group(raw: Mapping[str, Any]) -> RemoteAdGroup:
    daily, _ = budgets(raw)
    targeting = {
        name: raw[name]
        for name in (
            "placements",
            "location_ids",
            "age_groups",
            "gender",
            "operating_systems",
            "smart_interest_behavior_enabled",
        )
        if name in raw
    }
    return RemoteAdGroup(
        external_id=str(raw.get("adgroup_id", "")),
        campaign_external_id=str(raw.get("campaign_id", "")),
        name=str(raw.get("adgroup_name", "")),
        status=status(raw),
        daily_budget=daily,
        bid_amount=ad_group_bid(raw),
        targeting=targeting,
        raw=dict(raw),
    )


def ad(raw: Mapping[str, Any]) -> RemoteAd:
    video_id = raw.get("video_id")
    image_ids = raw.get("image_ids") or []
    fmt = "video" if video_id else ("carousel" if len(image_ids) > 1 else "image")
    return RemoteAd(
        external_id=str(raw.get("ad_id", "")),
        ad_group_external_id=str(raw.get("adgroup_id", "")),
        campaign_external_id=str(raw.get("campaign_id", "")),
        name=str(raw.get("ad_name", "")),
        status=status(raw),
        creative=RemoteCreative(
            external_id=str(raw.get("ad_id", "")),
            name=str(raw.get("ad_name", "")),
            headline=str(raw.get("display_name", "")),
            body=str(raw.get("ad_text", "")),
            call_to_action=str(raw.get("call_to_action", "")),
            format=fmt,
        ),
        raw=dict(raw),
    )


def daily_metric(
    row: Mapping[str, Any], *, level: MetricLevel, conversion_metric: str, value_metric: str
) -> RemoteDailyMetric:
    dimensions = row.get("dimensions") or {}
    metrics = row.get("metrics") or {}
    is_ad = level == MetricLevel.AD
    campaign_id = metrics.get("campaign_id") if is_ad else dimensions.get("campaign_id")
    reach = metrics.get("reach")
    frequency = metrics.get("frequency")
    return RemoteDailyMetric(
        level=level,
        campaign_external_id=str(campaign_id or ""),
        date=stat_day(dimensions["stat_time_day"]),
        ad_group_external_id=str(metrics.get("adgroup_id", "")) if is_ad else None,
        ad_external_id=str(dimensions.get("ad_id", "")) if is_ad else None,
        impressions=integer(metrics.get("impressions")),
        clicks=integer(metrics.get("clicks")),
        spend=decimal(metrics.get("spend")),
        conversions=decimal(metrics.get(conversion_metric)),
        conversion_value=decimal(metrics.get(value_metric)),
        video_views=integer(metrics.get("video_play_actions")),
        reach=integer(reach) if reach not in (None, "", "-") else None,
        frequency=decimal(frequency) if frequency not in (None, "", "-") else None,
    )


def segment_value(dimension: SegmentDimension, code: Any) -> str:
    """AGE_25_34 -> '25-34', MALE -> 'male', US -> 'US', ANDROID -> 'android'."""
    text = str(code or "")
    if text in {"", "NONE", "UNKNOWN", "-"}:
        return "unknown"
    if dimension == SegmentDimension.AGE:
        rest = text.removeprefix("AGE_")
        if rest.endswith("_MORE") or rest.endswith("_PLUS"):
            return f"{rest.split('_', 1)[0]}+"
        return rest.replace("_", "-")
    if dimension == SegmentDimension.COUNTRY:
        return text.upper()
    return text.lower()


def segment_metric(
    row: Mapping[str, Any],
    *,
    dimension: SegmentDimension,
    conversion_metric: str,
    value_metric: str,
) -> RemoteSegmentMetric:
    dimensions = row.get("dimensions") or {}
    metrics = row.get("metrics") or {}
    return RemoteSegmentMetric(
        campaign_external_id=str(dimensions.get("campaign_id", "")),
        date=stat_day(dimensions["stat_time_day"]),
        dimension=dimension,
        value=segment_value(dimension, dimensions.get(SEGMENT_DIMENSIONS[dimension])),
        impressions=integer(metrics.get("impressions")),
        clicks=integer(metrics.get("clicks")),
        spend=decimal(metrics.get("spend")),
        conversions=decimal(metrics.get(conversion_metric)),
        conversion_value=decimal(metrics.get(value_metric)),
    )


# TikTok's age buckets, youngest first; AGE_55_100 is "55 and over".
AGE_GROUPS: list[tuple[str, int, int]] = [
    ("AGE_13_17", 13, 17), ("AGE_18_24", 18, 24), ("AGE_25_34", 25, 34),
    ("AGE_35_44", 35, 44), ("AGE_45_54", 45, 54), ("AGE_55_100", 55, 100),
]  # fmt: skip


def widened_age_groups(current: list[str], step: int) -> list[str]:
    """The buckets overlapping the current range widened by `step` years on each side (never
    down into 13-17: minors are only targeted where an advertiser chose them)."""
    bounds = {name: (low, high) for name, low, high in AGE_GROUPS}
    known = [bounds[name] for name in current if name in bounds]
    if not known:
        return current
    low, high = widen_age_range(
        min(b[0] for b in known), max(b[1] for b in known), step, floor=18, ceiling=100
    )
    wanted = {name for name, b_low, b_high in AGE_GROUPS if b_low <= high and b_high >= low}
    wanted |= {"AGE_13_17"} & set(current)
    return [name for name, _, _ in AGE_GROUPS if name in wanted]
