"""Query filters for the campaign API. Unknown choice values are a 400 listing the valid ones."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from adplatform.api.filters import ChoiceFilter, IdFilter, StrictFilterSet, UtcDateTimeFilter
from campaigns.models import (
    ActorKind,
    Ad,
    AdAccount,
    AdGroup,
    Campaign,
    CampaignChange,
    ChangeKind,
    ChangeLevel,
    ChangeStatus,
    DeliveryStatus,
    Platform,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from integrations.models import Connection, ConnectionStatus


class AdAccountFilter(StrictFilterSet):
    platform = ChoiceFilter(choices=Platform.choices)

    class Meta:
        model = AdAccount
        fields = ["platform", "status"]


class CampaignFilter(StrictFilterSet):
    platform = ChoiceFilter(field_name="ad_account__platform", choices=Platform.choices)
    status = ChoiceFilter(choices=DeliveryStatus.choices)
    ad_account = IdFilter(field_name="ad_account_id")
    search = filters.CharFilter(method="filter_search", label="Name, external id or account name")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Campaign
        fields = ["platform", "status", "ad_account", "objective"]

    def filter_search(
        self, queryset: QuerySet[Campaign], name: str, value: str
    ) -> QuerySet[Campaign]:
        return queryset.filter(
            Q(name__icontains=value) | Q(external_id=value) | Q(ad_account__name__icontains=value)
        )


class AdGroupFilter(StrictFilterSet):
    campaign = IdFilter(field_name="campaign_id")
    status = ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = AdGroup
        fields = ["campaign", "status"]


class AdFilter(StrictFilterSet):
    campaign = IdFilter(field_name="campaign_id")
    ad_group = IdFilter(field_name="ad_group_id")
    status = ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = Ad
        fields = ["campaign", "ad_group", "status"]


class CampaignChangeFilter(StrictFilterSet):
    campaign = IdFilter(field_name="campaign_id")
    ad_account = IdFilter(field_name="ad_account_id")
    ad_group = IdFilter(field_name="ad_group_id")
    ad = IdFilter(field_name="ad_id")
    level = ChoiceFilter(choices=ChangeLevel.choices)
    kind = ChoiceFilter(choices=ChangeKind.choices)
    status = ChoiceFilter(choices=ChangeStatus.choices)
    actor_kind = ChoiceFilter(choices=ActorKind.choices)

    class Meta:
        model = CampaignChange
        fields = ["campaign", "ad_account", "ad_group", "ad", "level", "kind", "status",
                  "actor_kind"]  # fmt: skip


class ConnectionFilter(StrictFilterSet):
    platform = ChoiceFilter(choices=Platform.choices)
    status = ChoiceFilter(choices=ConnectionStatus.choices)

    class Meta:
        model = Connection
        fields = ["platform", "status", "connector"]


class SyncRunFilter(StrictFilterSet):
    connection = IdFilter(field_name="connection_id")
    status = ChoiceFilter(choices=SyncStatus.choices)
    kind = ChoiceFilter(choices=SyncKind.choices)

    class Meta:
        model = SyncRun
        fields = ["connection", "status", "kind"]
