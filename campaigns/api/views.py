from __future__ import annotations

from django.db.models import QuerySet

from adplatform.api.views import ScopedReadOnlyViewSet
from adplatform.models import Organization
from campaigns import selectors
from campaigns.api.filters import AdAccountFilter, AdFilter, AdGroupFilter, CampaignFilter
from campaigns.api.serializers import (
    AdAccountSerializer,
    AdGroupSerializer,
    AdSerializer,
    CampaignSerializer,
)
from campaigns.models import Ad, AdAccount, AdGroup, Campaign


class AdAccountViewSet(ScopedReadOnlyViewSet):
    """Ad accounts connected to the organization, one per platform account."""

    queryset = AdAccount.objects.all()
    serializer_class = AdAccountSerializer
    filterset_class = AdAccountFilter
    ordering_fields = ["id", "name", "platform", "created_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[AdAccount]:
        return selectors.list_ad_accounts(organization)


class CampaignViewSet(ScopedReadOnlyViewSet):
    """Campaigns across every platform, in one shape."""

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    ordering_fields = ["id", "name", "status", "daily_budget", "created_at", "updated_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Campaign]:
        return selectors.list_campaigns(organization)


class AdGroupViewSet(ScopedReadOnlyViewSet):
    """Ad sets / ad groups: the level below a campaign, with its targeting."""

    queryset = AdGroup.objects.all()
    serializer_class = AdGroupSerializer
    filterset_class = AdGroupFilter
    ordering_fields = ["id", "name", "status", "created_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[AdGroup]:
        return selectors.list_ad_groups(organization)


class AdViewSet(ScopedReadOnlyViewSet):
    """Ads with their creative."""

    queryset = Ad.objects.all()
    serializer_class = AdSerializer
    filterset_class = AdFilter
    ordering_fields = ["id", "name", "status", "created_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Ad]:
        return selectors.list_ads(organization)
