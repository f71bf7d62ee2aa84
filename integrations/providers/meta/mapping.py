"""Graph API JSON -> unified records, and our values -> Graph parameters.

Budgets and bids travel in the currency's minor unit ("offset"): cents for USD, whole
yen for JPY (https://developers.facebook.com/docs/marketing-api/currencies). Insights
`spend` is a decimal string in currency units.
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

# Currencies whose Graph offset is 1 (no minor unit in budgets); every other is 100.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"CLP", "COP", "CRC", "HUF", "ISK", "IDR", "JPY", "KRW", "PYG", "TWD"}
)

STATUS = {
    "ACTIVE": DeliveryStatus.ACTIVE,
    "PAUSED": DeliveryStatus.PAUSED,
    "ARCHIVED": DeliveryStatus.ARCHIVED,
    "DELETED": DeliveryStatus.DELETED,
}
STATUS_TO_META = {
    DeliveryStatus.ACTIVE: "ACTIVE",
    DeliveryStatus.PAUSED: "PAUSED",
    DeliveryStatus.ARCHIVED: "ARCHIVED",
    DeliveryStatus.DELETED: "DELETED",
}

# ODAX objectives (OUTCOME_*) and the legacy ones older campaigns still carry.
OBJECTIVE = {
    "OUTCOME_AWARENESS": Objective.AWARENESS,
    "OUTCOME_TRAFFIC": Objective.TRAFFIC,
    "OUTCOME_ENGAGEMENT": Objective.ENGAGEMENT,
    "OUTCOME_LEADS": Objective.LEADS,
    "OUTCOME_APP_PROMOTION": Objective.APP_PROMOTION,
    "OUTCOME_SALES": Objective.SALES,
    "BRAND_AWARENESS": Objective.AWARENESS,
    "REACH": Objective.AWARENESS,
    "LINK_CLICKS": Objective.TRAFFIC,
    "POST_ENGAGEMENT": Objective.ENGAGEMENT,
    "PAGE_LIKES": Objective.ENGAGEMENT,
    "EVENT_RESPONSES": Objective.ENGAGEMENT,
    "MESSAGES": Objective.ENGAGEMENT,
    "LEAD_GENERATION": Objective.LEADS,
    "APP_INSTALLS": Objective.APP_PROMOTION,
    "CONVERSIONS": Objective.SALES,
    "PRODUCT_CATALOG_SALES": Objective.SALES,
    "STORE_VISITS": Objective.SALES,
    "VIDEO_VIEWS": Objective.VIDEO_VIEWS,
}
# New campaigns must use an ODAX objective; video views are an engagement goal there.
OBJECTIVE_TO_META = {
    Objective.AWARENESS: "OUTCOME_AWARENESS",
    Objective.TRAFFIC: "OUTCOME_TRAFFIC",
    Objective.ENGAGEMENT: "OUTCOME_ENGAGEMENT",
    Objective.LEADS: "OUTCOME_LEADS",
    Objective.APP_PROMOTION: "OUTCOME_APP_PROMOTION",
    Objective.SALES: "OUTCOME_SALES",
    Objective.VIDEO_VIEWS: "OUTCOME_ENGAGEMENT",
}

BID_STRATEGY = {
    "LOWEST_COST_WITHOUT_CAP": BidStrategy.LOWEST_COST,
    "LOWEST_COST_WITH_BID_CAP": BidStrategy.BID_CAP,
    "COST_CAP": BidStrategy.COST_CAP,
    "LOWEST_COST_WITH_MIN_ROAS": BidStrategy.TARGET_ROAS,
}
BID_STRATEGY_TO_META = {
    BidStrategy.LOWEST_COST: "LOWEST_COST_WITHOUT_CAP",
    BidStrategy.BID_CAP: "LOWEST_COST_WITH_BID_CAP",
    BidStrategy.COST_CAP: "COST_CAP",
    BidStrategy.TARGET_CPA: "COST_CAP",  # Meta's cost cap is its average-CPA target
    BidStrategy.TARGET_ROAS: "LOWEST_COST_WITH_MIN_ROAS",
}

# account_status (https://developers.facebook.com/docs/marketing-api/reference/ad-account/)
ACCOUNT_STATUS = {
    1: "active",
    9: "active",  # in grace period: still delivering
    2: "disabled",
    3: "disabled",  # unsettled
    7: "pending",
    8: "pending",
    100: "pending",  # pending closure
    101: "closed",
}

SEGMENT_BREAKDOWNS: dict[SegmentDimension, tuple[str, ...]] = {
    SegmentDimension.AGE: ("age",),
    SegmentDimension.GENDER: ("gender",),
    SegmentDimension.COUNTRY: ("country",),
    SegmentDimension.PLACEMENT: ("publisher_platform", "platform_position"),
    SegmentDimension.DEVICE: ("impression_device",),
}


def minor_unit_factor(currency: str) -> int:
    return 1 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 100


def from_minor(value: Any, currency: str) -> Decimal | None:
    """Graph budget/bid (minor units as int or string) -> Decimal currency units."""
    if value in (None, "", "0", 0):
        return None
    try:
        return Decimal(str(value)) / minor_unit_factor(currency)
    except InvalidOperation:
        return None


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal currency units -> Graph minor units (rounded half up: 10.005 USD -> 1001)."""
    if amount < 0:
        raise InvalidRequest("amounts cannot be negative", platform="meta")
    return int((amount * minor_unit_factor(currency)).quantize(Decimal(1), ROUND_HALF_UP))


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def integer(value: Any) -> int:
    try:
        return int(Decimal(str(value))) if value not in (None, "") else 0
    except InvalidOperation:
        return 0


