"""Reads of insights, saved dashboards and scheduled reports."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Case, IntegerField, QuerySet, Value, When

from adplatform.models import Organization
from analytics.models import (
    SEVERITY_RANK,
    Insight,
    InsightRun,
    SavedDashboard,
    ScheduledReport,
)


def list_insights(
    organization: Organization,
    *,
    kinds: Sequence[str] = (),
    severities: Sequence[str] = (),
    campaign_id: int | None = None,
    include_dismissed: bool = False,
) -> QuerySet[Insight]:
    insights = Insight.objects.filter(organization=organization).select_related(
        "campaign__ad_account"
    )
    if kinds:
        insights = insights.filter(kind__in=kinds)
    if severities:
        insights = insights.filter(severity__in=severities)
    if campaign_id:
        insights = insights.filter(campaign_id=campaign_id)
    if not include_dismissed:
        insights = insights.filter(is_dismissed=False)
    return insights.annotate(
        severity_rank=Case(
            *(When(severity=s, then=Value(rank)) for s, rank in SEVERITY_RANK.items()),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def get_insight(organization: Organization, *, insight_id: int) -> Insight:
    return Insight.objects.select_related("campaign").get(organization=organization, pk=insight_id)


def latest_insight_run(organization: Organization) -> InsightRun | None:
    return InsightRun.objects.filter(organization=organization).order_by("-id").first()


def list_saved_dashboards(organization: Organization) -> QuerySet[SavedDashboard]:
    return SavedDashboard.objects.filter(organization=organization)


def get_saved_dashboard(organization: Organization, *, dashboard_id: int) -> SavedDashboard:
    return SavedDashboard.objects.get(organization=organization, pk=dashboard_id)


def get_default_dashboard(organization: Organization) -> SavedDashboard | None:
    return SavedDashboard.objects.filter(organization=organization, is_default=True).first()


def list_scheduled_reports(organization: Organization) -> QuerySet[ScheduledReport]:
    return ScheduledReport.objects.filter(organization=organization)
