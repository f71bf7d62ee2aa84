"""LinkedIn wire JSON -> our records.

Levels: a LinkedIn *campaign group* is our campaign (Campaign Manager now labels it
"Campaign"), a LinkedIn *campaign* is our ad group (labelled "Ad set": it carries the
budget, bid and targeting), a *creative* is our ad. Money arrives as
`{"amount": "50.00", "currencyCode": "USD"}` with a decimal string; reports are in UTC days.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from integrations.providers.linkedin.client import urn_id
from integrations.providers.toolkit import to_decimal, to_int
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
    "COMPLETED": DeliveryStatus.ARCHIVED,
    "CANCELED": DeliveryStatus.ARCHIVED,
    "CANCELLED": DeliveryStatus.ARCHIVED,
    "DRAFT": DeliveryStatus.DRAFT,
    "PENDING_DELETION": DeliveryStatus.DELETED,
    "REMOVED": DeliveryStatus.DELETED,
}
STATUS_TO_LINKEDIN: dict[str, str] = {
    DeliveryStatus.ACTIVE: "ACTIVE",
    DeliveryStatus.PAUSED: "PAUSED",
    DeliveryStatus.ARCHIVED: "ARCHIVED",
    DeliveryStatus.DRAFT: "DRAFT",
}
ACCOUNT_STATUS: dict[str, str] = {
    "ACTIVE": "active",
    "DRAFT": "pending",
    "CANCELED": "closed",
    "PENDING_DELETION": "closed",
    "REMOVED": "closed",
}
OBJECTIVE: dict[str, str] = {
    "BRAND_AWARENESS": Objective.AWARENESS,
    "WEBSITE_VISIT": Objective.TRAFFIC,
    "WEBSITE_TRAFFIC": Objective.TRAFFIC,
    "ENGAGEMENT": Objective.ENGAGEMENT,
    "CREATIVE_ENGAGEMENT": Objective.ENGAGEMENT,
    "LEAD_GENERATION": Objective.LEADS,
    "TALENT_LEAD": Objective.LEADS,
    "WEBSITE_CONVERSION": Objective.SALES,
    "VIDEO_VIEW": Objective.VIDEO_VIEWS,
}
OBJECTIVE_TO_LINKEDIN: dict[str, str] = {
    Objective.AWARENESS: "BRAND_AWARENESS",
    Objective.TRAFFIC: "WEBSITE_VISIT",
    Objective.ENGAGEMENT: "ENGAGEMENT",
    Objective.LEADS: "LEAD_GENERATION",
    Objective.SALES: "WEBSITE_CONVERSION",
    Objective.VIDEO_VIEWS: "VIDEO_VIEW",
}
# Breakdowns LinkedIn reports next to a campaign-group pivot (statistics finder, ≤3 pivots).
# It has no age or gender; member country needs the single-pivot finder, so it is left out.
SEGMENT_PIVOTS = {
    SegmentDimension.DEVICE: "IMPRESSION_DEVICE_TYPE",
    SegmentDimension.PLACEMENT: "SERVING_LOCATION",
}
METRIC_FIELDS = (
    "dateRange",
    "pivotValues",
    "impressions",
    "clicks",
    "costInLocalCurrency",
    "externalWebsiteConversions",
    "conversionValueInLocalCurrency",
    "videoViews",
)


def money(value: Any) -> Decimal | None:
    if not isinstance(value, dict) or value.get("amount") in (None, ""):
        return None
    return to_decimal(value["amount"])


def money_wire(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": f"{amount.quantize(Decimal('0.01'))}", "currencyCode": currency}


def epoch_ms_date(value: Any) -> dt.date | None:
    if not isinstance(value, int | float):
        return None
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date()


def date_epoch_ms(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp() * 1000)


def status(value: Any) -> str:
    return STATUS.get(str(value or "").upper(), DeliveryStatus.PAUSED)


def account(raw: dict[str, Any]) -> RemoteAccount:
    return RemoteAccount(
        external_id=urn_id(raw["id"]),
        name=str(raw.get("name") or ""),
        currency=str(raw.get("currency") or ""),
        # LinkedIn accounts carry no time zone; its reports bucket days in UTC.
        time_zone="UTC",
        status=ACCOUNT_STATUS.get(str(raw.get("status") or "").upper(), "disabled"),
        raw=raw,
    )


def campaign(raw: dict[str, Any], account_id: str) -> RemoteCampaign:
    schedule = raw.get("runSchedule") or {}
    return RemoteCampaign(
        external_id=urn_id(raw["id"]),
        account_external_id=account_id,
        name=str(raw.get("name") or ""),
        status=status(raw.get("status")),
        objective=OBJECTIVE.get(str(raw.get("objectiveType") or ""), Objective.OTHER),
        daily_budget=money(raw.get("dailyBudget")),
        lifetime_budget=money(raw.get("totalBudget")),
        start_date=epoch_ms_date(schedule.get("start")),
        end_date=epoch_ms_date(schedule.get("end")),
        raw=raw,
    )


def ad_group(raw: dict[str, Any]) -> RemoteAdGroup:
    return RemoteAdGroup(
        external_id=urn_id(raw["id"]),
        campaign_external_id=urn_id(raw.get("campaignGroup") or ""),
        name=str(raw.get("name") or ""),
        status=status(raw.get("status")),
        daily_budget=money(raw.get("dailyBudget")),
        bid_amount=money(raw.get("unitCost")),
        targeting={
            **dict(raw.get("targetingCriteria") or {}),
            **(
                {"audienceExpansionEnabled": raw["audienceExpansionEnabled"]}
                if "audienceExpansionEnabled" in raw
                else {}
            ),
        },  # fmt: skip
        raw=raw,
    )


def creative(raw: dict[str, Any]) -> RemoteCreative:
    content = raw.get("content") or {}
    text_ad = content.get("textAd") or {}
    fmt = "text" if text_ad else "image"
    if "carousel" in content:
        fmt = "carousel"
    elif "video" in str(raw.get("type") or "").lower():
        fmt = "video"
    return RemoteCreative(
        external_id=urn_id(raw["id"]),
        name=str(raw.get("name") or ""),
        headline=str(text_ad.get("headline") or ""),
        body=str(text_ad.get("description") or ""),
        format=fmt,
    )


def ad(raw: dict[str, Any], group_of_campaign: dict[str, str]) -> RemoteAd:
    campaign_id = urn_id(raw.get("campaign") or "")
    return RemoteAd(
        external_id=urn_id(raw["id"]),
        ad_group_external_id=campaign_id,
        campaign_external_id=group_of_campaign.get(campaign_id, ""),
        name=str(raw.get("name") or ""),
        status=status(raw.get("intendedStatus") or raw.get("status")),
        creative=creative(raw),
        raw=raw,
    )


def element_date(element: dict[str, Any]) -> dt.date:
    start = (element.get("dateRange") or {}).get("start") or {}
    return dt.date(int(start["year"]), int(start["month"]), int(start["day"]))


def daily_metric(
    element: dict[str, Any],
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
        date=element_date(element),
        impressions=to_int(element.get("impressions")),
        clicks=to_int(element.get("clicks")),
        spend=to_decimal(element.get("costInLocalCurrency")),
        conversions=to_decimal(element.get("externalWebsiteConversions")),
        conversion_value=to_decimal(element.get("conversionValueInLocalCurrency")),
        video_views=to_int(element.get("videoViews")),
    )


def segment_metric(
    element: dict[str, Any], *, campaign_id: str, dimension: SegmentDimension, value: str
) -> RemoteSegmentMetric:
    return RemoteSegmentMetric(
        campaign_external_id=campaign_id,
        date=element_date(element),
        dimension=dimension,
        value=value,
        impressions=to_int(element.get("impressions")),
        clicks=to_int(element.get("clicks")),
        spend=to_decimal(element.get("costInLocalCurrency")),
        conversions=to_decimal(element.get("externalWebsiteConversions")),
        conversion_value=to_decimal(element.get("conversionValueInLocalCurrency")),
    )


AGE_FACET = "urn:li:adTargetingFacet:ageRanges"
# LinkedIn's age ranges, youngest first (55+ has no upper bound on the wire).
AGE_RANGES: list[tuple[str, int, int]] = [
    ("urn:li:ageRange:(18,24)", 18, 24), ("urn:li:ageRange:(25,34)", 25, 34),
    ("urn:li:ageRange:(35,54)", 35, 54), ("urn:li:ageRange:(55,2147483647)", 55, 65),
]  # fmt: skip


def widen_age_facet(criteria: dict[str, Any], step: int) -> dict[str, Any] | None:
    """`targetingCriteria` with its age-range clause widened by `step` years on each side,
    or None when it targets no age range (every age already) or nothing would change."""
    clauses = ((criteria.get("include") or {}).get("and")) or []
    for index, clause in enumerate(clauses):
        values = ((clause or {}).get("or") or {}).get(AGE_FACET)
        if not values:
            continue
        bounds = {urn: (low, high) for urn, low, high in AGE_RANGES}
        known = [bounds[value] for value in values if value in bounds]
        if not known:
            return None
        low, high = widen_age_range(min(b[0] for b in known), max(b[1] for b in known), step)
        wanted = [urn for urn, r_low, r_high in AGE_RANGES if r_low <= high and r_high >= low]
        if set(wanted) <= set(values):
            return None
        widened = [dict(c) for c in clauses]
        widened[index] = {"or": {**clause["or"], AGE_FACET: wanted}}
        return {**criteria, "include": {**criteria["include"], "and": widened}}
    return None
