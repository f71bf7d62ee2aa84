"""Ad accounts and their structure (campaigns, ad groups, ads, creatives), and daily metrics.

Every row carries `organization` (denormalized below the account) so that scoping is
one indexed filter and never a join. Money is Decimal in the account's currency.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from adplatform.models import Organization, validate_time_zone
from integrations.vocabulary import BidStrategy, DeliveryStatus, Objective, Platform

__all__ = ["BidStrategy", "DeliveryStatus", "Objective", "Platform"]  # re-exported


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"
    PENDING = "pending", "Pending review"
    CLOSED = "closed", "Closed"


class AdAccount(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    currency = models.CharField(max_length=3, default="USD")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    status = models.CharField(
        max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "external_id"], name="unique_ad_account"
            ),
        ]
        ordering = ["platform", "name"]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name}"


class Campaign(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="campaigns")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    objective = models.CharField(max_length=32, choices=Objective.choices, default=Objective.SALES)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.ACTIVE
    )
    daily_budget = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    lifetime_budget = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    bid_strategy = models.CharField(
        max_length=32, choices=BidStrategy.choices, default=BidStrategy.LOWEST_COST
    )
    bid_amount = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ad_account", "external_id"], name="unique_campaign_per_account"
            ),
            models.CheckConstraint(
                condition=models.Q(daily_budget__isnull=True) | models.Q(daily_budget__gte=0),
                name="campaign_daily_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(lifetime_budget__isnull=True) | models.Q(lifetime_budget__gte=0),
                name="campaign_lifetime_budget_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def platform(self) -> str:
        return self.ad_account.platform

    @property
    def currency(self) -> str:
        return self.ad_account.currency


class AdGroup(models.Model):
    """The platform's ad set (Meta), ad group (Google, TikTok), campaign (LinkedIn) or line item (X)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="ad_groups")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.ACTIVE
    )
    daily_budget = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    bid_amount = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    targeting = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "external_id"], name="unique_ad_group_per_campaign"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CreativeFormat(models.TextChoices):
    IMAGE = "image", "Single image"
    VIDEO = "video", "Video"
    CAROUSEL = "carousel", "Carousel"
    TEXT = "text", "Text / search"
    STORY = "story", "Story / vertical"
    COLLECTION = "collection", "Collection"


class Creative(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="creatives")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    headline = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    call_to_action = models.CharField(max_length=64, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    video_url = models.URLField(max_length=1000, blank=True)
    format = models.CharField(
        max_length=16, choices=CreativeFormat.choices, default=CreativeFormat.IMAGE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ad_account", "external_id"], name="unique_creative_per_account"
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.headline or self.external_id


class Ad(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_group = models.ForeignKey(AdGroup, on_delete=models.CASCADE, related_name="ads")
    # Denormalized from the ad group: metric rows and filters reach the campaign directly.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="ads")
    creative = models.ForeignKey(
        Creative, null=True, blank=True, on_delete=models.SET_NULL, related_name="ads"
    )
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ad_group", "external_id"], name="unique_ad_per_group"),
        ]
        indexes = [models.Index(fields=["organization", "status"])]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AudienceKind(models.TextChoices):
    CUSTOM = "custom", "Custom"
    LOOKALIKE = "lookalike", "Lookalike"
    SAVED = "saved", "Saved / interest"
    RETARGETING = "retargeting", "Retargeting"


class Audience(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="audiences")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=AudienceKind.choices, default=AudienceKind.SAVED)
    approximate_size = models.BigIntegerField(null=True, blank=True)
    definition = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ad_account", "external_id"], name="unique_audience_per_account"
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MetricValues(models.Model):
    """The measures every metric table shares; ratios are derived from these sums on read."""

    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    spend = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    # Platforms attribute fractional conversions (data-driven attribution), hence Decimal.
    conversions = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    conversion_value = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    video_views = models.BigIntegerField(default=0)
    reach = models.BigIntegerField(null=True, blank=True)
    frequency = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)

    class Meta:
        abstract = True


class DailyMetric(MetricValues):
    """The fact table: one row per ad per day, or per campaign per day where a platform
    reports no ad-level data. `date` is the day in the ad account's time zone.

    A campaign-day is stored at one grain only; the sync's write path keeps it so.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="daily_metrics")
    ad_group = models.ForeignKey(
        AdGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ad = models.ForeignKey(
        Ad, null=True, blank=True, on_delete=models.CASCADE, related_name="daily_metrics"
    )
    date = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ad", "date"],
                condition=models.Q(ad__isnull=False),
                name="unique_ad_day_metric",
            ),
            models.UniqueConstraint(
                fields=["campaign", "date"],
                condition=models.Q(ad__isnull=True),
                name="unique_campaign_day_metric",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "date"], name="dailymetric_org_date"),
            models.Index(fields=["campaign", "date"], name="dailymetric_campaign_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} ad={self.ad_id} campaign={self.campaign_id}"


class CampaignDailyMetric(MetricValues):
    """Campaign-day rollup of `DailyMetric`, maintained by the write path for fast reads."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="campaign_daily_metrics"
    )
    # Copied from the account so dashboards group by platform without a join.
    platform = models.CharField(max_length=16, choices=Platform.choices)
    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "date"], name="unique_campaign_day_rollup"),
        ]
        indexes = [
            models.Index(fields=["organization", "date"], name="campaignday_org_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} campaign={self.campaign_id}"


class SegmentDimension(models.TextChoices):
    AGE = "age", "Age"
    GENDER = "gender", "Gender"
    PLACEMENT = "placement", "Placement"
    DEVICE = "device", "Device"
    COUNTRY = "country", "Country"


class SegmentDailyMetric(models.Model):
    """A campaign-day broken down by one audience dimension (e.g. age = "25-34")."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="segment_daily_metrics"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    date = models.DateField()
    dimension = models.CharField(max_length=16, choices=SegmentDimension.choices)
    value = models.CharField(max_length=64)
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    spend = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    conversions = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    conversion_value = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "date", "dimension", "value"], name="unique_segment_day"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "dimension", "date"], name="segmentday_org_dim_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} campaign={self.campaign_id} {self.dimension}={self.value}"
