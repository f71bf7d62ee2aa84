"""The vocabulary of the metrics layer: dimensions, measures, derived ratios, periods.

Pure values and arithmetic, no database: the selectors, the API, exports and insights
share these so that "ROAS" means one thing everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from campaigns.models import SegmentDimension


class Dimension(StrEnum):
    DATE = "date"
    WEEK = "week"
    MONTH = "month"
    PLATFORM = "platform"
    AD_ACCOUNT = "ad_account"
    CAMPAIGN = "campaign"
    AD_GROUP = "ad_group"
    AD = "ad"
    CREATIVE = "creative"
    AGE = SegmentDimension.AGE.value
    GENDER = SegmentDimension.GENDER.value
    PLACEMENT = SegmentDimension.PLACEMENT.value
    DEVICE = SegmentDimension.DEVICE.value
    COUNTRY = SegmentDimension.COUNTRY.value


TIME_DIMENSIONS = frozenset({Dimension.DATE, Dimension.WEEK, Dimension.MONTH})
SEGMENT_DIMENSIONS = frozenset(
    {Dimension.AGE, Dimension.GENDER, Dimension.PLACEMENT, Dimension.DEVICE, Dimension.COUNTRY}
)
AD_LEVEL_DIMENSIONS = frozenset({Dimension.AD_GROUP, Dimension.AD, Dimension.CREATIVE})

BASE_METRICS = ("impressions", "clicks", "spend", "conversions", "revenue", "reach")
DERIVED_METRICS = ("ctr", "cpc", "cpm", "cvr", "cpa", "roas")
ALL_METRICS = BASE_METRICS + DERIVED_METRICS
MONEY_METRICS = frozenset({"spend", "revenue", "cpc", "cpm", "cpa"})
# Lower is better for these; the UI colours their changes the other way round.
LOWER_IS_BETTER = frozenset({"cpc", "cpm", "cpa"})

METRIC_LABELS = {
    "impressions": "Impressions",
    "clicks": "Clicks",
    "spend": "Spend",
    "conversions": "Conversions",
    "revenue": "Revenue",
    "reach": "Reach",
    "ctr": "CTR",
    "cpc": "CPC",
    "cpm": "CPM",
    "cvr": "Conversion rate",
    "cpa": "CPA",
    "roas": "ROAS",
}

# ISO 4217 currencies whose minor unit is not the cent.
CURRENCY_EXPONENTS = {
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 0, "PYG": 0, "UGX": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}  # fmt: skip


def currency_exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS.get(currency.upper(), 2)


def money_quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_exponent(currency))


def _ratio(numerator: Decimal, denominator: Decimal, scale: int = 1) -> Decimal | None:
    # "No value" for an empty denominator: a CTR of 0 would claim something was measured.
    if not denominator:
        return None
    return numerator * scale / denominator


@dataclass(frozen=True, slots=True)
class Metrics:
    """Summed measures of some slice of the data, and the ratios derived from those sums."""

    impressions: int = 0
    clicks: int = 0
    spend: Decimal = Decimal(0)
    conversions: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    reach: int | None = None

    @property
    def ctr(self) -> Decimal | None:
        return _ratio(Decimal(self.clicks), Decimal(self.impressions))

    @property
    def cpc(self) -> Decimal | None:
        return _ratio(self.spend, Decimal(self.clicks))

    @property
    def cpm(self) -> Decimal | None:
        return _ratio(self.spend, Decimal(self.impressions), 1000)

    @property
    def cvr(self) -> Decimal | None:
        return _ratio(self.conversions, Decimal(self.clicks))

    @property
    def cpa(self) -> Decimal | None:
        return _ratio(self.spend, self.conversions)

    @property
    def roas(self) -> Decimal | None:
        return _ratio(self.revenue, self.spend)

    def value(self, metric: str) -> int | Decimal | None:
        if metric not in ALL_METRICS:
            raise KeyError(metric)
        return getattr(self, metric)

    def as_dict(self) -> dict[str, int | Decimal | None]:
        return {name: self.value(name) for name in ALL_METRICS}

    def __add__(self, other: Metrics) -> Metrics:
        reach = None
        if self.reach is not None or other.reach is not None:
            reach = (self.reach or 0) + (other.reach or 0)
        return Metrics(
            impressions=self.impressions + other.impressions,
            clicks=self.clicks + other.clicks,
            spend=self.spend + other.spend,
            conversions=self.conversions + other.conversions,
            revenue=self.revenue + other.revenue,
            reach=reach,
        )


@dataclass(frozen=True, slots=True)
class Change:
    """Current minus previous, and that as a percentage of previous (None without a base)."""

    absolute: Decimal | None
    percent: Decimal | None


def change_between(current: int | Decimal | None, previous: int | Decimal | None) -> Change:
    if current is None or previous is None:
        return Change(absolute=None, percent=None)
    absolute = Decimal(current) - Decimal(previous)
    percent = absolute * 100 / Decimal(previous) if previous else None
    return Change(absolute=absolute, percent=percent)


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of days (in each ad account's own time zone)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("A period ends on or after its start.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        end = self.start - dt.timedelta(days=1)
        return Period(start=end - dt.timedelta(days=self.days - 1), end=end)


@dataclass(frozen=True, slots=True)
class MetricFilters:
    """Restrictions on the rows summed; empty tuples mean "no restriction"."""

    platforms: tuple[str, ...] = ()
    ad_account_ids: tuple[int, ...] = ()
    campaign_ids: tuple[int, ...] = ()
    ad_group_ids: tuple[int, ...] = ()
    ad_ids: tuple[int, ...] = ()
    creative_ids: tuple[int, ...] = ()
    # At most one audience dimension, e.g. ("country", ("US", "CA")).
    segment: tuple[str, tuple[str, ...]] | None = None

    @property
    def needs_ad_level(self) -> bool:
        return bool(self.ad_group_ids or self.ad_ids or self.creative_ids)

    def as_query(self) -> dict[str, str]:
        """The filters as API/dashboard query parameters."""
        query: dict[str, str] = {}
        pairs: list[tuple[str, tuple[object, ...]]] = [
            ("platform", self.platforms),
            ("ad_account", self.ad_account_ids),
            ("campaign", self.campaign_ids),
            ("ad_group", self.ad_group_ids),
            ("ad", self.ad_ids),
            ("creative", self.creative_ids),
        ]
        for name, values in pairs:
            if values:
                query[name] = ",".join(str(v) for v in values)
        if self.segment:
            query[self.segment[0]] = ",".join(self.segment[1])
        return query


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """What to sum, over which days, grouped how, sorted how."""

    period: Period
    group_by: tuple[Dimension, ...] = ()
    filters: MetricFilters = field(default_factory=MetricFilters)
    compare: bool = False
    order_by: str | None = None  # a metric or dimension name, "-" for descending
    limit: int | None = None
    offset: int = 0
