from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from analytics.models import (
    AccountDailyMetric,
    ExchangeRate,
    Insight,
    InsightRun,
    SavedDashboard,
    ScheduledReport,
)
from analytics.services.reports import send_report
from analytics.tasks import compute_insights_task


@admin.register(Insight)
class InsightAdmin(admin.ModelAdmin[Insight]):
    list_display = ["title", "organization", "kind", "severity", "metric", "confidence", "period_end", "is_dismissed"]  # fmt: skip
    list_filter = ["kind", "severity", "is_dismissed", "organization"]
    search_fields = ["title", "summary", "fingerprint"]
    raw_id_fields = ["campaign", "run"]
    readonly_fields = ["fingerprint", "evidence", "confidence", "created_at", "updated_at"]


@admin.register(InsightRun)
class InsightRunAdmin(admin.ModelAdmin[InsightRun]):
    list_display = ["id", "organization", "trigger", "status", "as_of", "insights_created", "insights_updated", "started_at", "finished_at"]  # fmt: skip
    list_filter = ["status", "trigger", "organization"]
    readonly_fields = [f.name for f in InsightRun._meta.fields]
    actions = ["recompute"]

    @admin.action(description="Recompute insights for these organizations now")
    def recompute(self, request: HttpRequest, queryset: QuerySet[InsightRun]) -> None:
        organization_ids = set(queryset.values_list("organization_id", flat=True))
        for organization_id in organization_ids:
            compute_insights_task.delay(organization_id, trigger="admin")
        self.message_user(request, f"Queued {len(organization_ids)} computation(s).")


@admin.register(SavedDashboard)
class SavedDashboardAdmin(admin.ModelAdmin[SavedDashboard]):
    list_display = ["name", "organization", "is_default", "created_by", "updated_at"]
    list_filter = ["is_default", "organization"]


@admin.register(ScheduledReport)
class ScheduledReportAdmin(admin.ModelAdmin[ScheduledReport]):
    list_display = ["name", "organization", "frequency", "format", "is_active", "next_run_at", "last_sent_at"]  # fmt: skip
    list_filter = ["frequency", "format", "is_active", "organization"]
    actions = ["send_now"]

    @admin.action(description="Send now (last full period)")
    def send_now(self, request: HttpRequest, queryset: QuerySet[ScheduledReport]) -> None:
        for scheduled in queryset.select_related("organization"):
            send_report(scheduled=scheduled)
        self.message_user(request, f"Sent {queryset.count()} report(s).", messages.SUCCESS)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin[ExchangeRate]):
    list_display = ["organization", "currency", "rate", "updated_at"]
    list_filter = ["organization", "currency"]


@admin.register(AccountDailyMetric)
class AccountDailyMetricAdmin(admin.ModelAdmin[AccountDailyMetric]):
    """Read-only: the write path owns this rollup."""

    list_display = ["date", "ad_account", "platform", "impressions", "clicks", "spend", "conversions"]  # fmt: skip
    list_filter = ["platform", "organization"]
    date_hierarchy = "date"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