def local_date(value: Any) -> dt.date | None:
    """Graph times are ISO with the account's offset ('2026-03-01T00:00:00-0800'); the
    first ten characters are the day in the account's time zone."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def account(raw: Mapping[str, Any]) -> RemoteAccount:
    account_id = str(raw.get("account_id") or str(raw.get("id", "")).removeprefix("act_"))
    return RemoteAccount(
        external_id=account_id,
        name=str(raw.get("name") or account_id),
        currency=str(raw.get("currency") or ""),
        time_zone=str(raw.get("timezone_name") or "UTC"),
        status=ACCOUNT_STATUS.get(integer(raw.get("account_status")), "disabled"),
        raw=dict(raw),
    )


def status(raw: Mapping[str, Any]) -> str:
    return str(STATUS.get(str(raw.get("status", "")).upper(), DeliveryStatus.PAUSED))


def campaign(
    raw: Mapping[str, Any], *, account_id: str, currency: str, bid_amount: Decimal | None = None
) -> RemoteCampaign:
    return RemoteCampaign(
        external_id=str(raw["id"]),
        account_external_id=account_id,
        name=str(raw.get("name", "")),
        status=status(raw),
        objective=str(OBJECTIVE.get(str(raw.get("objective", "")), Objective.OTHER)),
        daily_budget=from_minor(raw.get("daily_budget"), currency),
        lifetime_budget=from_minor(raw.get("lifetime_budget"), currency),
        bid_strategy=str(
            BID_STRATEGY.get(str(raw.get("bid_strategy", "")), BidStrategy.LOWEST_COST)
        ),
        bid_amount=bid_amount,
        start_date=local_date(raw.get("start_time")),
        end_date=local_date(raw.get("stop_time")),
        raw=dict(raw),
    )


def uniform_bid(ad_sets: Iterable[Mapping[str, Any]], currency: str) -> Decimal | None:
    """The campaign's bid when all its ad sets share one (Meta bids live on ad sets)."""
    bids = {from_minor(ad_set.get("bid_amount"), currency) for ad_set in ad_sets}
    bids.discard(None)
    return bids.pop() if len(bids) == 1 else None


def ad_group(raw: Mapping[str, Any], *, currency: str) -> RemoteAdGroup:
    targeting = raw.get("targeting")
    return RemoteAdGroup(
        external_id=str(raw["id"]),
        campaign_external_id=str(raw.get("campaign_id", "")),
        name=str(raw.get("name", "")),
        status=status(raw),
        daily_budget=from_minor(raw.get("daily_budget"), currency),
        bid_amount=from_minor(raw.get("bid_amount"), currency),
        targeting=dict(targeting) if isinstance(targeting, dict) else {},
        raw=dict(raw),
    )


