"""How settled recent data is: a maturity curve per ad account, learned from the sync's own
restatement history (`campaigns.MetricRestatement`).

Platforms restate recent days as late conversions arrive. For each ad account, over the
days of the learning period, we replay what was known of each day at a given age (hours
after the day ended) and compare it with what is known now: the share of a day's
conversions (and of its revenue) already reported at that age. A day never restated was
reported settled from the start; before a day's first report we count its first report
(the curve measures restatements, not sync delays).

The engine uses the curve two ways (see `automation.schema.LateData`): "settled" drops
days younger than N hours from a condition's window, "corrected" divides each young day's
conversions and revenue by the share usually reported at its age.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Sum

from adplatform.models import Organization
from campaigns.models import CampaignDailyMetric, DailyMetric, MetricRestatement

# Ages (hours after the end of the day) at which the share is learned; past the last one
# a day counts as settled.
AGES = (0, 3, 6, 12, 24, 36, 48, 72, 120, 168)
LEARNING_DAYS = 28
# Below this a correction would multiply noise: a share is never taken under 10 %.
MIN_SHARE = Decimal("0.1")
ONE = Decimal(1)


@dataclass(frozen=True)
class Curve:
    """Share of conversions and revenue reported at each age in `AGES` (1 = settled)."""

    conversions: tuple[Decimal, ...] = tuple(ONE for _ in AGES)
    revenue: tuple[Decimal, ...] = tuple(ONE for _ in AGES)
    days_learned: int = 0

    def share(self, measure: str, age_hours: float) -> Decimal:
        """The share reported at `age_hours`: the value learned at the last age reached
        (conservative between two ages); a day still running counts as age 0."""
        if age_hours >= AGES[-1]:
            return ONE
        shares = self.conversions if measure == "conversions" else self.revenue
        index = max(i for i, age in enumerate(AGES) if age <= max(age_hours, 0))
        return max(shares[index], MIN_SHARE)


@dataclass(frozen=True)
class Maturity:
    """The curves of the accounts a pass judges, and the moment ages are measured at."""

    now: dt.datetime
    time_zone: str = "UTC"
    curves: dict[int, Curve] = field(default_factory=dict)
    # When the judged values were reported, if not `now`: a preview over stored values
    # judges a past moment with values known today, so their age counts from today.
    known_at: dt.datetime | None = None

    def day_end(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time.min, ZoneInfo(self.time_zone)
        )

    def age_hours(self, day: dt.date) -> float:
        """How old the values of `day` are: hours from its end to when they were known."""
        return ((self.known_at or self.now) - self.day_end(day)).total_seconds() / 3600

    def share(self, ad_account_id: int, day: dt.date, measure: str) -> Decimal:
        return self.curves.get(ad_account_id, Curve()).share(measure, self.age_hours(day))

    def last_settled_day(self, hours: int) -> dt.date:
        """The last day that had ended `hours` before `now` (the moment judged)."""
        local = (self.now - dt.timedelta(hours=hours)).astimezone(ZoneInfo(self.time_zone))
        return local.date() - dt.timedelta(days=1)


def learn_curves(
    organization: Organization,
    *,
    ad_account_ids: Iterable[int],
    now: dt.datetime,
    days: int = LEARNING_DAYS,
) -> dict[int, Curve]:
    """Each account's curve from its restatements over the last `days` settled days
    (three queries, whatever the number of accounts, campaigns and restatements)."""
    accounts = set(ad_account_ids)
    tz = ZoneInfo(organization.time_zone or "UTC")
    # Only days whose whole curve can be observed: ended at least the last age ago.
    last = (now - dt.timedelta(hours=AGES[-1])).astimezone(tz).date() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=days - 1)
    finals: dict[int, dict[dt.date, tuple[Decimal, Decimal]]] = defaultdict(dict)
    for account_id, day, conversions, revenue in (
        CampaignDailyMetric.objects.filter(
            organization=organization, ad_account_id__in=accounts, date__range=(first, last)
        )
        .values_list("ad_account_id", "date")
        .annotate(Sum("conversions"), Sum("conversion_value"))
        .order_by()
    ):
        finals[account_id][day] = (conversions or Decimal(0), revenue or Decimal(0))
    restated: dict[tuple[int, int, int | None, dt.date], list[MetricRestatement]] = defaultdict(
        list
    )
    for row in MetricRestatement.objects.filter(
        organization=organization, ad_account_id__in=accounts, date__range=(first, last)
    ).order_by("seen_at"):
        restated[(row.ad_account_id, row.campaign_id, row.ad_id, row.date)].append(row)
    current = {
        (fact.ad_account_id, fact.campaign_id, fact.ad_id, fact.date): fact
        for fact in DailyMetric.objects.filter(
            organization=organization, ad_account_id__in=accounts, date__range=(first, last),
            campaign_id__in={key[1] for key in restated},
        )
    }  # fmt: skip
    # deficit[account][age] = (conversions, revenue) not yet reported at that age, summed.
    deficits: dict[int, list[list[Decimal]]] = defaultdict(
        lambda: [[Decimal(0), Decimal(0)] for _ in AGES]
    )
    for key, rows in restated.items():
        fact = current.get(key)
        if fact is None:
            continue
        account_id, _, _, day = key
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)
        for index, age in enumerate(AGES):
            moment = end + dt.timedelta(hours=age)
            known = next((r for r in rows if r.seen_at <= moment < r.replaced_at), None)
            if known is None and moment < rows[0].seen_at:
                known = rows[0]
            if known is None:
                continue  # settled by then: the current values were known
            deficits[account_id][index][0] += fact.conversions - known.conversions
            deficits[account_id][index][1] += fact.conversion_value - known.conversion_value
    curves: dict[int, Curve] = {}
    for account_id in accounts:
        days_known = finals.get(account_id, {})
        total_conversions = sum((c for c, _ in days_known.values()), Decimal(0))
        total_revenue = sum((r for _, r in days_known.values()), Decimal(0))
        missing = deficits.get(account_id)
        if not days_known or missing is None:
            curves[account_id] = Curve(days_learned=len(days_known))
            continue
        curves[account_id] = Curve(
            conversions=tuple(_share(total_conversions, m[0]) for m in missing),
            revenue=tuple(_share(total_revenue, m[1]) for m in missing),
            days_learned=len(days_known),
        )
    return curves


def _share(total: Decimal, missing: Decimal) -> Decimal:
    if total <= 0:
        return ONE
    return min(ONE, max(Decimal(0), (total - missing) / total)).quantize(Decimal("0.0001"))


def maturity_for(
    organization: Organization, *, ad_account_ids: Iterable[int], now: dt.datetime
) -> Maturity:
    return Maturity(
        now=now,
        time_zone=organization.time_zone or "UTC",
        curves=learn_curves(organization, ad_account_ids=ad_account_ids, now=now),
    )


def settledness(
    maturity: Maturity, ad_account_ids: Iterable[int], days: Iterable[dt.date]
) -> list[dict[str, object]]:
    """For the builder and the preview: how settled each account's recent days are."""
    lines: list[dict[str, object]] = []
    for account_id in sorted(set(ad_account_ids)):
        curve = maturity.curves.get(account_id, Curve())
        for day in days:
            share = maturity.share(account_id, day, "conversions")
            lines.append({
                "ad_account_id": account_id, "date": day.isoformat(),
                "conversions_settled_pct": str((share * 100).quantize(Decimal(1))),
                "revenue_settled_pct": str(
                    (maturity.share(account_id, day, "revenue") * 100).quantize(Decimal(1))
                ),
                "days_learned": curve.days_learned,
            })  # fmt: skip
    return lines
