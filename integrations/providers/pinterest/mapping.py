"""Pinterest wire JSON -> our records.

Levels: campaign -> campaign, ad group -> ad group, ad (a promoted pin) -> ad. Money is
micro-currency (`daily_spend_cap`, `bid_in_micro_currency`, `SPEND_IN_MICRO_DOLLAR`,
which despite its name is in the account's currency). Report columns are UPPER_CASE.
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
    RemoteSegmentMetric,
    SegmentDimension,
    widen_age_range,
)
from integrations.vocabulary import DeliveryStatus, Objective

STATUS: dict[str, str] = {
    "ACTIVE": DeliveryStatus.ACTIVE,
    "PAUSED": DeliveryStatus.PAUSED,
    "ARCHIVED": DeliveryStatus.ARCHIVED,
    "DRAFT": DeliveryStatus.DRAFT,
    "DELETED_DRAFT": DeliveryStatus.DELETED,
}
STATUS_TO_PINTEREST: dict[str, str] = {
    DeliveryStatus.ACTIVE: "ACTIVE",
    DeliveryStatus.PAUSED: "PAUSED",
    DeliveryStatus.ARCHIVED: "ARCHIVED",
    DeliveryStatus.DRAFT: "DRAFT",
}
OBJECTIVE: dict[str, str] = {
    "AWARENESS": Objective.AWARENESS,
    "CONSIDERATION": Objective.TRAFFIC,
    "WEB_SESSIONS": Objective.TRAFFIC,
    "VIDEO_VIEW": Objective.VIDEO_VIEWS,
    "VIDEO_COMPLETION": Objective.VIDEO_VIEWS,
    "WEB_CONVERSION": Objective.SALES,
    "CATALOG_SALES": Objective.SALES,
    "APP_INSTALL": Objective.APP_PROMOTION,
}
OBJECTIVE_TO_PINTEREST: dict[str, str] = {
    Objective.AWARENESS: "AWARENESS",
    Objective.TRAFFIC: "CONSIDERATION",
    Objective.ENGAGEMENT: "CONSIDERATION",
    Objective.VIDEO_VIEWS: "VIDEO_COMPLETION",
    Objective.SALES: "WEB_CONVERSION",
    Objective.LEADS: "WEB_CONVERSION",
}
CREATIVE_FORMAT = {
    "REGULAR": "image",
    "VIDEO": "video",
    "MAX_VIDEO": "video",
    "CAROUSEL": "carousel",
    "COLLECTION": "collection",
    "SHOPPING": "image",
    "IDEA": "story",
}
# Targeting breakdowns (campaigns/targeting_analytics `targeting_types`).
SEGMENT_TYPES = {
    SegmentDimension.AGE: "AGE_BUCKET",
    SegmentDimension.GENDER: "GENDER",
    SegmentDimension.DEVICE: "APPTYPE",
    SegmentDimension.COUNTRY: "COUNTRY",
}
METRIC_COLUMNS = (
    "SPEND_IN_MICRO_DOLLAR",
    "PAID_IMPRESSION",
    "CLICKTHROUGH_1",
    "TOTAL_CONVERSIONS",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
)


def status(value: Any) -> str:
    return STATUS.get(str(value or "").upper(), DeliveryStatus.PAUSED)


def unix_date(value: Any) -> dt.date | None:
    if not isinstance(value, int | float) or not value:
        return None
    return dt.datetime.fromtimestamp(value, tz=dt.UTC).date()


def account(raw: dict[str, Any]) -> RemoteAccount:
    return RemoteAccount(
        external_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        currency=str(raw.get("currency") or ""),
        # Pinterest reports days in UTC unless told otherwise.
        time_zone=str(raw.get("time_zone") or "UTC"),
        raw=raw,
    )


def campaign(raw: dict[str, Any], account_id: str) -> RemoteCampaign:
    return RemoteCampaign(
        external_id=str(raw["id"]),
        account_external_id=account_id,
        name=str(raw.get("name") or ""),
        status=status(raw.get("status")),
        objective=OBJECTIVE.get(str(raw.get("objective_type") or ""), Objective.OTHER),
        daily_budget=micros_to_decimal(raw.get("daily_spend_cap")),
        lifetime_budget=micros_to_decimal(raw.get("lifetime_spend_cap")),
        start_date=unix_date(raw.get("start_time")),
        end_date=unix_date(raw.get("end_time")),
        raw=raw,
    )


def ad_group(raw: dict[str, Any]) -> RemoteAdGroup:
    daily = raw.get("budget_in_micro_currency") if raw.get("budget_type") == "DAILY" else None
    return RemoteAdGroup(
        external_id=str(raw["id"]),
        campaign_external_id=str(raw.get("campaign_id") or ""),
        name=str(raw.get("name") or ""),
        status=status(raw.get("status")),
        daily_budget=micros_to_decimal(daily),
        bid_amount=micros_to_decimal(raw.get("bid_in_micro_currency")),
        targeting={
            **dict(raw.get("targeting_spec") or {}),
            **(
                {"auto_targeting_enabled": raw["auto_targeting_enabled"]}
                if "auto_targeting_enabled" in raw
                else {}
            ),
        },  # fmt: skip
        raw=raw,
    )


def ad(raw: dict[str, Any]) -> RemoteAd:
    pin = str(raw.get("pin_id") or "")
    return RemoteAd(
        external_id=str(raw["id"]),
        ad_group_external_id=str(raw.get("ad_group_id") or ""),
        campaign_external_id=str(raw.get("campaign_id") or ""),
        name=str(raw.get("name") or ""),
        status=status(raw.get("status")),
        creative=RemoteCreative(
            external_id=pin,
            name=str(raw.get("name") or ""),
            format=CREATIVE_FORMAT.get(str(raw.get("creative_type") or ""), "image"),
        )
        if pin
        else None,
        raw=raw,
    )


def row_date(row: dict[str, Any]) -> dt.date:
    return dt.date.fromisoformat(str(row["DATE"])[:10])


def daily_metric(
    row: dict[str, Any],
    *,
    level: MetricLevel,
    campaign_id: str,
    ad_group_id: str | None = None,
    ad_id: str | None = None,
) -> RemoteDailyMetric:
    return RemoteDailyMetric(
        level=level,
        campaign_external_id=campaign_id,
        ad_group_external_id=ad_group_id,
        ad_external_id=ad_id,
        date=row_date(row),
        impressions=to_int(row.get("PAID_IMPRESSION")),
        clicks=to_int(row.get("CLICKTHROUGH_1")),
        spend=micros_to_decimal(row.get("SPEND_IN_MICRO_DOLLAR")) or to_decimal(0),
        conversions=to_decimal(row.get("TOTAL_CONVERSIONS")),
        conversion_value=micros_to_decimal(row.get("TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR"))
        or to_decimal(0),
    )


def segment_metric(item: dict[str, Any], dimension: SegmentDimension) -> RemoteSegmentMetric:
    metrics = item.get("metrics") or {}
    return RemoteSegmentMetric(
        campaign_external_id=str(metrics.get("CAMPAIGN_ID") or ""),
        date=row_date(metrics),
        dimension=dimension,
        value=str(item.get("targeting_value") or "").lower(),
        impressions=to_int(metrics.get("PAID_IMPRESSION")),
        clicks=to_int(metrics.get("CLICKTHROUGH_1")),
        spend=micros_to_decimal(metrics.get("SPEND_IN_MICRO_DOLLAR")) or to_decimal(0),
        conversions=to_decimal(metrics.get("TOTAL_CONVERSIONS")),
        conversion_value=micros_to_decimal(metrics.get("TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR"))
        or to_decimal(0),
    )


# Pinterest's AGE_BUCKET targeting values, youngest first ("65+" open at the top).
AGE_BUCKETS: list[tuple[str, int, int]] = [
    ("18-24", 18, 24), ("25-34", 25, 34), ("35-44", 35, 44), ("45-49", 45, 49),
    ("50-54", 50, 54), ("55-64", 55, 64), ("65+", 65, 65),
]  # fmt: skip


def widened_age_buckets(current: list[str], step: int) -> list[str] | None:
    """The buckets the current ones widened by `step` years on each side overlap, or None
    when there is nothing to widen (no age targeting means every age already)."""
    bounds = {name: (low, high) for name, low, high in AGE_BUCKETS}
    known = [bounds[name] for name in current if name in bounds]
    if not known:
        return None
    low, high = widen_age_range(min(b[0] for b in known), max(b[1] for b in known), step)
    return [name for name, b_low, b_high in AGE_BUCKETS if b_low <= high and b_high >= low]
