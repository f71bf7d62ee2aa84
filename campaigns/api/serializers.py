from __future__ import annotations

from rest_framework import serializers

from campaigns.models import Ad, AdAccount, AdGroup, Campaign, Creative


class AdAccountSerializer(serializers.ModelSerializer[AdAccount]):
    class Meta:
        model = AdAccount
        fields = [
            "id", "platform", "external_id", "name", "currency", "time_zone", "status",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    platform = serializers.CharField(source="ad_account.platform", read_only=True)
    currency = serializers.CharField(source="ad_account.currency", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id", "ad_account", "platform", "external_id", "name", "objective", "status",
            "currency", "daily_budget", "lifetime_budget", "bid_strategy", "bid_amount",
            "start_date", "end_date", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class AdGroupSerializer(serializers.ModelSerializer[AdGroup]):
    class Meta:
        model = AdGroup
        fields = [
            "id", "campaign", "external_id", "name", "status", "daily_budget", "bid_amount",
            "targeting", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CreativeSerializer(serializers.ModelSerializer[Creative]):
    # Empty when the creative has no image/video, so not documented as a URI.
    image_url = serializers.CharField(read_only=True)
    video_url = serializers.CharField(read_only=True)

    class Meta:
        model = Creative
        fields = [
            "id", "external_id", "name", "headline", "body", "call_to_action", "image_url",
            "video_url", "format",
        ]  # fmt: skip
        read_only_fields = fields


class AdSerializer(serializers.ModelSerializer[Ad]):
    creative = CreativeSerializer(read_only=True)

    class Meta:
        model = Ad
        fields = [
            "id", "ad_group", "campaign", "external_id", "name", "status", "creative",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields
