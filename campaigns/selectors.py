"""Reads of ad accounts and their structure; the organization always comes first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf

from adplatform.models import Organization
from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    Campaign,
    CampaignChange,
    CampaignDailyMetric,
    Creative,
    DailyMetric,
    MetricRestatement,
    SyncRun,
)
from integrations.models import Connection

_ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=4))

CAMPAIGN_SORTS = {
    "name": "name",
    "platform": "ad_account__platform",
    "status": "status",
    "daily_budget": "daily_budget",
    "spend": "period_spend",
    "conversions": "period_conversions",
    "roas": "period_roas",
    "updated": "updated_at",
}


def list_ad_accounts(
    organization: Organization, *, platform: str | None = None
) -> QuerySet[AdAccount]:
    accounts = AdAccount.objects.filter(organization=organization)
    if platform:
        accounts = accounts.filter(platform=platform)
    return accounts


def list_campaigns(
    organization: Organization,
    *,
    platform: str | None = None,
    status: str | None = None,
    ad_account_id: int | None = None,
    search: str | None = None,
) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.filter(organization=organization).select_related("ad_account")
    if platform:
        campaigns = campaigns.filter(ad_account__platform=platform)
    if status:
        campaigns = campaigns.filter(status=status)
    if ad_account_id:
        campaigns = campaigns.filter(ad_account_id=ad_account_id)
    if search:
        campaigns = campaigns.filter(
            Q(name__icontains=search)
            | Q(external_id=search)
            | Q(ad_account__name__icontains=search)
        )
    return campaigns


def with_period_totals(
    campaigns: QuerySet[Campaign], *, start: dt.date, end: dt.date
) -> QuerySet[Campaign]:
    """Annotate spend, conversions, revenue and ROAS over [start, end] from the daily rollup.

    Subqueries rather than a join keep the outer query one row per campaign, so sorting
    and pagination stay plain.
    """
    days = CampaignDailyMetric.objects.filter(
        campaign=OuterRef("pk"), date__gte=start, date__lte=end
    ).values("campaign")

    def total(field: str) -> Coalesce:
        return Coalesce(
            Subquery(days.annotate(total=Sum(field)).values("total")[:1]),
            _ZERO,
        )

    return campaigns.annotate(
        period_spend=total("spend"),
        period_conversions=total("conversions"),
        period_revenue=total("conversion_value"),
    ).annotate(
        period_roas=ExpressionWrapper(
            F("period_revenue") / NullIf(F("period_spend"), _ZERO),
            output_field=DecimalField(max_digits=18, decimal_places=4),
        )
    )


def get_campaign(organization: Organization, *, campaign_id: int) -> Campaign:
    """The campaign, or `Campaign.DoesNotExist` if it is not this organization's."""
    return Campaign.objects.select_related("ad_account").get(
        organization=organization, pk=campaign_id
    )


def list_ad_groups(
    organization: Organization, *, campaign_id: int | None = None
) -> QuerySet[AdGroup]:
    groups = AdGroup.objects.filter(organization=organization).select_related(
        "campaign__ad_account"
    )
    if campaign_id:
        groups = groups.filter(campaign_id=campaign_id)
    return groups


def list_ads(organization: Organization) -> QuerySet[Ad]:
    return Ad.objects.filter(organization=organization).select_related(
        "creative", "ad_group", "campaign__ad_account"
    )


def list_creatives(organization: Organization) -> QuerySet[Creative]:
    return Creative.objects.filter(organization=organization).select_related("ad_account")


def list_campaign_changes(organization: Organization) -> QuerySet[CampaignChange]:
    return CampaignChange.objects.filter(organization=organization).select_related(
        "campaign", "ad_account"
    )


def list_connections(organization: Organization) -> QuerySet[Connection]:
    return Connection.objects.filter(organization=organization).prefetch_related("ad_accounts")


def get_connection(organization: Organization, *, connection_id: int) -> Connection:
    """The connection, or `Connection.DoesNotExist` if it is not this organization's."""
    return Connection.objects.get(organization=organization, pk=connection_id)


