"""Query filters for the campaign API. Unknown choice values are a 400 listing the valid ones."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from adplatform.api.filters import ChoiceFilter, IdFilter
from campaigns.models import Ad, AdAccount, AdGroup, Campaign, DeliveryStatus, Platform


class AdAccountFilter(filters.FilterSet):
    platform = ChoiceFilter(choices=Platform.choices)

    class Meta:
        model = AdAccount
        fields = ["platform", "status"]


class CampaignFilter(filters.FilterSet):
    platform = ChoiceFilter(field_name="ad_account__platform", choices=Platform.choices)
    status = ChoiceFilter(choices=DeliveryStatus.choices)
    ad_account = IdFilter(field_name="ad_account_id")
    search = filters.CharFilter(method="filter_search", label="Name, external id or account name")
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Campaign
        fields = ["platform", "status", "ad_account", "objective"]

    def filter_search(
        self, queryset: QuerySet[Campaign], name: str, value: str
    ) -> QuerySet[Campaign]:
        return queryset.filter(
            Q(name__icontains=value) | Q(external_id=value) | Q(ad_account__name__icontains=value)
        )


class AdGroupFilter(filters.FilterSet):
    campaign = IdFilter(field_name="campaign_id")
    status = ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = AdGroup
        fields = ["campaign", "status"]


class AdFilter(filters.FilterSet):
    campaign = IdFilter(field_name="campaign_id")
    ad_group = IdFilter(field_name="ad_group_id")
    status = ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = Ad
        fields = ["campaign", "ad_group", "status"]
