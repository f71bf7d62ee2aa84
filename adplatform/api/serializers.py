from __future__ import annotations

from rest_framework import serializers

from adplatform.models import Organization


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "currency", "time_zone", "created_at"]
        read_only_fields = ["id", "slug", "created_at"]

    def validate_currency(self, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError("Use a three-letter ISO 4217 code, e.g. USD.")
        return value.upper()