def list_sync_runs(organization: Organization) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(organization=organization)


def latest_sync_runs(organization: Organization) -> dict[int, SyncRun]:
    """The newest run of each of the organization's connections, by connection id."""
    latest: dict[int, SyncRun] = {}
    for run in SyncRun.objects.filter(organization=organization).order_by("connection_id", "-pk"):
        latest.setdefault(run.connection_id, run)
    return latest


def daily_metrics_as_known_at(
    organization: Organization,
    *,
    at: dt.datetime,
    start: dt.date,
    end: dt.date,
    campaign_id: int | None = None,
) -> list[KnownMetric]:
    """Replay: each ad-day (or campaign-day) as the platform reported it at moment `at`.

    Current values count from their row's `updated_at` (when a sync first stored them);
    a restatement's values count from its `seen_at` until its `replaced_at`. Days not yet
    synced at `at` are absent.
    """
    facts = DailyMetric.objects.filter(organization=organization, date__range=(start, end))
    restated = MetricRestatement.objects.filter(
        organization=organization, date__range=(start, end), seen_at__lte=at, replaced_at__gt=at
    )
    if campaign_id is not None:
        facts = facts.filter(campaign_id=campaign_id)
        restated = restated.filter(campaign_id=campaign_id)
    known: dict[tuple[int, int | None, dt.date], KnownMetric] = {}
    for row in restated:
        known[(row.campaign_id, row.ad_id, row.date)] = KnownMetric.of(row)
    for fact in facts.filter(updated_at__lte=at):
        known.setdefault((fact.campaign_id, fact.ad_id, fact.date), KnownMetric.of(fact))
    return sorted(known.values(), key=lambda m: (m.date, m.campaign_id, m.ad_id or 0))


@dataclass(frozen=True)
class KnownMetric:
    campaign_id: int
    ad_id: int | None
    date: dt.date
    impressions: int
    clicks: int
    spend: Decimal
    conversions: Decimal
    conversion_value: Decimal

    @classmethod
    def of(cls, row: DailyMetric | MetricRestatement) -> KnownMetric:
        return cls(
            campaign_id=row.campaign_id,
            ad_id=row.ad_id,
            date=row.date,
            impressions=row.impressions,
            clicks=row.clicks,
            spend=row.spend,
            conversions=row.conversions,
            conversion_value=row.conversion_value,
        )


@dataclass(frozen=True)
class Settlement:
    """How much days `age_days` old still moved when re-read (conversions)."""

    age_days: int
    restatements: int
    mean_conversion_change: Decimal


def restatement_settlement(
    organization: Organization, *, ad_account_id: int | None = None
) -> list[Settlement]:
    """By a day's age when it was re-read: how often and how much its conversions changed.

    Tells how settled recent data is: if days older than 3 never move, a rule should not
    judge the last 3.
    """
    logs = MetricRestatement.objects.filter(organization=organization)
    if ad_account_id is not None:
        logs = logs.filter(ad_account_id=ad_account_id)
    current = {
        (m.campaign_id, m.ad_id, m.date): m.conversions
        for m in DailyMetric.objects.filter(
            organization=organization,
            date__in=logs.values("date"),
            campaign_id__in=logs.values("campaign_id"),
        ).only("campaign_id", "ad_id", "date", "conversions")
    }
    buckets: dict[int, list[Decimal]] = {}
    for row in logs.only("campaign_id", "ad_id", "date", "conversions", "replaced_at"):
        age = (row.replaced_at.date() - row.date).days
        now_value = current.get((row.campaign_id, row.ad_id, row.date), row.conversions)
        buckets.setdefault(age, []).append(abs(now_value - row.conversions))
    return [
        Settlement(
            age_days=age,
            restatements=len(changes),
            mean_conversion_change=sum(changes, Decimal(0)) / len(changes),
        )
        for age, changes in sorted(buckets.items())
    ]
