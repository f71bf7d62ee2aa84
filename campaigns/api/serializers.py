from __future__ import annotations

import datetime as dt
from decimal import Context, Decimal
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.manager import BaseManager
from django.utils import timezone
from rest_framework import serializers

from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    BidStrategy,
    Campaign,
    CampaignChange,
    Creative,
    DeliveryStatus,
    Objective,
    SyncKind,
    SyncRun,
)
from integrations.models import Connection


class AdAccountSerializer(serializers.ModelSerializer[AdAccount]):
    class Meta:
        model = AdAccount
        fields = [
            "id", "platform", "external_id", "name", "currency", "time_zone", "status",
            "connection", "metrics_synced_until", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


# What a campaign row is read as for the API: the model's columns, and the account's
# platform and currency under their API names (see CampaignSerializer.to_representation).
CAMPAIGN_ROW_COLUMNS = (
    "id", "ad_account", "external_id", "name", "objective", "status", "daily_budget",
    "lifetime_budget", "bid_strategy", "bid_amount", "start_date", "end_date", "created_at",
    "updated_at",
)  # fmt: skip
CAMPAIGN_ROW_EXPRESSIONS = {
    "platform": F("ad_account__platform"),
    "currency": F("ad_account__currency"),
}


def campaign_rows(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign, dict[str, Any]]:
    """The campaigns as plain rows, enough for CampaignSerializer and cheaper than instances."""
    return campaigns.values(*CAMPAIGN_ROW_COLUMNS, **CAMPAIGN_ROW_EXPRESSIONS)


_MONEY_QUANTUM = Decimal("0.0001")
_MONEY_CONTEXT = Context(prec=18)


def _money(value: Decimal | None) -> str | None:
    # As DRF's DecimalField(max_digits=18, decimal_places=4) writes it.
    return None if value is None else f"{value.quantize(_MONEY_QUANTUM, context=_MONEY_CONTEXT):f}"


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _datetime(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    # As DRF's DateTimeField writes it: in the current time zone, "Z" for UTC.
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _CampaignListSerializer(serializers.ListSerializer[Campaign]):
    child: CampaignSerializer

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        items = data.all() if isinstance(data, BaseManager) else data
        zone = timezone.get_current_timezone()  # once per page, not per campaign
        return [self.child.represent(item, zone) for item in items]


# The declared fields define the schema (a docstring here would become its description);
# `to_representation` writes the same JSON by hand, because DRF's field-by-field walk was
# the largest single cost of a campaign list. Tests compare the two on every field.
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
        list_serializer_class = _CampaignListSerializer

    def to_representation(self, instance: Campaign | dict[str, Any]) -> dict[str, Any]:
        """`instance` is a Campaign (its account loaded) or a row from `campaign_rows`."""
        return self.represent(instance, timezone.get_current_timezone())

    def represent(self, instance: Campaign | dict[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
        row = instance if isinstance(instance, dict) else _campaign_row(instance)
        return {
            "id": row["id"],
            "ad_account": row["ad_account"],
            "platform": row["platform"],
            "external_id": row["external_id"],
            "name": row["name"],
            "objective": row["objective"],
            "status": row["status"],
            "currency": row["currency"],
            "daily_budget": _money(row["daily_budget"]),
            "lifetime_budget": _money(row["lifetime_budget"]),
            "bid_strategy": row["bid_strategy"],
            "bid_amount": _money(row["bid_amount"]),
            "start_date": _date(row["start_date"]),
            "end_date": _date(row["end_date"]),
            "created_at": _datetime(row["created_at"], zone),
            "updated_at": _datetime(row["updated_at"], zone),
        }


def _campaign_row(campaign: Campaign) -> dict[str, Any]:
    row = {name: getattr(campaign, name) for name in CAMPAIGN_ROW_COLUMNS if name != "ad_account"}
    row["ad_account"] = campaign.ad_account_id
    row["platform"] = campaign.ad_account.platform
    row["currency"] = campaign.ad_account.currency
    return row


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


def _money_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=18, decimal_places=4, min_value=Decimal(0), allow_null=False, **kwargs
    )


class CampaignUpdateSerializer(serializers.Serializer[Campaign]):
    """What PATCH may change; each field becomes one change sent to the platform."""

    status = serializers.ChoiceField(
        choices=[DeliveryStatus.ACTIVE, DeliveryStatus.PAUSED],
        required=False,
        help_text="active or paused; DELETE archives.",
    )
    daily_budget = _money_field(required=False)
    lifetime_budget = _money_field(required=False)
    bid_amount = _money_field(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not {"status", "daily_budget", "lifetime_budget", "bid_amount"} & set(attrs):
            raise serializers.ValidationError(
                "Give at least one of status, daily_budget, lifetime_budget, bid_amount."
            )
        return attrs


class CampaignCreateSerializer(serializers.Serializer[Campaign]):
    ad_account = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    name = serializers.CharField(max_length=255)
    objective = serializers.ChoiceField(choices=Objective.choices)
    status = serializers.ChoiceField(
        choices=[DeliveryStatus.ACTIVE, DeliveryStatus.PAUSED], default=DeliveryStatus.PAUSED
    )
    daily_budget = _money_field(required=False)
    lifetime_budget = _money_field(required=False)
    bid_strategy = serializers.ChoiceField(
        choices=BidStrategy.choices, default=BidStrategy.LOWEST_COST
    )
    bid_amount = _money_field(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class CampaignChangeSerializer(serializers.ModelSerializer[CampaignChange]):
    class Meta:
        model = CampaignChange
        fields = [
            "id", "campaign", "ad_account", "level", "ad_group", "ad", "kind", "params",
            "before", "after",
            "expected_before", "platform_response", "status", "error_code", "error",
            "actor_kind", "actor_label", "reason", "is_dry_run", "requested_at", "applied_at",
        ]  # fmt: skip
        read_only_fields = fields


class SyncRunSerializer(serializers.ModelSerializer[SyncRun]):
    class Meta:
        model = SyncRun
        fields = [
            "id", "connection", "kind", "status", "trigger", "since", "rows", "restated_rows",
            "attempts", "error", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class ConnectionSerializer(serializers.ModelSerializer[Connection]):
    """A connection as the API shows it: never a token, only whether one is stored."""

    ad_accounts: serializers.PrimaryKeyRelatedField[AdAccount] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    is_sandbox = serializers.BooleanField(read_only=True)

    class Meta:
        model = Connection
        fields = [
            "id", "platform", "connector", "is_sandbox", "name", "status", "status_detail",
            "resume_at", "expires_at", "last_synced_at", "created_at", "ad_accounts",
        ]  # fmt: skip
        read_only_fields = fields


class SyncRequestSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=SyncKind.choices, default=SyncKind.FULL)
    since = serializers.DateField(required=False)
