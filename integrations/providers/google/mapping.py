"""Google Ads GAQL rows (REST JSON, camelCase) -> unified records.

Money is in micros (1,000,000 = one unit of the account currency), int64 values arrive as
strings, `conversions` and `conversionsValue` are doubles in currency units.
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
)
from integrations.vocabulary import BidStrategy, DeliveryStatus, Objective

MICROS = Decimal(1_000_000)

STATUS = {
    "ENABLED": DeliveryStatus.ACTIVE,
    "PAUSED": DeliveryStatus.PAUSED,
    # Removed campaigns keep their reporting and cannot be enabled again: our "archived".
    "REMOVED": DeliveryStatus.ARCHIVED,
}
STATUS_TO_GOOGLE = {DeliveryStatus.ACTIVE: "ENABLED", DeliveryStatus.PAUSED: "PAUSED"}

# Google campaigns have no objective; the channel says what they are for.
CHANNEL_OBJECTIVE = {
    "SEARCH": Objective.TRAFFIC,
    "DISPLAY": Objective.AWARENESS,
    "VIDEO": Objective.VIDEO_VIEWS,
    "SHOPPING": Objective.SALES,
    "PERFORMANCE_MAX": Objective.SALES,
    "MULTI_CHANNEL": Objective.APP_PROMOTION,
    "DEMAND_GEN": Objective.ENGAGEMENT,
    "DISCOVERY": Objective.ENGAGEMENT,
    "HOTEL": Objective.SALES,
    "LOCAL": Objective.SALES,
    "SMART": Objective.TRAFFIC,
}

BID_STRATEGY = {
    "MANUAL_CPC": BidStrategy.MANUAL_CPC,
    "ENHANCED_CPC": BidStrategy.MANUAL_CPC,
    "MANUAL_CPM": BidStrategy.MANUAL_CPM,
    "MANUAL_CPV": BidStrategy.MANUAL_CPM,
    "TARGET_CPA": BidStrategy.TARGET_CPA,
    "TARGET_ROAS": BidStrategy.TARGET_ROAS,
    "MAXIMIZE_CONVERSIONS": BidStrategy.LOWEST_COST,
    "MAXIMIZE_CONVERSION_VALUE": BidStrategy.LOWEST_COST,
    "TARGET_SPEND": BidStrategy.LOWEST_COST,  # "maximize clicks"
    "TARGET_IMPRESSION_SHARE": BidStrategy.BID_CAP,
}

ACCOUNT_STATUS = {
    "ENABLED": "active",
    "SUSPENDED": "disabled",
    "CANCELED": "closed",
    "CLOSED": "closed",
}

AD_FORMAT = {
    "IMAGE_AD": "image",
    "RESPONSIVE_DISPLAY_AD": "image",
    "VIDEO_AD": "video",
    "VIDEO_RESPONSIVE_AD": "video",
    "IN_FEED_VIDEO_AD": "video",
    "DEMAND_GEN_CAROUSEL_AD": "carousel",
}


def micros_to_decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)) / MICROS
    except InvalidOperation:
        return None


def to_micros(amount: Decimal) -> str:
    """Currency units -> micros as the int64 string REST expects."""
    if amount < 0:
        raise InvalidRequest("amounts cannot be negative", platform="google")
    return str(int((amount * MICROS).quantize(Decimal(1), ROUND_HALF_UP)))


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def integer(value: Any) -> int:
    try:
        return int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0


def date_of(value: Any) -> dt.date | None:
    """'2026-03-01 00:00:00', '20260301 00:00:00' or '2026-03-01' -> date."""
    if not value:
        return None
    text = str(value).split(" ", 1)[0]
    try:
        if "-" in text:
            return dt.date.fromisoformat(text)
        return dt.datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007 - a calendar day
    except ValueError:
        return None


def account(customer: Mapping[str, Any], **raw_extra: Any) -> RemoteAccount:
    return RemoteAccount(
        external_id=str(customer.get("id", "")),
        name=str(customer.get("descriptiveName") or customer.get("id", "")),
        currency=str(customer.get("currencyCode", "")),
        time_zone=str(customer.get("timeZone") or "UTC"),
        status=ACCOUNT_STATUS.get(str(customer.get("status", "")), "pending"),
        raw={**customer, **raw_extra},
    )


def status(value: Any) -> str:
    return str(STATUS.get(str(value), DeliveryStatus.PAUSED))


def campaign_bid(raw: Mapping[str, Any]) -> Decimal | None:
    """The campaign-level target: a CPA (micros) or a ROAS ratio, if the strategy has one."""
    for holder in ("targetCpa", "maximizeConversions"):
        target = (raw.get(holder) or {}).get("targetCpaMicros")
        if target not in (None, "", "0"):
            return micros_to_decimal(target)
    for holder in ("targetRoas", "maximizeConversionValue"):
        target = (raw.get(holder) or {}).get("targetRoas")
        if target not in (None, "", 0):
            return decimal(target)
    return None


def campaign(
    row: Mapping[str, Any], *, account_id: str, bid_amount: Decimal | None = None
) -> RemoteCampaign:
    raw = row.get("campaign") or {}
    budget = row.get("campaignBudget") or {}
    strategy = str(raw.get("biddingStrategyType", ""))
    return RemoteCampaign(
        external_id=str(raw.get("id", "")),
        account_external_id=account_id,
        name=str(raw.get("name", "")),
        status=status(raw.get("status")),
        objective=str(
            CHANNEL_OBJECTIVE.get(str(raw.get("advertisingChannelType", "")), Objective.OTHER)
        ),
        daily_budget=micros_to_decimal(budget.get("amountMicros")),
        lifetime_budget=micros_to_decimal(budget.get("totalAmountMicros")),
        bid_strategy=str(BID_STRATEGY.get(strategy, BidStrategy.LOWEST_COST)),
        bid_amount=bid_amount if bid_amount is not None else campaign_bid(raw),
        start_date=date_of(raw.get("startDateTime")),
        end_date=date_of(raw.get("endDateTime")),
        raw=dict(row),
    )


def ad_group_bid(raw: Mapping[str, Any]) -> Decimal | None:
    for name in ("cpcBidMicros", "cpmBidMicros", "targetCpaMicros"):
        if raw.get(name) not in (None, "", "0"):
            return micros_to_decimal(raw.get(name))
    return None


def uniform_bid(rows: Iterable[Mapping[str, Any]]) -> Decimal | None:
    bids = {ad_group_bid(row.get("adGroup") or {}) for row in rows}
    bids.discard(None)
    return bids.pop() if len(bids) == 1 else None


def ad_group(row: Mapping[str, Any]) -> RemoteAdGroup:
    raw = row.get("adGroup") or {}
    return RemoteAdGroup(
        external_id=str(raw.get("id", "")),
        campaign_external_id=str((row.get("campaign") or {}).get("id", "")),
        name=str(raw.get("name", "")),
        status=status(raw.get("status")),
        bid_amount=ad_group_bid(raw),
        targeting={"optimized_targeting_enabled": bool(raw.get("optimizedTargetingEnabled"))},
        raw=dict(row),
    )


def _texts(assets: Any) -> list[str]:
    if not isinstance(assets, list):
        return []
    return [str(item.get("text", "")) for item in assets if isinstance(item, dict)]


def creative(ad_raw: Mapping[str, Any]) -> RemoteCreative:
    ad_type = str(ad_raw.get("type", ""))
    rsa = ad_raw.get("responsiveSearchAd") or {}
    eta = ad_raw.get("expandedTextAd") or {}
    rda = ad_raw.get("responsiveDisplayAd") or {}
    image = ad_raw.get("imageAd") or {}
    headlines = _texts(rsa.get("headlines")) or _texts(rda.get("headlines"))
    descriptions = _texts(rsa.get("descriptions")) or _texts(rda.get("descriptions"))
    return RemoteCreative(
        external_id=str(ad_raw.get("id", "")),
        name=str(ad_raw.get("name", "")),
        headline=headlines[0] if headlines else str(eta.get("headlinePart1", "")),
        body=descriptions[0] if descriptions else str(eta.get("description", "")),
        image_url=str(image.get("imageUrl", "")),
        format=AD_FORMAT.get(ad_type, "text"),
    )


def ad(row: Mapping[str, Any]) -> RemoteAd:
    ad_group_ad = row.get("adGroupAd") or {}
    ad_raw = ad_group_ad.get("ad") or {}
    return RemoteAd(
        external_id=str(ad_raw.get("id", "")),
        ad_group_external_id=str((row.get("adGroup") or {}).get("id", "")),
        campaign_external_id=str((row.get("campaign") or {}).get("id", "")),
        name=str(ad_raw.get("name", "")),
        status=status(ad_group_ad.get("status")),
        creative=creative(ad_raw),
        raw=dict(row),
    )


def daily_metric(row: Mapping[str, Any], *, level: MetricLevel) -> RemoteDailyMetric:
    metrics = row.get("metrics") or {}
    is_ad = level == MetricLevel.AD
    return RemoteDailyMetric(
        level=level,
        campaign_external_id=str((row.get("campaign") or {}).get("id", "")),
        date=dt.date.fromisoformat(str((row.get("segments") or {})["date"])),
        ad_group_external_id=str((row.get("adGroup") or {}).get("id", "")) if is_ad else None,
        ad_external_id=str(((row.get("adGroupAd") or {}).get("ad") or {}).get("id", ""))
        if is_ad
        else None,
        impressions=integer(metrics.get("impressions")),
        clicks=integer(metrics.get("clicks")),
        spend=micros_to_decimal(metrics.get("costMicros")) or Decimal(0),
        conversions=decimal(metrics.get("conversions")),
        conversion_value=decimal(metrics.get("conversionsValue")),
        video_views=integer(metrics.get("videoTrueviewViews")),
    )


def age_value(code: str) -> str:
    """AGE_RANGE_25_34 -> '25-34', AGE_RANGE_65_UP -> '65+', UNDETERMINED -> 'unknown'."""
    rest = code.removeprefix("AGE_RANGE_")
    if rest.endswith("_UP"):
        return f"{rest.removesuffix('_UP')}+"
    if "_" in rest and rest.replace("_", "").isdigit():
        return rest.replace("_", "-")
    return "unknown"


def enum_value(code: str) -> str:
    """MALE -> 'male', SEARCH_PARTNERS -> 'search_partners', UNDETERMINED -> 'unknown'."""
    lowered = code.lower()
    return "unknown" if lowered in {"", "undetermined", "unknown", "unspecified"} else lowered


def add_segment(
    totals: dict[tuple[str, dt.date, str], dict[str, Decimal]],
    row: Mapping[str, Any],
    value: str,
) -> None:
    """Sum one row into its (campaign, day, value): age and gender rows come per ad group."""
    metrics = row.get("metrics") or {}
    key = (
        str((row.get("campaign") or {}).get("id", "")),
        dt.date.fromisoformat(str((row.get("segments") or {})["date"])),
        value,
    )
    bucket = totals.setdefault(key, {name: Decimal(0) for name in ("i", "c", "s", "v", "n")})
    bucket["i"] += integer(metrics.get("impressions"))
    bucket["c"] += integer(metrics.get("clicks"))
    bucket["s"] += micros_to_decimal(metrics.get("costMicros")) or Decimal(0)
    bucket["n"] += decimal(metrics.get("conversions"))
    bucket["v"] += decimal(metrics.get("conversionsValue"))


def segment_metrics(
    totals: Mapping[tuple[str, dt.date, str], Mapping[str, Decimal]],
    dimension: SegmentDimension,
) -> list[RemoteSegmentMetric]:
    return [
        RemoteSegmentMetric(
            campaign_external_id=campaign_id,
            date=day,
            dimension=dimension,
            value=value,
            impressions=int(bucket["i"]),
            clicks=int(bucket["c"]),
            spend=bucket["s"],
            conversions=bucket["n"],
            conversion_value=bucket["v"],
        )
        for (campaign_id, day, value), bucket in sorted(totals.items())
    ]
