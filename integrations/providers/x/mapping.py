"""X Ads wire JSON -> our records.

Levels: campaign -> campaign, line item -> ad group, promoted tweet -> ad (its creative is
the promoted post). Money is micros of the account currency (`*_local_micro`). Stats come
as arrays, one value per day bucket (or null when nothing happened).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
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

STATUS: dict[str, str] = {
    "ACTIVE": DeliveryStatus.ACTIVE,
    "PAUSED": DeliveryStatus.PAUSED,
    "DRAFT": DeliveryStatus.DRAFT,
}
STATUS_TO_X: dict[str, str] = {
    DeliveryStatus.ACTIVE: "ACTIVE",
    DeliveryStatus.PAUSED: "PAUSED",
    DeliveryStatus.DRAFT: "DRAFT",
}
OBJECTIVE: dict[str, str] = {
    "REACH": Objective.AWARENESS,
    "WEBSITE_CLICKS": Objective.TRAFFIC,
    "ENGAGEMENTS": Objective.ENGAGEMENT,
    "FOLLOWERS": Objective.ENGAGEMENT,
    "APP_INSTALLS": Objective.APP_PROMOTION,
    "APP_ENGAGEMENTS": Objective.APP_PROMOTION,
    "VIDEO_VIEWS": Objective.VIDEO_VIEWS,
    "PREROLL_VIEWS": Objective.VIDEO_VIEWS,
    "WEBSITE_CONVERSIONS": Objective.SALES,
}
CONVERSION_METRICS = (
    "conversion_purchases",
    "conversion_sign_ups",
    "conversion_site_visits",
    "conversion_downloads",
    "conversion_custom",
)


def status(raw: dict[str, Any]) -> str:
    if raw.get("deleted"):
        return DeliveryStatus.DELETED
    return STATUS.get(str(raw.get("entity_status") or "").upper(), DeliveryStatus.PAUSED)


def iso_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()


def account(raw: dict[str, Any], currency: str) -> RemoteAccount:
    approval = str(raw.get("approval_status") or "ACCEPTED").upper()
    state = "active"
    if raw.get("deleted"):
        state = "closed"
    elif approval in {"UNDER_REVIEW", "PENDING"}:
        state = "pending"
    elif approval != "ACCEPTED":
        state = "disabled"
    return RemoteAccount(
        external_id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        currency=currency,
        time_zone=str(raw.get("timezone") or "UTC"),
        status=state,
        raw=raw,
    )


def campaign(
    raw: dict[str, Any], account_id: str, objective: str = Objective.OTHER
) -> RemoteCampaign:
    return RemoteCampaign(
        external_id=str(raw["id"]),
        account_external_id=account_id,
        name=str(raw.get("name") or ""),
        status=status(raw),
        objective=objective,
        daily_budget=micros_to_decimal(raw.get("daily_budget_amount_local_micro")),
        lifetime_budget=micros_to_decimal(raw.get("total_budget_amount_local_micro")),
        start_date=iso_date(raw.get("start_time")),
        end_date=iso_date(raw.get("end_time")),
        raw=raw,
    )


def ad_group(raw: dict[str, Any]) -> RemoteAdGroup:
    return RemoteAdGroup(
        external_id=str(raw["id"]),
        campaign_external_id=str(raw.get("campaign_id") or ""),
        name=str(raw.get("name") or ""),
        status=status(raw),
        bid_amount=micros_to_decimal(raw.get("bid_amount_local_micro")),
        targeting={"audience_expansion": raw["audience_expansion"]}
        if raw.get("audience_expansion")
        else {},
        raw=raw,
    )


def ad(
    raw: dict[str, Any], campaign_of_line_item: dict[str, str], texts: dict[str, str]
) -> RemoteAd:
    line_item = str(raw.get("line_item_id") or "")
    tweet_id = str(raw.get("tweet_id") or "")
    return RemoteAd(
        external_id=str(raw["id"]),
        ad_group_external_id=line_item,
        campaign_external_id=campaign_of_line_item.get(line_item, ""),
        name=str(raw.get("name") or tweet_id),
        status=status(raw),
        creative=RemoteCreative(external_id=tweet_id, body=texts.get(tweet_id, ""), format="text")
        if tweet_id
        else None,
        raw=raw,
    )


def _series(value: Any) -> list[Any]:
    """A metric's per-day array; conversions nest theirs under `metric`."""
    if isinstance(value, dict):
        value = value.get("metric")
    return value if isinstance(value, list) else []


