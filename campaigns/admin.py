from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    Audience,
    Campaign,
    CampaignChange,
    CampaignDailyMetric,
    Creative,
    DailyMetric,
    MetricRestatement,
    SyncRun,
)
from campaigns.tasks import sync_connection_task
from campaigns.templatetags.campaign_format import money
from integrations.models import Connection


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
        "connection",
        "metrics_synced_until",
    ]
    list_filter = ["platform", "status", "organization"]
    raw_id_fields = ["connection"]
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


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin[Connection]):
    """Connections with their health. Tokens are never shown: not a field, not a column."""

    list_display = [
        "__str__", "organization", "platform", "connector", "status", "last_synced_at",
        "resume_at",
    ]  # fmt: skip
    list_filter = ["status", "platform", "connector", "organization"]
    search_fields = ["name", "organization__name"]
    # An explicit list, so a secret field can never appear by default.
    fields = [
        "organization", "platform", "connector", "name", "status", "status_detail",
        "resume_at", "expires_at", "scope", "extra", "created_by", "created_at",
        "last_synced_at",
    ]  # fmt: skip
    readonly_fields = [
        "organization", "platform", "connector", "status", "status_detail", "expires_at",
        "scope", "created_by", "created_at", "last_synced_at",
    ]  # fmt: skip
    actions = ["sync_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # connections come from the OAuth flow or `manage.py connect`

    @admin.action(description="Sync now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for connection_id in ids:
            transaction.on_commit(
                partial(
                    sync_connection_task.delay,
                    connection_id,
                    trigger="admin",
                    requested_by=f"user:{request.user.pk}",
                )
            )
        self.message_user(request, f"Sync queued for {len(ids)} connection(s).", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at", "connection", "kind", "status", "trigger", "rows", "restated_rows",
        "attempts", "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "kind", "trigger", "organization"]
    list_select_related = ["connection"]
    date_hierarchy = "started_at"


@admin.register(CampaignChange)
class CampaignChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "requested_at", "campaign", "level", "ad_group", "ad", "kind", "status", "actor_kind",
        "actor_label", "error_code",
    ]  # fmt: skip
    list_filter = ["level", "kind", "status", "actor_kind", "organization"]
    search_fields = ["campaign__name", "ad__name", "ad_group__name", "actor_label", "reason"]
    list_select_related = ["campaign", "ad_group", "ad"]
    date_hierarchy = "requested_at"


@admin.register(MetricRestatement)
class MetricRestatementAdmin(ReadOnlyAdmin):
    list_display = ["date", "campaign", "ad", "conversions", "seen_at", "replaced_at"]
    list_filter = ["ad_account__platform", "organization"]
    list_select_related = ["campaign", "ad"]
    raw_id_fields = ["campaign", "ad", "ad_account", "sync_run"]
    date_hierarchy = "date"
