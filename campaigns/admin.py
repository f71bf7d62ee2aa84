from __future__ import annotations

from typing import Any

from django.contrib import admin

from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    Audience,
    Campaign,
    CampaignDailyMetric,
    Creative,
    DailyMetric,
)
from campaigns.templatetags.campaign_format import money


def money_column(field: str, label: str) -> Any:
    """A read-only list column showing a Decimal amount in the account's currency."""

    @admin.display(description=label, ordering=field)
    def column(self: Any, obj: Any) -> str:
        account = obj if isinstance(obj, AdAccount) else obj.ad_account
        return money(getattr(obj, field), account.currency)

    return column


@admin.register(AdAccount)
class AdAccountAdmin(admin.ModelAdmin[AdAccount]):
    list_display = [
        "name",
        "platform",
        "external_id",
        "organization",
        "currency",
        "time_zone",
        "status",
    ]
    list_filter = ["platform", "status", "organization"]
    search_fields = ["name", "external_id", "organization__name"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    list_display = [
        "name",
        "platform_name",
        "status",
        "daily_budget_display",
        "lifetime_budget_display",
        "organization",
    ]
    list_filter = ["ad_account__platform", "status", "objective", "organization"]
    search_fields = ["name", "external_id", "ad_account__name"]
    list_select_related = ["ad_account", "organization"]
    raw_id_fields = ["ad_account"]
    # Live campaign values change only through campaigns.services, which also tells the platform.
    readonly_fields = ["status", "daily_budget", "lifetime_budget", "bid_amount", "bid_strategy"]

    daily_budget_display = money_column("daily_budget", "Daily budget")
    lifetime_budget_display = money_column("lifetime_budget", "Lifetime budget")

    @admin.display(description="Platform", ordering="ad_account__platform")
    def platform_name(self, obj: Campaign) -> str:
        return obj.ad_account.get_platform_display()


@admin.register(AdGroup)
class AdGroupAdmin(admin.ModelAdmin[AdGroup]):
    list_display = ["name", "campaign", "status", "organization"]
    list_filter = ["status", "campaign__ad_account__platform", "organization"]
    search_fields = ["name", "external_id", "campaign__name"]
    raw_id_fields = ["campaign"]


@admin.register(Creative)
class CreativeAdmin(admin.ModelAdmin[Creative]):
    list_display = ["__str__", "format", "ad_account", "organization"]
    list_filter = ["format", "ad_account__platform", "organization"]
    search_fields = ["name", "headline", "body", "external_id"]
    raw_id_fields = ["ad_account"]


@admin.register(Ad)
class AdAdmin(admin.ModelAdmin[Ad]):
    list_display = ["name", "campaign", "status", "organization"]
    list_filter = ["status", "campaign__ad_account__platform", "organization"]
    search_fields = ["name", "external_id", "campaign__name"]
    raw_id_fields = ["ad_group", "campaign", "creative"]


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin[Audience]):
    list_display = ["name", "kind", "approximate_size", "ad_account", "organization"]
    list_filter = ["kind", "ad_account__platform", "organization"]
    search_fields = ["name", "external_id"]
    raw_id_fields = ["ad_account"]


class MetricAdmin(admin.ModelAdmin[Any]):
    """Metrics are written by the sync; the admin only shows them."""

    date_hierarchy = "date"
    list_select_related = ["campaign", "ad_account"]
    raw_id_fields = ["campaign", "ad_account"]
    spend_display = money_column("spend", "Spend")
    revenue_display = money_column("conversion_value", "Revenue")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(DailyMetric)
class DailyMetricAdmin(MetricAdmin):
    list_display = [
        "date",
        "campaign",
        "ad",
        "impressions",
        "clicks",
        "spend_display",
        "conversions",
        "revenue_display",
    ]
    list_filter = ["ad_account__platform", "organization"]
    search_fields = ["campaign__name", "ad__name"]


@admin.register(CampaignDailyMetric)
class CampaignDailyMetricAdmin(MetricAdmin):
    list_display = [
        "date",
        "campaign",
        "platform",
        "impressions",
        "clicks",
        "spend_display",
        "conversions",
        "revenue_display",
    ]
    list_filter = ["platform", "organization"]
    search_fields = ["campaign__name"]
