"""Analytics data: the account-day rollup, exchange rates, insights, saved dashboards, reports.

Metric facts themselves live in `campaigns` (ad-day, campaign-day, segment-day); this app
adds the coarsest rollup, which organization-wide dashboards read, and what is derived
from the metrics.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.http import urlencode

from adplatform.models import Organization
from campaigns.models import AdAccount, Campaign, MetricValues, Platform


class AccountDailyMetric(MetricValues):
    """Account-day rollup of `CampaignDailyMetric`, kept by the metrics write path.

    Organization-wide totals, trends and platform/account breakdowns read this table:
    an agency's year is accounts x 365 rows instead of campaigns x 365.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ad_account", "date"], name="unique_account_day_rollup"
            ),
        ]
        indexes = [models.Index(fields=["organization", "date"], name="accountday_org_date")]

    def __str__(self) -> str:
        return f"{self.date} account={self.ad_account_id}"


class ExchangeRate(models.Model):
    """How many units of the organization's currency one unit of `currency` is worth.

    One rate per currency, set by the agency (finance usually fixes a monthly rate). An
    account in a currency with no rate is left out of money totals, with a warning.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3, help_text="ISO 4217 code of the account currency.")
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "currency"], name="unique_exchange_rate"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]
        ordering = ["currency"]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate}"


class InsightKind(models.TextChoices):
    ANOMALY = "anomaly", "Anomaly"
    TREND = "trend", "Trend"
    OPPORTUNITY = "opportunity", "Opportunity"
    FORECAST = "forecast", "Forecast"
    PACING = "pacing", "Budget pacing"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


SEVERITY_RANK: dict[str, int] = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
}


class InsightRun(models.Model):
    """One computation of insights for an organization (after a sync, on demand, on schedule)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=32, default="on_demand")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    as_of = models.DateField(help_text="The last complete day the run looked at.")
    insights_created = models.PositiveIntegerField(default=0)
    insights_updated = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-id"], name="insightrun_org_recent")]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"insights for {self.organization_id} as of {self.as_of} ({self.status})"


class Insight(models.Model):
    """A finding with its evidence: the numbers, the series and the method that produced it.

    `fingerprint` names the finding (kind, subject, metric, day), so recomputing updates
    the same row instead of piling up duplicates.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(
        InsightRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights"
    )
    kind = models.CharField(max_length=16, choices=InsightKind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO)
    metric = models.CharField(max_length=32, blank=True)
    title = models.CharField(max_length=255)
    summary = models.TextField(blank=True)
    # Probability-like score from the method's statistic (1 - p-value, or interval
    # coverage), never a hand-set number.
    confidence = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal(0))
    evidence = models.JSONField(default=dict, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    fingerprint = models.CharField(max_length=200)
    is_dismissed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fingerprint"], name="unique_insight_fingerprint"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="insight_org_recent"),
            models.Index(fields=["organization", "kind", "severity"], name="insight_org_kind"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def confidence_label(self) -> str:
        value = float(self.confidence)
        return ">99.9%" if value > 0.999 else f"{value:.1%}"

    @property
    def chart_url(self) -> str:
        """The dashboard showing this insight's metric, narrowed to its campaign."""
        query: dict[str, str] = {}
        if self.campaign_id:
            query["campaign"] = str(self.campaign_id)
        if self.metric:
            query["metric"] = self.metric
        if self.period_start and self.period_end:
            query.update(
                preset="custom",
                start=self.period_start.isoformat(),
                end=self.period_end.isoformat(),
            )
        return f"{reverse('analytics:dashboard')}?{urlencode(query)}#trend"


class SavedDashboard(models.Model):
    """A named set of dashboard choices (metrics, charts, filters) an organization keeps."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, blank=True)
    is_default = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_saved_dashboard_name"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default=True),
                name="one_default_dashboard",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly (last 7 days, Mondays)"
    MONTHLY = "monthly", "Monthly (last month, on the 1st)"


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    HTML = "html", "HTML"
    XLSX = "xlsx", "Excel (XLSX)"


class ScheduledReport(models.Model):
    """A client report emailed on a schedule; the hourly beat task sends the due ones."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    frequency = models.CharField(max_length=16, choices=ReportFrequency.choices)
    format = models.CharField(max_length=8, choices=ReportFormat.choices, default=ReportFormat.PDF)
    recipients = models.JSONField(default=list, help_text="Email addresses.")
    is_active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["is_active", "next_run_at"], name="report_due")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
