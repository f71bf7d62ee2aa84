"""Ad accounts and their structure (campaigns, ad groups, ads, creatives), and daily metrics.

Every row carries `organization` (denormalized below the account) so that scoping is
one indexed filter and never a join. Money is Decimal in the account's currency.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from adplatform.models import ApiKey, Organization, validate_time_zone
from integrations.models import Connection
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
    # The authorization the sync reads this account through; None for an account whose
    # connection was removed (its data stays).
    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ad_accounts",
    )
    # The last day whose metrics a sync has read; the next one re-reads a lookback before it.
    metrics_synced_until = models.DateField(null=True, blank=True)
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

    The foreign keys are not database constraints: per-row constraint triggers cost more
    than the insert itself at a million rows. The only writer, the metrics write path,
    checks every batch set-based instead (and more strictly: ad, group, campaign, account
    and organization must agree); deletes cascade through the ORM as before.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    ad_account = models.ForeignKey(
        AdAccount, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="daily_metrics", db_constraint=False
    )
    ad_group = models.ForeignKey(
        AdGroup,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    ad = models.ForeignKey(
        Ad,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="daily_metrics",
        db_constraint=False,
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


class MetricRestatement(MetricValues):
    """Values a sync replaced: what a `DailyMetric` row said from `seen_at` until `replaced_at`.

    Platforms restate recent days (late conversions); keeping the earlier values tells how
    settled recent data is and lets a reader replay what was known at a past moment (see
    `campaigns.selectors.daily_metrics_as_known_at`).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    ad = models.ForeignKey(Ad, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    seen_at = models.DateTimeField()
    replaced_at = models.DateTimeField()
    sync_run = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["organization", "date"], name="restatement_org_date"),
            models.Index(fields=["campaign", "date"], name="restatement_campaign_date"),
        ]
        ordering = ["date", "replaced_at"]

    def __str__(self) -> str:
        return f"{self.date} campaign={self.campaign_id} ad={self.ad_id} until {self.replaced_at}"


class SyncKind(models.TextChoices):
    STRUCTURE = "structure", "Structure"
    METRICS = "metrics", "Metrics"
    FULL = "full", "Structure and metrics"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    PAUSED = "paused", "Paused until the platform's quota resets"


class SyncRun(models.Model):
    """One sync of one connection. `cursor` is where to continue if the run stops early."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=16, choices=SyncKind.choices, default=SyncKind.FULL)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    trigger = models.CharField(max_length=16, default="schedule")  # schedule/manual/api/admin...
    requested_by = models.CharField(max_length=100, blank=True)
    # An explicit first day (`sync --since`); otherwise each account's lookback decides.
    since = models.DateField(null=True, blank=True)
    cursor = models.JSONField(default=dict, blank=True)
    rows = models.BigIntegerField(default=0)
    restated_rows = models.BigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=1)
    # False after a permanent error: continuing from the cursor would fail the same way.
    is_resumable = models.BooleanField(default=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one run works on a connection at a time: the claim.
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(status="running"),
                name="one_running_sync_per_connection",
            ),
        ]
        indexes = [models.Index(fields=["organization", "started_at"])]
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync of {self.connection_id} ({self.status})"


class ChangeKind(models.TextChoices):
    CREATE = "create", "Create"
    PAUSE = "pause", "Pause"
    ACTIVATE = "activate", "Activate"
    DAILY_BUDGET = "daily_budget", "Set daily budget"
    LIFETIME_BUDGET = "lifetime_budget", "Set lifetime budget"
    BID = "bid", "Set bid"
    ARCHIVE = "archive", "Archive"
    # Changes one level down (the change's `level` says which, `ad` / `ad_group` which one).
    AD_PAUSE = "ad_pause", "Pause ad"
    AD_ACTIVATE = "ad_activate", "Activate ad"
    EXPAND_AUDIENCE = "expand_audience", "Expand ad group audience"


class ChangeLevel(models.TextChoices):
    CAMPAIGN = "campaign", "Campaign"
    AD_GROUP = "ad_group", "Ad group"
    AD = "ad", "Ad"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPLYING = "applying", "Applying"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    # Compare-and-set: the live value was not the one the requester expected.
    CONFLICT = "conflict", "Conflict"
    DRY_RUN = "dry_run", "Dry run (not applied)"


class ActorKind(models.TextChoices):
    USER = "user", "User"
    API_KEY = "api_key", "API key"
    RULE = "rule", "Rule"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


class CampaignChange(models.Model):
    """One requested change to a live campaign, or to one of its ad groups or ads: who
    asked, what it was before and after, and what the platform answered. Every actor's
    changes pass through campaigns.services. `campaign` is always the campaign concerned
    (the parent for ad-group and ad changes), so a campaign's history includes them."""

    # A rules pass records thousands of these: no index the composite ones below cover.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="+")
    # Empty only for a create the platform refused.
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="changes",
        db_index=False,
    )  # fmt: skip
    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    level = models.CharField(
        max_length=16, choices=ChangeLevel.choices, default=ChangeLevel.CAMPAIGN
    )
    ad_group = models.ForeignKey(
        AdGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )
    ad = models.ForeignKey(
        Ad, null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )
    params = models.JSONField(default=dict, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    # Compare-and-set: apply only if the live values equal these.
    expected_before = models.JSONField(null=True, blank=True)
    platform_response = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ChangeStatus.choices, default=ChangeStatus.PENDING
    )
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=200)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    # Scoped by organization on write ("<org id>:<key>"), so two tenants never collide.
    # Unique by a constraint (not `unique=True`, which on PostgreSQL adds a second index
    # for LIKE queries that nothing makes).
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    is_dry_run = models.BooleanField(default=False)
    # For the automation work: what the guardrails decided, and the change this one undoes.
    guardrail_verdict = models.JSONField(default=dict, blank=True)
    undoes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undone_by"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="campaignchange_unique_key"),
        ]
        indexes = [
            models.Index(fields=["organization", "requested_at"]),
            models.Index(fields=["campaign", "requested_at"]),
        ]
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        target = f"campaign={self.campaign_id}"
        if self.level == ChangeLevel.AD:
            target = f"ad={self.ad_id}"
        elif self.level == ChangeLevel.AD_GROUP:
            target = f"ad_group={self.ad_group_id}"
        return f"{self.get_kind_display()} {target} by {self.actor_label}"
