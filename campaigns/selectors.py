"""Reads of ad accounts and their structure; the organization always comes first."""

from __future__ import annotations

import datetime as dt
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
from campaigns.models import Ad, AdAccount, AdGroup, Campaign, CampaignDailyMetric, Creative

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