def creative(raw: Mapping[str, Any]) -> RemoteCreative:
    spec = _dict(raw.get("object_story_spec"))
    link = _dict(spec.get("link_data"))
    video = _dict(spec.get("video_data"))
    story = link or video
    cta = raw.get("call_to_action_type") or _dict(story.get("call_to_action")).get("type", "")
    video_id = raw.get("video_id") or video.get("video_id")
    if video_id or str(raw.get("object_type", "")).upper() == "VIDEO":
        fmt = "video"
    elif link.get("child_attachments"):
        fmt = "carousel"
    else:
        fmt = "image"
    return RemoteCreative(
        external_id=str(raw.get("id", "")),
        name=str(raw.get("name", "")),
        headline=str(raw.get("title") or story.get("name") or story.get("title") or ""),
        body=str(raw.get("body") or story.get("message") or ""),
        call_to_action=str(cta or ""),
        image_url=str(
            raw.get("image_url")
            or link.get("picture")
            or video.get("image_url")
            or raw.get("thumbnail_url")
            or ""
        ),
        video_url=f"https://www.facebook.com/{video_id}" if video_id else "",
        format=fmt,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def ad(raw: Mapping[str, Any]) -> RemoteAd:
    raw_creative = raw.get("creative")
    return RemoteAd(
        external_id=str(raw["id"]),
        ad_group_external_id=str(raw.get("adset_id", "")),
        campaign_external_id=str(raw.get("campaign_id", "")),
        name=str(raw.get("name", "")),
        status=status(raw),
        creative=creative(raw_creative) if isinstance(raw_creative, dict) else None,
        raw=dict(raw),
    )


def action_sum(actions: Any, action_type: str) -> Decimal:
    """Sum of one action type in an insights `actions`/`action_values` list."""
    if not isinstance(actions, list):
        return Decimal(0)
    return sum(
        (
            decimal(item.get("value"))
            for item in actions
            if isinstance(item, dict) and item.get("action_type") == action_type
        ),
        Decimal(0),
    )


def daily_metric(
    raw: Mapping[str, Any], *, level: MetricLevel, conversion_action_type: str
) -> RemoteDailyMetric:
    reach = raw.get("reach")
    frequency = raw.get("frequency")
    return RemoteDailyMetric(
        level=level,
        campaign_external_id=str(raw.get("campaign_id", "")),
        date=dt.date.fromisoformat(str(raw["date_start"])),
        ad_group_external_id=str(raw["adset_id"]) if level == MetricLevel.AD else None,
        ad_external_id=str(raw["ad_id"]) if level == MetricLevel.AD else None,
        impressions=integer(raw.get("impressions")),
        clicks=integer(raw.get("clicks")),
        spend=decimal(raw.get("spend")),
        conversions=action_sum(raw.get("actions"), conversion_action_type),
        conversion_value=action_sum(raw.get("action_values"), conversion_action_type),
        video_views=int(action_sum(raw.get("actions"), "video_view")),
        reach=integer(reach) if reach not in (None, "") else None,
        frequency=decimal(frequency) if frequency not in (None, "") else None,
    )


def segment_value(raw: Mapping[str, Any], dimension: SegmentDimension) -> str:
    fields = SEGMENT_BREAKDOWNS[dimension]
    return "/".join(str(raw.get(name, "unknown")) for name in fields)


def segment_metric(
    raw: Mapping[str, Any], *, dimension: SegmentDimension, value: str, conversion_action_type: str
) -> RemoteSegmentMetric:
    return RemoteSegmentMetric(
        campaign_external_id=str(raw.get("campaign_id", "")),
        date=dt.date.fromisoformat(str(raw["date_start"])),
        dimension=dimension,
        value=value,
        impressions=integer(raw.get("impressions")),
        clicks=integer(raw.get("clicks")),
        spend=decimal(raw.get("spend")),
        conversions=action_sum(raw.get("actions"), conversion_action_type),
        conversion_value=action_sum(raw.get("action_values"), conversion_action_type),
    )