def _at(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def day_totals(metrics: dict[str, Any], index: int) -> dict[str, Decimal] | None:
    """Metrics of one day bucket, or None when X reported nothing for it."""
    impressions = _at(_series(metrics.get("impressions")), index)
    clicks = _at(_series(metrics.get("clicks")), index)
    spend = _at(_series(metrics.get("billed_charge_local_micro")), index)
    views = _at(_series(metrics.get("video_total_views")), index)
    conversions = Decimal(0)
    value = Decimal(0)
    seen_conversion = False
    for name in CONVERSION_METRICS:
        raw = metrics.get(name)
        count = _at(_series(raw), index)
        if count is not None:
            seen_conversion = True
            conversions += to_decimal(count)
        if isinstance(raw, dict):
            # sale_amount is taken to be micros like every other X money field.
            amount = _at(raw.get("sale_amount") or [], index)
            if amount is not None:
                value += micros_to_decimal(amount) or Decimal(0)
    if all(v is None for v in (impressions, clicks, spend, views)) and not seen_conversion:
        return None
    return {
        "impressions": Decimal(to_int(impressions)),
        "clicks": Decimal(to_int(clicks)),
        "spend": micros_to_decimal(spend) or Decimal(0),
        "video_views": Decimal(to_int(views)),
        "conversions": conversions,
        "conversion_value": value,
    }


def daily_metric(
    totals: dict[str, Decimal],
    *,
    level: MetricLevel,
    day: dt.date,
    campaign_id: str,
    ad_group_id: str | None = None,
    ad_id: str | None = None,
) -> RemoteDailyMetric:
    return RemoteDailyMetric(
        level=level,
        campaign_external_id=campaign_id,
        ad_group_external_id=ad_group_id,
        ad_external_id=ad_id,
        date=day,
        impressions=int(totals["impressions"]),
        clicks=int(totals["clicks"]),
        spend=totals["spend"],
        conversions=totals["conversions"],
        conversion_value=totals["conversion_value"],
        video_views=int(totals["video_views"]),
    )


OPEN_AGE = 200  # stands for "and over"

# X's AGE targeting values: one range per line item, 13 to 54 or open-ended ("AGE_OVER_n").
AGE_RANGES: list[tuple[str, int, int]] = [
    (f"AGE_{low}_TO_{high}", low, high)
    for low, high in [(13, 24), (13, 34), (13, 49), (13, 54), (18, 24), (18, 34), (18, 49),
                      (18, 54), (21, 34), (21, 49), (21, 54), (25, 49), (25, 54), (35, 49),
                      (35, 54)]
] + [(f"AGE_OVER_{low}", low, OPEN_AGE) for low in (13, 18, 21, 25, 35, 50)]  # fmt: skip


def widened_age_value(current: str, step: int) -> str | None:
    """The narrowest X age range holding the current one widened by `step` years on each
    side (never reaching under 18 unless it already did), or None if nothing wider fits."""
    bounds = {name: (low, high) for name, low, high in AGE_RANGES}
    if current not in bounds:
        return None
    low, high = bounds[current]
    want_low = max(min(low, 18), low - step)
    want_high = OPEN_AGE if high == OPEN_AGE else high + step
    fitting = [
        (r_high - r_low, name) for name, r_low, r_high in AGE_RANGES
        if r_low <= want_low and r_high >= want_high and (r_low, r_high) != (low, high)
    ]  # fmt: skip
    return min(fitting)[1] if fitting else None
