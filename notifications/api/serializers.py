from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from notifications.models import Delivery, Notification, WebhookEndpoint, WebhookFormat
from notifications.registry import Priority, all_types, type_choices


class OrganizationRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    is_read = serializers.SerializerMethodField()
    organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "organization",
            "type",
            "priority",
            "title",
            "body",
            "action_url",
            "data",
            "count",
            "is_read",
            "recipient",
            "created_at",
            "last_occurred_at",
            "expires_at",
        ]
        read_only_fields = fields

    def get_is_read(self, notification: Notification) -> bool:
        return bool(getattr(notification, "is_read", False))


def partner_type_choices() -> list[tuple[str, str]]:
    return [(t.key, t.label) for t in all_types() if t.partner_may_raise]


class NotificationCreateSerializer(serializers.Serializer[Any]):
    """What a partner system may raise: a system update or user activity for its organization."""

    type = serializers.ChoiceField(choices=[])
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="Template context; system_update needs `message` (and may set `title`, `url`, "
        "`subject`), user_activity needs `action` (and may set `actor`, `message`, `url`, `subject`)."
    )
    expires_at = serializers.DateTimeField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = partner_type_choices()  # type: ignore[attr-defined]

    def validate_expires_at(self, value: Any) -> Any:
        if value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from notifications.registry import get_type

        required = get_type(attrs["type"]).required_keys
        missing = [key for key in required if not str(attrs["data"].get(key) or "").strip()]
        if missing:
            raise serializers.ValidationError(
                {"data": [f"Missing {', '.join(missing)} for {attrs['type']}."]}
            )
        if len(str(attrs["data"])) > 20_000:
            raise serializers.ValidationError({"data": ["At most 20,000 characters of data."]})
        return attrs


class TypePreferenceSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=[])
    email = serializers.BooleanField()
    web_push = serializers.BooleanField()
    min_priority = serializers.ChoiceField(choices=Priority.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = type_choices()  # type: ignore[attr-defined]


class PreferencesSerializer(serializers.Serializer[Any]):
    time_zone = serializers.CharField()
    quiet_hours_start = serializers.TimeField(allow_null=True, required=False)
    quiet_hours_end = serializers.TimeField(allow_null=True, required=False)
    email_digest = serializers.BooleanField()
    types = TypePreferenceSerializer(many=True, required=False)

    def validate_time_zone(self, value: str) -> str:
        import zoneinfo

        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"Unknown time zone {value!r}.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("quiet_hours_start") is None) != (attrs.get("quiet_hours_end") is None):
            raise serializers.ValidationError(
                {"quiet_hours_end": ["Quiet hours need both a start and an end."]}
            )
        return attrs


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    """The URL and secret are write-only: both are secrets (a Slack URL carries its token)."""

    url = serializers.URLField(write_only=True, max_length=2000)
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        min_length=16,
        max_length=200,
        help_text="HMAC-SHA256 key for X-Adplatform-Signature. Leave out to have one generated; "
        "it is returned once, in the create response only.",
    )
    format = serializers.ChoiceField(choices=WebhookFormat.choices, default=WebhookFormat.JSON)
    types = serializers.ListField(child=serializers.ChoiceField(choices=[]), required=False)
    min_priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.LOW)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "name",
            "url",
            "url_hint",
            "secret",
            "format",
            "types",
            "min_priority",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "url_hint", "created_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["types"].child.choices = type_choices()  # type: ignore[attr-defined]


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "notification",
            "channel",
            "status",
            "attempts",
            "response_status",
            "error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields
