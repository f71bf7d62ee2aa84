"""The words every connector and the rest of the app share: platforms, statuses, objectives.

Each platform's own enums are mapped onto these at the connector boundary.
"""

from __future__ import annotations

from django.db import models


class Platform(models.TextChoices):
    META = "meta", "Meta"
    INSTAGRAM = "instagram", "Instagram"
    GOOGLE = "google", "Google Ads"
    TIKTOK = "tiktok", "TikTok"
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X (Twitter)"
    SNAPCHAT = "snapchat", "Snapchat"
    PINTEREST = "pinterest", "Pinterest"


class DeliveryStatus(models.TextChoices):
    """Our status for campaigns, ad groups and ads; each platform's enums map onto it."""

    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"
    DELETED = "deleted", "Deleted"
    DRAFT = "draft", "Draft"


class Objective(models.TextChoices):
    AWARENESS = "awareness", "Awareness"
    TRAFFIC = "traffic", "Traffic"
    ENGAGEMENT = "engagement", "Engagement"
    LEADS = "leads", "Leads"
    APP_PROMOTION = "app_promotion", "App promotion"
    SALES = "sales", "Sales"
    VIDEO_VIEWS = "video_views", "Video views"
    OTHER = "other", "Other"


class BidStrategy(models.TextChoices):
    LOWEST_COST = "lowest_cost", "Lowest cost (automatic)"
    COST_CAP = "cost_cap", "Cost cap"
    BID_CAP = "bid_cap", "Bid cap"
    TARGET_CPA = "target_cpa", "Target CPA"
    TARGET_ROAS = "target_roas", "Target ROAS"
    MANUAL_CPC = "manual_cpc", "Manual CPC"
    MANUAL_CPM = "manual_cpm", "Manual CPM"


__all__ = ["BidStrategy", "DeliveryStatus", "Objective", "Platform"]
